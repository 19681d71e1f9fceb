/**
 * The VEN side's items in this PCE's local table (never replicated): heartbeats, the count of VENs the
 * PCE manages and uploaded flow summaries (keys: shared/storage/ven-keys.ts).
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { AgentCountStore, FlowSummaryStore, HeartbeatRecord, HeartbeatStore } from '../../ven/ports.ts';
import type { FlowSummaryRequestV1 } from '../../ven/protocol.ts';
import { venKeys } from '../ven-keys.ts';
import { batchPutAll, isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function toHeartbeat(item: Record<string, unknown>): HeartbeatRecord {
  return {
    agentId: String(item.sk),
    workloadId: String(item.workload_id),
    lastHeartbeatAt: Number(item.last_heartbeat_at),
    uptimeSeconds: Number(item.uptime_seconds),
    appliedVersion: num(item.applied_version),
    appliedRulesHash: typeof item.applied_rules_hash === 'string' ? item.applied_rules_hash : null,
    appliedAt: num(item.applied_at),
    goodbyeAt: num(item.goodbye_at),
  };
}

export class DynamoDbHeartbeatStore implements HeartbeatStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(orgId: number, r: HeartbeatRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...venKeys.heartbeat(orgId, r.agentId),
          workload_id: r.workloadId,
          last_heartbeat_at: r.lastHeartbeatAt,
          uptime_seconds: r.uptimeSeconds,
          applied_version: r.appliedVersion,
          applied_rules_hash: r.appliedRulesHash,
          applied_at: r.appliedAt,
          goodbye_at: r.goodbyeAt,
        },
      }),
    );
  }

  async get(orgId: number, agentId: string): Promise<HeartbeatRecord | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: venKeys.heartbeat(orgId, agentId) }));
    return out.Item ? toHeartbeat(out.Item) : null;
  }

  async list(orgId: number): Promise<HeartbeatRecord[]> {
    return (await queryPartition(this.client, this.tableName, { pk: venKeys.heartbeatPartition(orgId) })).map(toHeartbeat);
  }

  async delete(orgId: number, agentId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: venKeys.heartbeat(orgId, agentId) }));
  }
}

const COUNT_KEY = { pk: 'PCE', sk: 'VEN_COUNT' };

export class DynamoDbAgentCountStore implements AgentCountStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * An unconditional ADD whose new value decides (a pairing storm would otherwise wait on DynamoDB's
   * conditional-write rate); over the limit, the place is given back at once. Atomic counter: two
   * pairings can never both take the last place.
   */
  async reserve(limit: number | null): Promise<boolean> {
    const out = await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: COUNT_KEY, UpdateExpression: 'ADD agents :one', ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'UPDATED_NEW' }));
    if (limit === null || Number(out.Attributes?.agents) <= limit) return true;
    await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: COUNT_KEY, UpdateExpression: 'ADD agents :minus', ExpressionAttributeValues: { ':minus': -1 } }));
    return false;
  }

  async release(): Promise<void> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: COUNT_KEY, UpdateExpression: 'ADD agents :minus', ConditionExpression: 'agents > :zero', ExpressionAttributeValues: { ':minus': -1, ':zero': 0 } }));
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async set(count: number): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...COUNT_KEY, agents: count } }));
  }

  async get(): Promise<number> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: COUNT_KEY, ConsistentRead: true }));
    return Number(out.Item?.agents ?? 0);
  }
}

/** Flow summaries are kept FLOW_RETENTION_DAYS (TTL); views over them come later. */
export const FLOW_RETENTION_DAYS = 7;

export class DynamoDbFlowSummaryStore implements FlowSummaryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(orgId: number, agentId: string, flows: readonly FlowSummaryRequestV1['flows'][number][], receivedAt: number): Promise<void> {
    const expires = Math.floor(receivedAt / 1000) + FLOW_RETENTION_DAYS * 86_400;
    // one item per upload (a list attribute), so an upload of 5,000 flows costs a few items, not 5,000
    const items: Record<string, unknown>[] = [];
    const PER_ITEM = 1000;
    for (let i = 0; i < flows.length; i += PER_ITEM) {
      items.push({ ...venKeys.flows(agentId, receivedAt, `${randomBytes(4).toString('hex')}${i}`), org_id: orgId, flows: flows.slice(i, i + PER_ITEM), received_at: receivedAt, expires_at: expires });
    }
    await batchPutAll(this.client, this.tableName, items);
  }
}
