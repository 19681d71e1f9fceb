import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, ApiKeyStore } from '../../auth/api-keys.ts';
import type { ApiKeyMeta } from '../../auth/identity.ts';
import type { Role } from '../../auth/permissions.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { cancellationCodes, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

/** The attributes an API key item and its index entry share (everything but the secret hash). */
export function apiKeyMetaAttributes(record: ApiKeyMeta) {
  return {
    auth_username: record.authUsername,
    key_id: record.keyId,
    user_id: record.userId,
    org_id: record.orgId,
    created_at: record.createdAt,
    ...(record.role ? { role: record.role } : {}),
    ...(record.scope ? { scope: [...record.scope] } : {}),
    ...(record.name !== undefined ? { name: record.name } : {}),
    ...(record.description !== undefined ? { description: record.description } : {}),
    ...(record.expiresAt != null ? { expires_at: record.expiresAt } : {}),
  };
}

export function apiKeyMetaOf(item: Record<string, unknown>): ApiKeyMeta {
  return {
    authUsername: String(item.auth_username),
    keyId: String(item.key_id),
    userId: Number(item.user_id),
    orgId: Number(item.org_id),
    createdAt: Number(item.created_at),
    ...(typeof item.role === 'string' ? { role: item.role as Role } : {}),
    ...(Array.isArray(item.scope) ? { scope: (item.scope as unknown[]).map(String) } : {}),
    ...(typeof item.name === 'string' ? { name: item.name } : {}),
    ...(typeof item.description === 'string' ? { description: item.description } : {}),
    ...(typeof item.expires_at === 'number' ? { expiresAt: item.expires_at } : {}),
  };
}

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
    return { ...apiKeyMetaOf(item), secretHash: String(item.secret_hash) };
  }

  /** The key item and its entry in the user's key index (no secret hash there), both created only if absent. */
  private puts(record: ApiKeyRecord) {
    const { secretHash, ...meta } = record;
    const common = { ...apiKeyMetaAttributes(meta), ...stamp(this.region, record.createdAt) };
    return [
      { Put: { TableName: this.tableName, Item: { ...keys.apiKey(record.authUsername), ...common, secret_hash: secretHash }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: this.tableName, Item: { ...keys.userApiKey(record.userId, record.keyId), ...common }, ConditionExpression: 'attribute_not_exists(pk)' } },
    ];
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
            ...this.puts(record),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (cancellationCodes(err)?.some((c) => c === 'ConditionalCheckFailed')) return false;
      throw err;
    }
  }

  async put(record: ApiKeyRecord, fence?: WriteFence): Promise<boolean> {
    try {
      if (fence) await fencedTransactWrite(this.client, this.tableName, fence, this.puts(record));
      else await this.client.send(new TransactWriteCommand({ TransactItems: this.puts(record) }));
      return true;
    } catch (err) {
      if (cancellationCodes(err)?.some((c) => c === 'ConditionalCheckFailed')) return false;
      throw err;
    }
  }
}
