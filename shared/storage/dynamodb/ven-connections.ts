/**
 * The open VEN channels of this PCE, in its local table (never replicated: a VEN's channel is held by
 * the PCE it reached). Two items per connection (shared/storage/ven-keys.ts):
 * - `VEN_CONNECTIONS` / `AGENT#<agent id>`: the agent's current connection, what the publisher lists
 *   (one Query of the partition's AGENT# items) and notifyVen looks up;
 * - `VEN_CONNECTIONS` / `CONN#<connection id>`: the agent behind a connection id, for `$disconnect`,
 *   which knows only the id.
 * A reconnect replaces the agent item and removes the old connection's item. Both items carry the TTL
 * attribute `expires_at`: API Gateway closes a connection after 2 hours at the latest, and a lost
 * `$disconnect` must not leave a connection listed forever (expired items are also skipped on read,
 * since DynamoDB deletes expired items lazily).
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { VEN_CHANNEL_LIMITS } from '../../ven/channel-service.ts';
import type { VenConnection, VenConnectionStore } from '../../ven/ports.ts';
import { venKeys } from '../ven-keys.ts';
import { isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';

/** How long after connecting an item expires: the longest a connection lives, plus a margin. */
export const CONNECTION_ITEM_TTL_SECONDS = VEN_CHANNEL_LIMITS.maxConnectionSeconds + 10 * 60;

const AGENT_PREFIX = venKeys.connectionByAgent('').sk;

export class DynamoDbVenConnectionStore implements VenConnectionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** this PCE's local table */
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(c: VenConnection): Promise<void> {
    const expiresAt = Math.floor(c.connectedAt / 1000) + CONNECTION_ITEM_TTL_SECONDS;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...venKeys.connectionById(c.connectionId), agent_id: c.agentId, connected_at: c.connectedAt, expires_at: expiresAt },
      }),
    );
    let previous: Record<string, unknown> | undefined;
    try {
      const out = await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...venKeys.connectionByAgent(c.agentId), connection_id: c.connectionId, agent_id: c.agentId, org_id: c.orgId, workload_id: c.workloadId, connected_at: c.connectedAt, expires_at: expiresAt },
          // a $connect handled late must not replace a newer connection of the same agent
          ConditionExpression: 'attribute_not_exists(pk) OR connected_at <= :at',
          ExpressionAttributeValues: { ':at': c.connectedAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      previous = out.Attributes;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      await this.deleteConnectionItem(c.connectionId, c.agentId); // superseded already
      return;
    }
    const previousId = previous?.connection_id;
    if (typeof previousId === 'string' && previousId !== c.connectionId) await this.deleteConnectionItem(previousId, c.agentId);
  }

  async remove(connectionId: string): Promise<void> {
    const out = await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: venKeys.connectionById(connectionId), ReturnValues: 'ALL_OLD' }));
    const agentId = out.Attributes?.agent_id;
    if (typeof agentId !== 'string') return; // gone already, or replaced by a reconnect
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: venKeys.connectionByAgent(agentId),
          ConditionExpression: 'connection_id = :id',
          ExpressionAttributeValues: { ':id': connectionId },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err; // the agent reconnected under another id meanwhile
    }
  }

  async list(): Promise<VenConnection[]> {
    const items = await queryPartition(this.client, this.tableName, { pk: venKeys.connectionPartition(), skPrefix: AGENT_PREFIX });
    const nowSeconds = Math.floor(this.now() / 1000);
    return items.flatMap((item) => {
      const connection = connectionOf(item, nowSeconds);
      return connection ? [connection] : [];
    });
  }

  async byAgent(agentId: string): Promise<VenConnection | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: venKeys.connectionByAgent(agentId) }));
    return out.Item ? connectionOf(out.Item, Math.floor(this.now() / 1000)) : null;
  }

  private async deleteConnectionItem(connectionId: string, agentId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: venKeys.connectionById(connectionId),
          ConditionExpression: 'agent_id = :agent',
          ExpressionAttributeValues: { ':agent': agentId },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}

function connectionOf(item: Record<string, unknown>, nowSeconds: number): VenConnection | null {
  if (typeof item.connection_id !== 'string' || typeof item.agent_id !== 'string') return null;
  if (typeof item.expires_at === 'number' && item.expires_at <= nowSeconds) return null;
  return {
    connectionId: item.connection_id,
    agentId: item.agent_id,
    orgId: Number(item.org_id),
    workloadId: String(item.workload_id),
    connectedAt: Number(item.connected_at),
  };
}
