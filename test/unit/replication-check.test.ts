/** The replication data check's pure logic: canonical hashing, partition comparison, classification, repair planning; its /health view. */
import { describe, expect, it } from 'vitest';
import { computeHealth, REPLICATION_DIVERGENCE_TOKEN } from '../../shared/supercluster/health.ts';
import {
  classifyItem,
  combineHashes,
  compareReplicas,
  digestOf,
  itemHash,
  itemKey,
  latestCheck,
  linkDrained,
  partitionOf,
  planRepair,
  type ItemCopies,
  type ItemDigest,
  type StoredItem,
} from '../../shared/supercluster/replication-check.ts';
import { testConfig } from '../helpers/config.ts';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

const label = (overrides: Record<string, unknown> = {}): StoredItem => ({
  pk: 'ORG#1#LABELS',
  sk: 'LABEL#0000000001000000001',
  key: 'role',
  value: 'web',
  origin_region: 'us-east-1',
  updated_at: 1_000,
  ...overrides,
});

/** Every region holding the given items (a region's list replaces the default). */
function replicas(items: readonly StoredItem[], per: Record<string, readonly StoredItem[]> = {}) {
  return new Map(REGIONS.map((r) => [r, new Map((per[r] ?? items).map((i) => { const d = digestOf(i); return [itemKey(d.pk, d.sk), d] as const; }))]));
}

describe('canonical item hash', () => {
  it('does not depend on attribute order, nested key order or set order', () => {
    const a = { pk: 'p', sk: 's', b: 1, a: { y: [1, 2], x: 'v' }, tags: new Set(['b', 'a']), origin_region: 'us-east-1', updated_at: 5 };
    const b = { updated_at: 5, origin_region: 'us-east-1', tags: new Set(['a', 'b']), a: { x: 'v', y: [1, 2] }, b: 1, sk: 's', pk: 'p' };
    expect(itemHash(a)).toBe(itemHash(b));
  });

  it('sees a changed value, a changed type, list order and an added attribute', () => {
    const base = itemHash(label());
    expect(itemHash(label({ value: 'db' }))).not.toBe(base);
    expect(itemHash(label({ updated_at: '1000' }))).not.toBe(base);
    expect(itemHash({ ...label(), list: [1, 2] })).not.toBe(itemHash({ ...label(), list: [2, 1] }));
    expect(itemHash({ ...label(), repaired_at: 1 })).not.toBe(base);
    expect(itemHash({ ...label(), data: new Uint8Array([1, 2]) })).not.toBe(itemHash({ ...label(), data: new Uint8Array([1, 3]) }));
  });

  it('leaves out the global-table bookkeeping attributes that differ per replica', () => {
    expect(itemHash({ ...label(), 'aws:rep:updateregion': 'eu-west-1', 'aws:rep:updatetime': 123.4, 'aws:rep:deleting': false })).toBe(itemHash(label()));
  });

  it('combines item hashes independently of their order', () => {
    const hashes = ['c', 'a', 'b'].map((v) => itemHash(label({ value: v })));
    expect(combineHashes(hashes)).toBe(combineHashes([...hashes].reverse()));
    expect(combineHashes(hashes)).not.toBe(combineHashes(hashes.slice(1)));
  });
});

describe('partition kinds', () => {
  it.each([
    ['ORG#1', 'ORG', 'org'],
    ['SUPERCLUSTER', 'LEADER', 'supercluster'],
    ['SUPERCLUSTER', 'PCE#eu-west-1', 'supercluster'],
    ['PCE_STATUS', 'STATUS#eu-west-1', 'pce_status'],
    ['APIKEY#api_1', 'APIKEY', 'users_api_keys'],
    ['USER#1', 'USER', 'users_api_keys'],
    ['ORG#1#LABELS', 'LABEL#1', 'labels'],
    ['ORG#1#LABEL_UNIQUE', 'role=web', 'labels'],
    ['ORG#1#COUNTERS', 'LABEL#E1', 'counters'],
    ['ORG#1#SETTINGS', 'WORKLOADS', 'workload_settings'],
    ['ORG#1#POLICY_DRAFT', 'RULE_SET#1', 'policy_draft'],
    ['ORG#1#POLICY', 'ACTIVE_POLICY', 'policy_active'],
    ['ORG#1#POLICY', 'VERSION#0000000001#E000001', 'policy_versions'],
    ['ORG#1#POLICY#v1#E1', 'CHUNK#0000', 'policy_versions'],
    ['ORG#1#WORKLOADS', 'x#META', 'workloads'],
    ['VEN#agent-1', 'AUTH', 'workloads'],
    ['ORG#1#LABEL_USE#42', '0b5a5bb8-8d3e-4b36-9a0f-6c1f0a1b2c3d#META', 'workloads'],
    ['ORG#1#PAIRING_PROFILES', 'PROFILE#1', 'pairing'],
    ['PAIRING_KEY#abc', 'KEY', 'pairing'],
    ['GSLB_SWITCH#pce-eu.sc.example.com', 'BY#us-east-1', 'gslb_switches'],
    ['REPLICATION_CHECK', 'BY#us-east-1', 'replication_checks'],
    ['SOMETHING_NEW', 'X', 'other'],
  ])('%s / %s is %s', (pk, sk, partition) => {
    expect(partitionOf(pk, sk)).toBe(partition);
  });
});

describe('compareReplicas', () => {
  it('finds every partition in sync when the replicas hold the same items in any order', () => {
    const items = [label(), label({ sk: 'LABEL#2', value: 'db' }), { pk: 'ORG#1', sk: 'ORG', name: 'org', origin_region: 'us-east-1', updated_at: 1 }];
    const result = compareReplicas(REGIONS, replicas(items, { 'eu-west-1': [...items].reverse() }));
    expect(result.differing).toEqual([]);
    expect(result.partitions.map((p) => [p.partition, p.agree, p.items['eu-west-1']])).toEqual([
      ['org', true, 1],
      ['labels', true, 2],
    ]);
  });

  it('names the partition and the item that differ, and the replica that lacks one', () => {
    const other = label({ sk: 'LABEL#2', value: 'db' });
    const result = compareReplicas(REGIONS, replicas([label(), other], { 'eu-west-1': [label({ value: 'forged' }), other], 'ap-southeast-1': [other] }));
    expect(result.partitions.find((p) => p.partition === 'labels')?.agree).toBe(false);
    expect(result.differing).toHaveLength(1);
    const [item] = result.differing;
    expect(item).toMatchObject({ partition: 'labels', pk: 'ORG#1#LABELS', sk: label().sk });
    expect(item?.copies['ap-southeast-1']).toBeNull();
    expect(item?.copies['eu-west-1']?.hash).not.toBe(item?.copies['us-east-1']?.hash);
  });
});

const copy = (item: StoredItem): ItemDigest => digestOf(item);

describe('classifyItem', () => {
  const first: ItemCopies = { 'us-east-1': copy(label({ updated_at: 2_000 })), 'eu-west-1': copy(label()), 'ap-southeast-1': copy(label({ updated_at: 2_000 })) };
  const none = () => 0;

  it('is in sync once the copies agree on the re-read', () => {
    const settled = { ...first, 'eu-west-1': first['us-east-1'] ?? null };
    expect(classifyItem(first, settled, none)).toBe('in_sync');
  });

  it('is replicating when a copy moved between the scan and the re-read', () => {
    const moved = { ...first, 'us-east-1': copy(label({ updated_at: 3_000 })) };
    expect(classifyItem(first, moved, none)).toBe('replicating');
  });

  it('is replicating while a link into the region behind may still carry its change', () => {
    expect(classifyItem(first, first, (r) => (r === 'eu-west-1' ? 2 : 0))).toBe('replicating');
    expect(classifyItem(first, first, (r) => (r === 'ap-southeast-1' ? 2 : 0))).toBe('divergent');
  });

  it('is divergent when nothing moved and nothing is in flight (or the platform cannot tell)', () => {
    expect(classifyItem(first, first, none)).toBe('divergent');
    expect(classifyItem(first, first, () => null)).toBe('divergent');
  });
});

describe('linkDrained', () => {
  const link = { source: 'us-east-1', target: 'eu-west-1', processed: 100, pending: 3, paused: false, sourceCaughtUpAt: 2_000 };

  it('holds once the link processed what it held, its stream read past the reads', () => {
    expect(linkDrained(link, { ...link, processed: 103, pending: 5 }, 1_500)).toBe(true);
  });

  it('does not while changes it held are still queued, or its stream was behind the reads', () => {
    expect(linkDrained(link, { ...link, processed: 102 }, 1_500)).toBe(false);
    expect(linkDrained(link, { ...link, processed: 103 }, 2_500)).toBe(false);
  });

  it('holds for a paused link with nothing queued, not for one with changes queued', () => {
    expect(linkDrained({ ...link, paused: true, pending: 0 }, { ...link, paused: true, pending: 0 }, 1_500)).toBe(true);
    expect(linkDrained({ ...link, paused: true }, { ...link, paused: true, pending: 4 }, 1_500)).toBe(false);
  });
});

describe('planRepair', () => {
  it("re-drives the writer region's own copy, even when another replica claims a newer one in its name", () => {
    const writer = copy(label({ updated_at: 1_000 }));
    const forged = copy(label({ value: 'forged', updated_at: 5_000 })); // origin us-east-1, but written in eu-west-1
    const plan = planRepair({ 'us-east-1': writer, 'eu-west-1': forged, 'ap-southeast-1': writer });
    expect(plan).toMatchObject({ action: 'redrive', writerRegion: 'us-east-1', copy: writer, behind: ['eu-west-1'], newestUpdatedAt: 5_000 });
  });

  it('re-drives to a replica that lacks the item', () => {
    const writer = copy(label());
    expect(planRepair({ 'us-east-1': writer, 'eu-west-1': null, 'ap-southeast-1': writer })).toMatchObject({ action: 'redrive', writerRegion: 'us-east-1', behind: ['eu-west-1'] });
  });

  it("picks the newest self-stamped copy when the writer moved (a leadership change)", () => {
    const old = copy(label({ value: 'old', updated_at: 1_000 }));
    const fresh = copy(label({ value: 'new', origin_region: 'eu-west-1', updated_at: 2_000 }));
    expect(planRepair({ 'us-east-1': old, 'eu-west-1': fresh, 'ap-southeast-1': old })).toMatchObject({ action: 'redrive', writerRegion: 'eu-west-1', copy: fresh, behind: ['us-east-1', 'ap-southeast-1'] });
  });

  it('never plans a write outside the writer region: nothing when the writer holds no copy of its own', () => {
    const stray = copy(label());
    const plan = planRepair({ 'us-east-1': null, 'eu-west-1': stray, 'ap-southeast-1': null });
    expect(plan.action).toBe('skip');
    expect(plan.writerRegion).toBe('us-east-1');
    const unstamped = copy({ pk: 'X', sk: 'Y', value: 1 });
    expect(planRepair({ 'us-east-1': unstamped, 'eu-west-1': null, 'ap-southeast-1': null })).toMatchObject({ action: 'skip', writerRegion: null });
  });
});

describe('the last check in /api/v2/health', () => {
  const config = testConfig();
  const now = 1_000_000_000;
  const leader = { leaderRegion: 'us-east-1', leaderFqdn: 'pce-us.sc.example.com', epoch: 1, assignedAt: 0, previousLeaderFqdn: null };
  const reports = config.pces.map((p) => ({ region: p.region, fqdn: p.fqdn, writtenAt: now - 1000, startedAt: now - 60_000, runlevel: 5, lags: config.pces.filter((q) => q !== p).map((q) => ({ peerRegion: q.region, lagMs: 50, receivedAt: now - 1100 })) }));
  const self = { region: 'us-east-1', startedAt: now - 10_000, runlevel: 5, lags: reports[0]?.lags ?? [] };
  const check = { checkedAt: now - 5_000, divergentPartitions: [] as string[], divergentItems: 0, divergentRegions: [] as string[], repairedItems: 0, by: 'ops@host', region: 'us-east-1' };

  it('is a field of the replication section when clean, with no notification', () => {
    const health = computeHealth({ config, leader, reports, self, lastReplicationCheck: check, now });
    expect(health[1]?.network.replication[0]?.details.last_check).toEqual({ checked_at: new Date(now - 5_000).toISOString(), divergent_partitions: [], divergent_items: 0, divergent_regions: [], repaired_items: 0, by: 'ops@host' });
    expect(health.flatMap((h) => h.notifications.map((n) => n.token))).not.toContain(REPLICATION_DIVERGENCE_TOKEN);
  });

  it('is a notification on the PCEs whose replica diverged, the status left as it is', () => {
    const divergent = { ...check, divergentPartitions: ['labels'], divergentItems: 1, divergentRegions: ['eu-west-1'] };
    const health = computeHealth({ config, leader, reports, self, lastReplicationCheck: divergent, now });
    const eu = health.find((h) => h.region === 'eu-west-1');
    expect(eu?.notifications.find((n) => n.token === REPLICATION_DIVERGENCE_TOKEN)?.message).toMatch(/1 item\(s\) in labels/);
    expect(health.find((h) => h.region === 'ap-southeast-1')?.notifications.map((n) => n.token)).not.toContain(REPLICATION_DIVERGENCE_TOKEN);
    expect(health[0]?.network.replication[0]?.details.last_check?.divergent_items).toBe(1);
  });

  it('shows the newest of the writer regions\' results', () => {
    expect(latestCheck([check, { ...check, checkedAt: now, region: 'eu-west-1' }])?.region).toBe('eu-west-1');
    expect(latestCheck([])).toBeNull();
  });
});
