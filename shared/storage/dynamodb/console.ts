/**
 * The web console's items: sessions in this PCE's local table (`CONSOLE_SESSION#<sha256 of the token>` / SESSION,
 * TTL `expires_at` in seconds, never replicated) and password hashes in the global table
 * (`AUTH#USER#<id>#PASSWORD` / PASSWORD: an identity item, leader-written and fenced, stamped with its region).
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ConsoleSession, ConsoleSessionStore, PasswordStore } from '../../auth/console-sessions.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { isConditionalCheckFailed, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

export class DynamoDbConsoleSessionStore implements ConsoleSessionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** this PCE's local table */
    private readonly tableName: string,
  ) {}

  async put(session: ConsoleSession): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.consoleSession(session.tokenHash),
          user_id: session.userId,
          org_id: session.orgId,
          username: session.username,
          created_at: session.createdAt,
          last_seen_at: session.lastSeenAt,
          ends_at: session.expiresAt,
          expires_at: Math.ceil(session.expiresAt / 1000),
        },
      }),
    );
  }

  async get(tokenHash: string): Promise<ConsoleSession | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.consoleSession(tokenHash), ConsistentRead: true }));
    const item = out.Item;
    if (!item) return null;
    return { tokenHash, userId: Number(item.user_id), orgId: Number(item.org_id), username: String(item.username), createdAt: Number(item.created_at), lastSeenAt: Number(item.last_seen_at), expiresAt: Number(item.ends_at) };
  }

  async touch(tokenHash: string, lastSeenAt: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({ TableName: this.tableName, Key: keys.consoleSession(tokenHash), UpdateExpression: 'SET last_seen_at = :t', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':t': lastSeenAt } }),
      );
    } catch (err) {
      // signed out meanwhile: nothing to refresh
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async delete(tokenHash: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.consoleSession(tokenHash) }));
  }
}

export class DynamoDbPasswordStore implements PasswordStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** the global table (this region's replica) */
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async get(userId: number): Promise<string | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.consolePassword(userId) }));
    return typeof out.Item?.hash === 'string' ? out.Item.hash : null;
  }

  async put(userId: number, hash: string, fence: WriteFence, now: number): Promise<void> {
    await fencedTransactWrite(this.client, this.tableName, fence, [{ Put: { TableName: this.tableName, Item: { ...keys.consolePassword(userId), user_id: userId, hash, changed_at: now, ...stamp(this.region, now) } } }]);
  }

  async userIdOf(username: string): Promise<number | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.username(username) }));
    return out.Item?.user_id === undefined ? null : Number(out.Item.user_id);
  }
}
