import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DuplicateLabelError, LabelChangedError, type Label, type LabelKey, type LabelStore } from '../../labels/label.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { allocateObjectId, cancellationCodes, getItems, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

/** Ids are allocated per leadership epoch so that two leaders in sequence never hand out the same id. */
export const IDS_PER_EPOCH = 1_000_000_000;

type LabelItem = Record<string, unknown>;

function toLabel(item: LabelItem): Label {
  return {
    orgId: Number(item.org_id),
    id: Number(item.id),
    key: item.key as LabelKey,
    value: String(item.value),
    externalDataSet: (item.external_data_set as string | null | undefined) ?? null,
    externalDataReference: (item.external_data_reference as string | null | undefined) ?? null,
    createdAt: Number(item.created_at),
    updatedAt: Number(item.updated_at),
    createdBy: Number(item.created_by),
    updatedBy: Number(item.updated_by),
  };
}

function toItem(label: Label, region: string) {
  return {
    ...keys.label(label.orgId, label.id),
    org_id: label.orgId,
    id: label.id,
    key: label.key,
    value: label.value,
    external_data_set: label.externalDataSet,
    external_data_reference: label.externalDataReference,
    created_at: label.createdAt,
    created_by: label.createdBy,
    updated_by: label.updatedBy,
    ...stamp(region, label.updatedAt),
  };
}

export class DynamoDbLabelStore implements LabelStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async list(orgId: number): Promise<Label[]> {
    const items = await queryPartition(this.client, this.tableName, { pk: keys.labelPartition(orgId) });
    return items.map(toLabel);
  }

  async get(orgId: number, id: number, options: { consistent?: boolean } = {}): Promise<Label | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.label(orgId, id), ConsistentRead: options.consistent ?? false }));
    return out.Item ? toLabel(out.Item) : null;
  }

  async getMany(orgId: number, ids: readonly number[], options: { consistent?: boolean } = {}): Promise<Label[]> {
    const items = await getItems(this.client, this.tableName, [...new Set(ids)].map((id) => keys.label(orgId, id)), options);
    return items.map((item) => toLabel({ ...item }));
  }

  async create(
    input: { orgId: number; key: LabelKey; value: string; externalDataSet: string | null; externalDataReference: string | null; userId: number; now: number },
    fence: WriteFence,
  ): Promise<Label> {
    const id = await allocateObjectId(this.client, this.tableName, { orgId: input.orgId, counter: 'LABEL', epoch: fence.epoch, region: this.region, now: input.now, idsPerEpoch: IDS_PER_EPOCH });
    const label: Label = {
      orgId: input.orgId,
      id,
      key: input.key,
      value: input.value,
      externalDataSet: input.externalDataSet,
      externalDataReference: input.externalDataReference,
      createdAt: input.now,
      updatedAt: input.now,
      createdBy: input.userId,
      updatedBy: input.userId,
    };
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        { Put: { TableName: this.tableName, Item: toItem(label, this.region), ConditionExpression: 'attribute_not_exists(pk)' } },
        {
          Put: {
            TableName: this.tableName,
            Item: { ...keys.labelUnique(label.orgId, label.key, label.value), label_id: label.id, ...stamp(this.region, input.now) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]);
      return label;
    } catch (err) {
      const codes = cancellationCodes(err);
      if (!codes) throw err;
      if (codes[2] === 'ConditionalCheckFailed') throw new DuplicateLabelError(`a ${label.key} label with value "${label.value}" already exists`, { cause: err });
      if (codes[1]) throw new LabelChangedError('label id already taken; retry', { cause: err });
      throw err;
    }
  }

  async update(current: Label, next: Label, fence: WriteFence): Promise<void> {
    const valueChanged = current.value.toLowerCase() !== next.value.toLowerCase();
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        {
          Put: {
            TableName: this.tableName,
            Item: toItem(next, this.region),
            ConditionExpression: 'updated_at = :seen',
            ExpressionAttributeValues: { ':seen': current.updatedAt },
          },
        },
        ...(valueChanged
          ? [
              { Delete: { TableName: this.tableName, Key: keys.labelUnique(current.orgId, current.key, current.value) } },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...keys.labelUnique(next.orgId, next.key, next.value), label_id: next.id, ...stamp(this.region, next.updatedAt) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ]
          : []),
      ]);
    } catch (err) {
      const codes = cancellationCodes(err);
      if (!codes) throw err;
      if (codes[3] === 'ConditionalCheckFailed') throw new DuplicateLabelError(`a ${next.key} label with value "${next.value}" already exists`, { cause: err });
      if (codes[1]) throw new LabelChangedError('the label changed while being updated; retry', { cause: err });
      throw err;
    }
  }

  async delete(label: Label, fence: WriteFence): Promise<void> {
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        { Delete: { TableName: this.tableName, Key: keys.label(label.orgId, label.id), ConditionExpression: 'attribute_exists(pk)' } },
        { Delete: { TableName: this.tableName, Key: keys.labelUnique(label.orgId, label.key, label.value) } },
      ]);
    } catch (err) {
      const codes = cancellationCodes(err);
      if (!codes) throw err;
      if (codes[1]) throw new LabelChangedError('the label was already deleted', { cause: err });
      throw err;
    }
  }
}
