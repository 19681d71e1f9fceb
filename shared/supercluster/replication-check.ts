/**
 * The replication data check (`pce-ctl supercluster-replication-check`, the seed's illumio-pce-ctl
 * sub-command of the same name; docs/replication-check.md): every replica of the global table is read,
 * its items are grouped by partition kind (policy, labels, workloads, ...), each item is hashed
 * canonically and each partition's item hashes are combined order-independently, so replicas agree on a
 * partition exactly when its hashes match.
 *
 * An item that differs is re-read after a short wait: if it settled it was in flight, if a copy moved or a
 * link into a region behind still has changes pending it is "replicating", otherwise "divergent". A
 * divergent item is repaired from its writer region only (docs/adr/0001-one-writer-region-per-item.md):
 * the writer's own copy is put again there with a newer stamp, and replication carries it everywhere.
 *
 * Pure logic: the scan, the re-reads and the repair writes are the CLI's (cli/commands/replication-check.ts)
 * over the adapters of shared/storage/dynamodb/replication-check.ts.
 */
import { createHash } from 'node:crypto';
import { ACTIVE_POLICY_SK } from '../storage/policy-keys.ts';
import { GSLB_SWITCH_PARTITION_PREFIX, REPLICATION_CHECK_PARTITION, STATUS_PARTITION } from '../storage/keys.ts';

/** An item as the document client returns it (unmarshalled). */
export type StoredItem = Readonly<Record<string, unknown>>;

/**
 * Attributes that legitimately differ between replicas and are left out of the hash: DynamoDB global
 * tables' own bookkeeping (`aws:rep:updateregion`, `aws:rep:updatetime`, `aws:rep:deleting` of the
 * 2017.11.29 version). The local replicator (infra/local/replicator.ts) copies the source's image as it
 * is and adds nothing.
 */
export const EXCLUDED_ATTRIBUTE_PREFIXES: readonly string[] = ['aws:rep:'];

export function isExcludedAttribute(name: string): boolean {
  return EXCLUDED_ATTRIBUTE_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The partition kinds the check reports, in report order; `other` holds every prefix not listed. */
export const PARTITIONS = [
  'org',
  'supercluster',
  'pce_status',
  'users_api_keys',
  'labels',
  'counters',
  'workload_settings',
  'policy_draft',
  'policy_active',
  'policy_versions',
  'workloads',
  'pairing',
  'gslb_switches',
  'replication_checks',
  'other',
] as const;
export type PartitionName = (typeof PARTITIONS)[number];

const ORG_SCOPED: readonly (readonly [RegExp, PartitionName])[] = [
  [/^ORG#\d+$/, 'org'],
  [/^ORG#\d+#LABELS$/, 'labels'],
  [/^ORG#\d+#LABEL_UNIQUE$/, 'labels'],
  [/^ORG#\d+#LABEL_DIMENSIONS$/, 'labels'],
  [/^ORG#\d+#CONTAINER_CLUSTERS$/, 'workloads'],
  [/^ORG#\d+#COUNTERS$/, 'counters'],
  [/^ORG#\d+#SETTINGS$/, 'workload_settings'],
  [/^ORG#\d+#POLICY_DRAFT$/, 'policy_draft'],
  [/^ORG#\d+#POLICY#v\d+#E\d+$/, 'policy_versions'],
  [/^ORG#\d+#WORKLOADS$/, 'workloads'],
  [/^ORG#\d+#LABEL_USE#\d+$/, 'workloads'],
  [/^ORG#\d+#PAIRING_PROFILES$/, 'pairing'],
  [/^ORG#\d+#PAIRING_USES$/, 'pairing'],
];

/**
 * The partition kind of an item, from its key (shared/storage/keys.ts, policy-keys.ts, workload-keys.ts,
 * ven-keys.ts): org policy is split in draft, active (the ACTIVE_POLICY pointer) and versions (the
 * immutable snapshots and their chunks); workloads include the managed agents' items (`VEN#<agent>`) and
 * the label uses of workload items (`ORG#<org>#LABEL_USE#<label>`, ADR 0015).
 */
export function partitionOf(pk: string, sk: string): PartitionName {
  if (pk === 'SUPERCLUSTER') return 'supercluster';
  if (pk === STATUS_PARTITION) return 'pce_status';
  if (pk === REPLICATION_CHECK_PARTITION) return 'replication_checks';
  if (pk.startsWith('APIKEY#') || pk === 'APIKEY_BOOTSTRAP' || pk.startsWith('USER#')) return 'users_api_keys';
  if (pk.startsWith(GSLB_SWITCH_PARTITION_PREFIX)) return 'gslb_switches';
  if (pk.startsWith('PAIRING_KEY#')) return 'pairing';
  if (pk.startsWith('VEN#')) return 'workloads';
  if (/^ORG#\d+#POLICY$/.test(pk)) return sk === ACTIVE_POLICY_SK ? 'policy_active' : 'policy_versions';
  return ORG_SCOPED.find(([pattern]) => pattern.test(pk))?.[1] ?? 'other';
}

/** Canonical text of a value: object keys sorted, sets sorted, binary as base64; types stay distinct. */
export function canonicalValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
  if (typeof value === 'bigint') return `{"$N":${JSON.stringify(value.toString())}}`;
  if (value instanceof Uint8Array) return `{"$B":${JSON.stringify(Buffer.from(value).toString('base64'))}}`;
  if (value instanceof Set) return `{"$S":[${[...value].map(canonicalValue).sort().join(',')}]}`;
  if (Array.isArray(value)) return `[${value.map(canonicalValue).join(',')}]`;
  if (typeof value === 'object') {
    // a NumberValue (wrapNumbers) or any other class with a string form keeps its exact text
    if (!isPlainObject(value)) return `{"$N":${JSON.stringify(String(value as { toString(): string }))}}`;
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalValue(v)}`).join(',')}}`;
  }
  return JSON.stringify(String(value));
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** sha256 (hex) of the item's canonical form without the excluded attributes; the key is part of it. */
export function itemHash(item: StoredItem): string {
  const kept = Object.fromEntries(Object.entries(item).filter(([name]) => !isExcludedAttribute(name)));
  return createHash('sha256').update(canonicalValue(kept)).digest('hex');
}

/** Order-independent combination of item hashes: sha256 over the sorted hashes (the empty partition hashes ""). */
export function combineHashes(hashes: Iterable<string>): string {
  const sorted = [...hashes].sort();
  const h = createHash('sha256');
  for (const one of sorted) h.update(one).update('\n');
  return h.digest('hex');
}

/** What the check keeps of one copy of an item (not the item itself: a scan holds only digests). */
export interface ItemDigest {
  readonly pk: string;
  readonly sk: string;
  readonly hash: string;
  /** the item's own stamp (ADR 0001), null when absent */
  readonly updatedAt: number | null;
  readonly originRegion: string | null;
}

export function digestOf(item: StoredItem): ItemDigest {
  return {
    pk: String(item.pk),
    sk: String(item.sk),
    hash: itemHash(item),
    updatedAt: typeof item.updated_at === 'number' ? item.updated_at : null,
    originRegion: typeof item.origin_region === 'string' ? item.origin_region : null,
  };
}

/** The key of an item as one string (pk and sk cannot hold a NUL). */
export function itemKey(pk: string, sk: string): string {
  return `${pk}\u0000${sk}`;
}

/** Every replica's digests, by region, each keyed by itemKey. */
export type ReplicaDigests = ReadonlyMap<string, ReadonlyMap<string, ItemDigest>>;

/** Each region's copy of one item (null: that replica lacks it). */
export type ItemCopies = Readonly<Record<string, ItemDigest | null>>;

export interface DifferingItem {
  readonly partition: PartitionName;
  readonly pk: string;
  readonly sk: string;
  readonly copies: ItemCopies;
}

export interface PartitionComparison {
  readonly partition: PartitionName;
  /** items per region */
  readonly items: Readonly<Record<string, number>>;
  /** combined hash per region */
  readonly hashes: Readonly<Record<string, string>>;
  readonly agree: boolean;
}

export interface ReplicaComparison {
  readonly partitions: readonly PartitionComparison[];
  /** items whose copies are not all the same (a missing copy differs), in key order */
  readonly differing: readonly DifferingItem[];
}

/** Compares every replica: per partition the combined hashes, and the items whose copies differ. */
export function compareReplicas(regions: readonly string[], replicas: ReplicaDigests): ReplicaComparison {
  const perPartition = new Map<PartitionName, Map<string, string[]>>();
  const allKeys = new Set<string>();
  for (const region of regions) {
    for (const [key, digest] of replicas.get(region) ?? new Map<string, ItemDigest>()) {
      allKeys.add(key);
      const partition = partitionOf(digest.pk, digest.sk);
      let byRegion = perPartition.get(partition);
      if (!byRegion) perPartition.set(partition, (byRegion = new Map()));
      let hashes = byRegion.get(region);
      if (!hashes) byRegion.set(region, (hashes = []));
      hashes.push(digest.hash);
    }
  }
  const partitions = PARTITIONS.filter((p) => perPartition.has(p)).map((partition): PartitionComparison => {
    const byRegion = perPartition.get(partition) ?? new Map<string, string[]>();
    const hashes = Object.fromEntries(regions.map((r) => [r, combineHashes(byRegion.get(r) ?? [])]));
    const items = Object.fromEntries(regions.map((r) => [r, byRegion.get(r)?.length ?? 0]));
    return { partition, items, hashes, agree: new Set(Object.values(hashes)).size <= 1 };
  });
  const disagreeing = new Set(partitions.filter((p) => !p.agree).map((p) => p.partition));
  const differing: DifferingItem[] = [];
  for (const key of [...allKeys].sort()) {
    const copies = Object.fromEntries(regions.map((r) => [r, replicas.get(r)?.get(key) ?? null])) as Record<string, ItemDigest | null>;
    const any = Object.values(copies).find((c): c is ItemDigest => c !== null);
    if (!any) continue;
    const partition = partitionOf(any.pk, any.sk);
    if (!disagreeing.has(partition) || copiesAgree(copies)) continue;
    differing.push({ partition, pk: any.pk, sk: any.sk, copies });
  }
  return { partitions, differing };
}

/** True when every region holds the same copy, or none holds one. */
export function copiesAgree(copies: ItemCopies): boolean {
  return new Set(Object.values(copies).map((c) => c?.hash ?? null)).size <= 1;
}

/** Newer stamp first: updated_at, then origin_region (the replicator's last-writer-wins order). */
function newer(a: ItemDigest, b: ItemDigest): boolean {
  const ua = a.updatedAt ?? -Infinity;
  const ub = b.updatedAt ?? -Infinity;
  return ua !== ub ? ua > ub : (a.originRegion ?? '') > (b.originRegion ?? '');
}

export type RepairPlan =
  | {
      readonly action: 'redrive';
      /** the region whose own copy is the truth (it holds a copy stamped with its own region) */
      readonly writerRegion: string;
      readonly copy: ItemDigest;
      /** the regions whose copy differs from the writer's (or that lack it) */
      readonly behind: readonly string[];
      /** the newest updated_at any replica holds: the re-driven copy must be stamped later to win everywhere */
      readonly newestUpdatedAt: number;
    }
  | { readonly action: 'skip'; readonly reason: string; readonly writerRegion: string | null; readonly behind: readonly string[] };

/**
 * How to repair one item (ADR 0001: one writer region per item). The writer is a region holding a copy
 * stamped with its own region (origin_region = that region); when several do (leadership moved), the
 * newest of those. Its copy is re-driven from there, whatever other replicas claim: a copy elsewhere that
 * names the writer but is newer than the writer's own cannot be the writer's write. Nothing is planned
 * when no replica holds such a copy (the writer deleted it, or the item is not stamped).
 */
export function planRepair(copies: ItemCopies): RepairPlan {
  const present = Object.entries(copies).filter((e): e is [string, ItemDigest] => e[1] !== null);
  const stamps = present.map(([, c]) => c.updatedAt).filter((u): u is number => u !== null);
  const newestUpdatedAt = stamps.length > 0 ? Math.max(...stamps) : 0;
  let writer: [string, ItemDigest] | undefined;
  for (const entry of present) if (entry[1].originRegion === entry[0] && (!writer || newer(entry[1], writer[1]))) writer = entry;
  if (writer) {
    const hash = writer[1].hash;
    const behind = Object.entries(copies)
      .filter(([, c]) => c?.hash !== hash)
      .map(([r]) => r);
    return { action: 'redrive', writerRegion: writer[0], copy: writer[1], behind, newestUpdatedAt };
  }
  const newest = present.reduce<ItemDigest | null>((best, [, c]) => (best === null || newer(c, best) ? c : best), null);
  const named = newest?.originRegion ?? null;
  const behind = Object.keys(copies);
  if (!named) return { action: 'skip', reason: 'no copy carries an origin_region: the item has no writer region (ADR 0001); fix it by hand', writerRegion: null, behind };
  return {
    action: 'skip',
    reason: `the writer region ${named} holds no copy of its own (deleted there, or written elsewhere in its name): nothing to re-drive from it; delete or rewrite the item through ${named}`,
    writerRegion: named,
    behind,
  };
}

export type ItemState = 'in_sync' | 'replicating' | 'divergent';

/** True when some region's copy changed between two reads (a write is on its way). */
export function copiesMoved(before: ItemCopies, after: ItemCopies): boolean {
  return Object.keys(after).some((r) => (before[r]?.hash ?? null) !== (after[r]?.hash ?? null));
}

/**
 * The state of an item that differed in the scan, after a re-read: in sync when its copies now agree;
 * replicating when a copy changed in between, or when a link into a region that is behind may still carry
 * its change (`inFlightInto`: how many such links have not delivered what they held; null when the
 * platform cannot tell, as in AWS); divergent otherwise.
 */
export function classifyItem(first: ItemCopies, reread: ItemCopies, inFlightInto: (region: string) => number | null): ItemState {
  if (copiesAgree(reread)) return 'in_sync';
  if (copiesMoved(first, reread)) return 'replicating';
  if (planRepair(reread).behind.some((r) => (inFlightInto(r) ?? 0) > 0)) return 'replicating';
  return 'divergent';
}

/** One replication link's progress as the local replicator reports it (GET <control>/replication). */
export interface LinkProgress {
  readonly source: string;
  readonly target: string;
  /** changes the link is done with: applied, skipped as stale, dropped */
  readonly processed: number;
  readonly pending: number;
  readonly paused: boolean;
  /** the start of the source stream's last poll that found nothing new (epoch ms) */
  readonly sourceCaughtUpAt: number;
}

/**
 * True when a link has delivered every change that could carry a copy read before `readsEndedAt`: at
 * `before` its source stream had been read past that moment (so those changes were queued or done), and
 * by `after` it has processed at least as many changes as were queued at `before`. A paused link with
 * nothing queued has nothing in flight either.
 */
export function linkDrained(before: LinkProgress, after: LinkProgress, readsEndedAt: number): boolean {
  return before.sourceCaughtUpAt >= readsEndedAt && after.processed - before.processed >= before.pending;
}

/** The result of one check as pce-ctl records it for /api/v2/health (one item per writer region). */
export interface ReplicationCheckResult {
  /** ms since the epoch */
  readonly checkedAt: number;
  readonly divergentPartitions: readonly string[];
  readonly divergentItems: number;
  /** the regions whose replica differs from an item's writer */
  readonly divergentRegions: readonly string[];
  /** items re-driven by --repair */
  readonly repairedItems: number;
  /** who ran it (user@host) */
  readonly by: string;
  /** the region the result was written in (its writer) */
  readonly region: string;
}

export interface ReplicationCheckStore {
  /** writes the store's own region's result */
  put(result: Omit<ReplicationCheckResult, 'region'>): Promise<void>;
  /** every region's last result */
  list(): Promise<ReplicationCheckResult[]>;
}

/** The newest result among the writer regions' items. */
export function latestCheck(results: readonly ReplicationCheckResult[]): ReplicationCheckResult | null {
  return results.reduce<ReplicationCheckResult | null>((best, r) => (best === null || r.checkedAt > best.checkedAt ? r : best), null);
}
