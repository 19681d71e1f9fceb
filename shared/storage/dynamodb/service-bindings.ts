/**
 * Service bindings: one global-table item each (`keys.serviceBinding`, partition ORG#<org>#SERVICE_BINDINGS),
 * written by the leader in fenced transactions, stamped.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { PortOverride, ServiceBinding, ServiceBindingStore } from '../../policy/bindings/service-bindings.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { cancellationCodes, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

type Item = Record<string, unknown>;

function toBinding(item: Item): ServiceBinding {
  return {
    id: String(item.id),
    orgId: Number(item.org_id),
    virtualServiceId: Number(item.virtual_service_id),
    workloadId: String(item.workload_id),
    portOverrides: Array.isArray(item.port_overrides) ? (item.port_overrides as PortOverride[]) : [],
    externalDataSet: typeof item.external_data_set === 'string' ? item.external_data_set : null,
    externalDataReference: typeof item.external_data_reference === 'string' ? item.external_data_reference : null,
    createdAt: Number(item.created_at),
    createdBy: Number(item.created_by),
  };
}

export class DynamoDbServiceBindingStore implements ServiceBindingStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async list(orgId: number): Promise<ServiceBinding[]> {
    return (await queryPartition(this.client, this.tableName, { pk: keys.serviceBindingsPartition(orgId), consistent: true })).map(toBinding);
  }

  async get(orgId: number, id: string): Promise<ServiceBinding | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.serviceBinding(orgId, id), ConsistentRead: true }));
    return out.Item ? toBinding(out.Item) : null;
  }

  async create(bindings: readonly ServiceBinding[], fence: WriteFence): Promise<void> {
    // a transaction holds at most 100 actions (the fence is one): larger lists go in several
    for (let i = 0; i < bindings.length; i += 99) {
      await fencedTransactWrite(
        this.client,
        this.tableName,
        fence,
        bindings.slice(i, i + 99).map((b) => ({
          Put: {
            TableName: this.tableName,
            Item: {
              ...keys.serviceBinding(b.orgId, b.id),
              id: b.id,
              org_id: b.orgId,
              virtual_service_id: b.virtualServiceId,
              workload_id: b.workloadId,
              port_overrides: b.portOverrides.map((o) => ({ ...o })),
              external_data_set: b.externalDataSet,
              external_data_reference: b.externalDataReference,
              created_at: b.createdAt,
              created_by: b.createdBy,
              ...stamp(this.region, b.createdAt),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
      );
    }
  }

  async delete(orgId: number, id: string, fence: WriteFence): Promise<boolean> {
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [{ Delete: { TableName: this.tableName, Key: keys.serviceBinding(orgId, id), ConditionExpression: 'attribute_exists(pk)' } }]);
      return true;
    } catch (err) {
      if (cancellationCodes(err)?.[1] === 'ConditionalCheckFailed') return false;
      throw err;
    }
  }
}
