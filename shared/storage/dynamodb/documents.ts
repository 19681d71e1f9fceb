/**
 * DocumentStore on the global table: `ORG#<org>#<FAMILY>` holds the family's documents (`DOC#<id>`) and
 * their unique claims (`CLAIM#<claim>`); every write is one fenced transaction (leader record check first),
 * every item stamped with the writer region (the leader's) and its update time.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DocumentChangedError, DocumentClaimTakenError, type DocumentStore, type DocumentWrite, type StoredDocument } from '../../documents/document-store.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { cancellationCodes, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

/** The document families (partition suffixes) */
export const LABEL_DIMENSIONS_FAMILY = 'LABEL_DIMENSIONS';
export const CONTAINER_CLUSTERS_FAMILY = 'CONTAINER_CLUSTERS';

const DOC = 'DOC#';
const CLAIM = 'CLAIM#';

function toDocument(item: Record<string, unknown>): StoredDocument {
  return { id: String(item.id), body: (item.body ?? {}) as Record<string, unknown>, createdAt: Number(item.created_at), updatedAt: Number(item.updated_at) };
}

export class DynamoDbDocumentStore implements DocumentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
    /** the family's partition suffix, e.g. LABEL_DIMENSIONS */
    private readonly family: string,
  ) {}

  private pk(orgId: number): string {
    return keys.documents(orgId, this.family);
  }

  private item(pk: string, d: StoredDocument) {
    return { pk, sk: `${DOC}${d.id}`, id: d.id, body: d.body, created_at: d.createdAt, ...stamp(this.region, d.updatedAt) };
  }

  async list(orgId: number, idPrefix = ''): Promise<StoredDocument[]> {
    const items = await queryPartition(this.client, this.tableName, { pk: this.pk(orgId), skPrefix: `${DOC}${idPrefix}` });
    return items.map(toDocument);
  }

  async get(orgId: number, id: string, options: { consistent?: boolean } = {}): Promise<StoredDocument | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: this.pk(orgId), sk: `${DOC}${id}` }, ConsistentRead: options.consistent ?? false }));
    return out.Item ? toDocument(out.Item) : null;
  }

  async put(orgId: number, write: DocumentWrite, fence: WriteFence): Promise<void> {
    const pk = this.pk(orgId);
    const { next } = write;
    const condition =
      write.expectedUpdatedAt === null
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'updated_at = :seen', ExpressionAttributeValues: { ':seen': write.expectedUpdatedAt } };
    const claims = write.claim ?? [];
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        { Put: { TableName: this.tableName, Item: this.item(pk, next), ...condition } },
        ...claims.map((c) => ({ Put: { TableName: this.tableName, Item: { pk, sk: `${CLAIM}${c}`, id: next.id, ...stamp(this.region, next.updatedAt) }, ConditionExpression: 'attribute_not_exists(pk)' } })),
        ...(write.release ?? []).filter((c) => !claims.includes(c)).map((c) => ({ Delete: { TableName: this.tableName, Key: { pk, sk: `${CLAIM}${c}` } } })),
        ...(write.alsoCreate ?? []).map((d) => ({ Put: { TableName: this.tableName, Item: this.item(pk, d), ConditionExpression: 'attribute_not_exists(pk)' } })),
      ]);
    } catch (err) {
      const codes = cancellationCodes(err);
      if (!codes) throw err;
      const taken = claims.findIndex((_, i) => codes[i + 2] === 'ConditionalCheckFailed');
      if (taken >= 0) throw new DocumentClaimTakenError(`${claims[taken]} is already taken`, { cause: err });
      if (codes[1] === 'ConditionalCheckFailed') throw new DocumentChangedError(write.expectedUpdatedAt === null ? `${next.id} already exists` : `${next.id} changed while being written`, { cause: err });
      throw err;
    }
  }

  async delete(orgId: number, current: StoredDocument, fence: WriteFence, release: readonly string[] = []): Promise<void> {
    const pk = this.pk(orgId);
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        { Delete: { TableName: this.tableName, Key: { pk, sk: `${DOC}${current.id}` }, ConditionExpression: 'updated_at = :seen', ExpressionAttributeValues: { ':seen': current.updatedAt } } },
        ...release.map((c) => ({ Delete: { TableName: this.tableName, Key: { pk, sk: `${CLAIM}${c}` } } })),
      ]);
    } catch (err) {
      const codes = cancellationCodes(err);
      if (codes?.[1] === 'ConditionalCheckFailed') throw new DocumentChangedError(`${current.id} changed or was deleted meanwhile`, { cause: err });
      throw err;
    }
  }
}
