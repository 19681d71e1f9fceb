/** Builds the DynamoDB document client the same way in Lambda, in the local cloud and in pce-ctl. */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { sleep } from '../../runtime/sleep.ts';
import { keys } from '../keys.ts';

export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

export type { DynamoDBDocumentClient };

/** True when err is a failed ConditionExpression. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException;
}

/** The per-action cancellation codes of a cancelled transaction (undefined = that action was fine), or null for any other error. */
export function cancellationCodes(err: unknown): (string | undefined)[] | null {
  if (!(err instanceof TransactionCanceledException)) return null;
  return (err.CancellationReasons ?? []).map((r) => (r.Code === 'None' ? undefined : r.Code));
}

export interface PartitionQuery {
  readonly pk: string;
  /** only items whose sort key starts with this */
  readonly skPrefix?: string;
  /** only items whose sort key is at least this (not with skPrefix) */
  readonly skFrom?: string;
  readonly consistent?: boolean;
  readonly newestFirst?: boolean;
  /** attributes to return (default: all) */
  readonly attributes?: readonly string[];
}

function keyCondition(query: PartitionQuery): { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string> } {
  if (query.skPrefix !== undefined && query.skFrom !== undefined) throw new Error('queryPartition: skPrefix or skFrom, not both');
  if (query.skPrefix !== undefined) return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': query.pk, ':prefix': query.skPrefix } };
  if (query.skFrom !== undefined) return { KeyConditionExpression: 'pk = :pk AND sk >= :from', ExpressionAttributeValues: { ':pk': query.pk, ':from': query.skFrom } };
  return { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': query.pk } };
}

/** Every item of one partition (optionally a sort-key prefix, or from a sort key on), following pagination. */
export async function queryPartition(client: DynamoDBDocumentClient, tableName: string, query: PartitionQuery): Promise<Record<string, unknown>[]> {
  const names = query.attributes ? Object.fromEntries(query.attributes.map((a, i) => [`#a${i}`, a])) : undefined;
  const items: Record<string, unknown>[] = [];
  let startKey: QueryCommandOutput['LastEvaluatedKey'];
  do {
    const out: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: tableName,
        ...keyCondition(query),
        ...(names ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : {}),
        ConsistentRead: query.consistent ?? false,
        ScanIndexForward: !query.newestFirst,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * Reads of `itemKeys` in one replica with BatchGetItem (100 keys a request, consistent unless
 * `consistent: false`), retrying the keys DynamoDB leaves unprocessed; the items found, in no particular order.
 */
export async function getItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  itemKeys: readonly { pk: string; sk: string }[],
  options: { consistent?: boolean } = {},
): Promise<Readonly<Record<string, unknown>>[]> {
  const found: Record<string, unknown>[] = [];
  for (let i = 0; i < itemKeys.length; i += 100) {
    let request: Record<string, unknown>[] = itemKeys.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk }));
    for (let attempt = 1; request.length > 0; attempt++) {
      if (attempt > 8) throw new Error(`BatchGetItem on ${tableName}: ${request.length} key(s) still unprocessed after 8 attempts`);
      const out: BatchGetCommandOutput = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: request, ConsistentRead: options.consistent ?? true } } }));
      found.push(...(out.Responses?.[tableName] ?? []));
      request = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (request.length > 0) await sleep(Math.min(1_000, 20 * 2 ** attempt));
    }
  }
  return found;
}

/** Attempts per BatchWriteItem request before unprocessed items are an error. */
export const BATCH_WRITE_ATTEMPTS = 8;

/**
 * Puts `items` with BatchWriteItem (25 per request, `concurrency` requests in flight), retrying the
 * items DynamoDB leaves unprocessed with exponential backoff; throws if some are still unprocessed
 * after BATCH_WRITE_ATTEMPTS attempts.
 */
export async function batchPutAll(client: DynamoDBDocumentClient, tableName: string, items: readonly Record<string, unknown>[], options: { concurrency?: number } = {}): Promise<void> {
  const parts = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, (i + 1) * 25));
  let next = 0;
  const worker = async () => {
    while (next < parts.length) {
      const part = parts[next++] ?? [];
      let requests = part.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        if (attempt > BATCH_WRITE_ATTEMPTS) throw new Error(`BatchWriteItem on ${tableName}: ${requests.length} item(s) still unprocessed after ${BATCH_WRITE_ATTEMPTS} attempts`);
        const out: BatchWriteCommandOutput = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (out.UnprocessedItems?.[tableName] ?? []).flatMap((r) => (r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : []));
        if (requests.length > 0) await sleep(Math.min(1_000, 20 * 2 ** attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 1, parts.length) }, worker));
}

/**
 * The next object id of the org for `counter` (`LABEL`, `PAIRING_PROFILE`, ...), from an atomic counter of
 * the leadership epoch: id = epoch * idsPerEpoch + n. Outside any transaction, so concurrent creates never
 * contend for one value; an id whose write then fails is simply skipped (ADR 0001).
 */
export async function allocateObjectId(client: DynamoDBDocumentClient, tableName: string, input: { orgId: number; counter: string; epoch: number; region: string; now: number; idsPerEpoch: number }): Promise<number> {
  const allocated = await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: keys.counter(input.orgId, input.counter, input.epoch),
      UpdateExpression: 'ADD #last :one SET origin_region = :region, updated_at = :now',
      ExpressionAttributeNames: { '#last': 'last' },
      ExpressionAttributeValues: { ':one': 1, ':region': input.region, ':now': input.now },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return input.epoch * input.idsPerEpoch + Number(allocated.Attributes?.last);
}
