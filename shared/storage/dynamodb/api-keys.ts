import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, ApiKeyStore } from '../../auth/api-keys.ts';
import type { Role } from '../../auth/permissions.ts';
import { keys, stamp } from '../keys.ts';
import { cancellationCodes, isConditionalCheckFailed, type DynamoDBDocumentClient } from './client.ts';

export class DynamoDbApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async get(authUsername: string): Promise<ApiKeyRecord | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(authUsername) }));
    const item = out.Item;
    if (!item) return null;
    return {
      authUsername: String(item.auth_username),
      secretHash: String(item.secret_hash),
      keyId: String(item.key_id),
      userId: Number(item.user_id),
      orgId: Number(item.org_id),
      createdAt: Number(item.created_at),
      ...(typeof item.role === 'string' ? { role: item.role as Role } : {}),
      ...(Array.isArray(item.scope) ? { scope: (item.scope as unknown[]).map(String) } : {}),
    };
  }

  private item(record: ApiKeyRecord) {
    return {
      ...keys.apiKey(record.authUsername),
      auth_username: record.authUsername,
      secret_hash: record.secretHash,
      key_id: record.keyId,
      user_id: record.userId,
      org_id: record.orgId,
      created_at: record.createdAt,
      ...(record.role ? { role: record.role } : {}),
      ...(record.scope ? { scope: [...record.scope] } : {}),
      ...stamp(this.region, record.createdAt),
    };
  }

  async putBootstrap(record: ApiKeyRecord): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              // the marker makes "create the bootstrap key" happen once, however often init is re-run
              Put: { TableName: this.tableName, Item: { ...keys.bootstrapKeyMarker(), auth_username: record.authUsername, ...stamp(this.region, record.createdAt) }, ConditionExpression: 'attribute_not_exists(pk)' },
            },
            { Put: { TableName: this.tableName, Item: this.item(record), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (cancellationCodes(err)?.some((c) => c === 'ConditionalCheckFailed')) return false;
      throw err;
    }
  }

  async put(record: ApiKeyRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }
}
