/** Listen-only mode of this PCE: the `PCE` / `LISTEN_ONLY` item of its local table (`enabled_at`, ms), absent when off. */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ListenOnlyStore } from '../../ven/ports.ts';
import { venKeys } from '../ven-keys.ts';
import { isConditionalCheckFailed, type DynamoDBDocumentClient } from './client.ts';

export class DynamoDbListenOnlyStore implements ListenOnlyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** this PCE's local table */
    private readonly tableName: string,
  ) {}

  async get(): Promise<{ enabledAt: number } | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: venKeys.listenOnly(), ConsistentRead: true }));
    const enabledAt = out.Item?.enabled_at;
    return typeof enabledAt === 'number' ? { enabledAt } : null;
  }

  async enable(at: number): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...venKeys.listenOnly(), enabled_at: at },
          // enabling twice keeps the first time
          ConditionExpression: 'attribute_not_exists(enabled_at)',
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async disable(): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: venKeys.listenOnly() }));
  }
}
