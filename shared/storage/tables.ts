/**
 * Table definitions shared by the CDK app (TableV2) and the local cloud (CreateTable on DynamoDB Local).
 * Both tables use a generic single-table key: pk (partition) + sk (sort), both strings.
 *
 * - global: replicated to every PCE region (DynamoDB global table), stream NEW_AND_OLD_IMAGES.
 *   Every item has exactly one writer region and carries `origin_region` and `updated_at` (ms).
 * - local: one per PCE, never replicated (heartbeats, compiled policy, replication lag readings, jobs,
 *   per-minute API rate-limit counters).
 * - leader lease: one small table with multi-Region strong consistency (docs/adr/0012-leader-lease.md),
 *   one item, touched only by the leader's api and scheduled functions and by pce-ctl.
 */
import type { SuperclusterConfig } from '../supercluster/config.ts';

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly stream: 'NEW_AND_OLD_IMAGES' | null;
  /** Attribute holding an epoch-seconds expiry (DynamoDB TTL), if any. */
  readonly timeToLiveAttribute: string | null;
}

export const GLOBAL_TABLE: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  stream: 'NEW_AND_OLD_IMAGES',
  /** audit events expire (shared/storage/dynamodb/audit-events.ts); no other global item sets it */
  timeToLiveAttribute: 'expires_at',
};

export const LOCAL_TABLE: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  stream: null,
  timeToLiveAttribute: 'expires_at',
};

export const LEASE_TABLE: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  stream: null,
  timeToLiveAttribute: null,
};

export function leaseTableName(config: Pick<SuperclusterConfig, 'name'>): string {
  return `${config.name}-leader-lease`;
}

export function globalTableName(config: Pick<SuperclusterConfig, 'name'>): string {
  return `${config.name}-global`;
}

export function localTableName(config: Pick<SuperclusterConfig, 'name'>, region: string): string {
  return `${config.name}-local-${region}`;
}
