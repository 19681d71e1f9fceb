/**
 * API rate-limit counters in this PCE's local table (not replicated): item RATE#<auth_username> /
 * <epoch minute> with `requests` and the TTL attribute `expires_at`. One UpdateItem per request:
 * ADD creates the item at 1 or adds 1, atomically across Lambda instances, and returns the new count.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateWindow, RequestCounterStore } from '../../auth/rate-limit.ts';
import { keys } from '../keys.ts';
import type { DynamoDBDocumentClient } from './client.ts';

export class DynamoDbRequestCounterStore implements RequestCounterStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** this PCE's local table */
    private readonly tableName: string,
  ) {}

  async increment(key: string, window: RateWindow): Promise<number> {
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.rateCounter(key, window.minute),
        UpdateExpression: 'ADD requests :one SET expires_at = :expires',
        ExpressionAttributeValues: { ':one': 1, ':expires': window.expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const count = out.Attributes?.requests;
    if (typeof count !== 'number' || !Number.isFinite(count)) throw new Error(`rate counter ${key}/${window.minute}: UpdateItem returned no request count`);
    return count;
  }
}
