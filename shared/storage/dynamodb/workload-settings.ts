/**
 * An org's workload settings: one global-table item (`keys.workloadSettings`), written by the leader in a
 * fenced transaction, conditional on the version it read (optimistic concurrency), stamped.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  TIMEOUT_SETTINGS,
  VEN_TYPES,
  WorkloadSettingsChangedError,
  type StoredWorkloadSettings,
  type TimeoutEntry,
  type TimeoutLists,
  type WorkloadSettingsStore,
} from '../../settings/workload-settings.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { cancellationCodes, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

type Item = Record<string, unknown>;

function toEntry(raw: unknown): TimeoutEntry {
  const e = (raw ?? {}) as Item;
  const scope: unknown[] = Array.isArray(e.scope) ? e.scope : [];
  return { scope: scope.map(Number), value: Number(e.value), venType: VEN_TYPES.find((t) => t === e.ven_type) ?? null };
}

function toSettings(item: Item): StoredWorkloadSettings {
  const list = (name: string) => (Array.isArray(item[name]) ? (item[name] as unknown[]).map(toEntry) : []);
  const timeouts = Object.fromEntries(TIMEOUT_SETTINGS.map((s) => [s, list(s)])) as unknown as TimeoutLists;
  return { orgId: Number(item.org_id), timeouts, updatedAt: Number(item.updated_at), updatedBy: Number(item.updated_by) };
}

function toItem(settings: StoredWorkloadSettings, region: string): Item {
  const entries = (list: readonly TimeoutEntry[]) => list.map((e) => ({ scope: [...e.scope], value: e.value, ven_type: e.venType }));
  return {
    ...keys.workloadSettings(settings.orgId),
    org_id: settings.orgId,
    ...Object.fromEntries(TIMEOUT_SETTINGS.map((s) => [s, entries(settings.timeouts[s])])),
    updated_by: settings.updatedBy,
    ...stamp(region, settings.updatedAt),
  };
}

export class DynamoDbWorkloadSettingsStore implements WorkloadSettingsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to; stamped as origin_region on writes */
    private readonly region: string,
  ) {}

  async get(orgId: number, options: { consistent?: boolean } = {}): Promise<StoredWorkloadSettings | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.workloadSettings(orgId), ConsistentRead: options.consistent ?? false }));
    return out.Item ? toSettings(out.Item) : null;
  }

  async put(next: StoredWorkloadSettings, seenUpdatedAt: number | null, fence: WriteFence): Promise<void> {
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        {
          Put: {
            TableName: this.tableName,
            Item: toItem(next, this.region),
            ...(seenUpdatedAt === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'updated_at = :seen', ExpressionAttributeValues: { ':seen': seenUpdatedAt } }),
          },
        },
      ]);
    } catch (err) {
      const codes = cancellationCodes(err);
      if (codes?.[1] === 'ConditionalCheckFailed') throw new WorkloadSettingsChangedError('the workload settings changed since they were read', { cause: err });
      throw err;
    }
  }
}
