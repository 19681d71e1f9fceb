import { describe, expect, it } from 'vitest';
import { SuperclusterUsageError } from '../../../shared/supercluster/errors.ts';
import { assignLeaderFailed, missingWritesReport } from '../../../shared/supercluster/failed-leader.ts';
import { computeHealth, type PceStatusReport } from '../../../shared/supercluster/health.ts';
import type { LeaderRecord } from '../../../shared/supercluster/leader.ts';
import { leaseTimings } from '../../../shared/supercluster/lease-config.ts';
import { leaseOverAt, type LeaderLease } from '../../../shared/supercluster/lease.ts';
import { testConfig, pceAt as pceOf } from '../../helpers/config.ts';
import { FakeDropTable } from '../../helpers/drop-fakes.ts';
import { FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakeClock, FakeLeaseStore } from '../../helpers/lease-fakes.ts';

const config = testConfig();
const pceAt = (i: number) => pceOf(config, i);
const us = pceAt(0);
const eu = pceAt(1);
const ap = pceAt(2);
const timings = leaseTimings(config.leader_lease);
const epoch1: LeaderRecord = { leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 1, assignedAt: 0, previousLeaderFqdn: null };
const iso = (ms: number) => new Date(ms).toISOString();

/** Each region's leader record (replication done by hand) and the moment each was written. */
function regions(clock: FakeClock) {
  const stores = new Map(config.pces.map((p) => [p.region, new FakeLeaderStore({ ...epoch1 })]));
  const writes: { region: string; at: number; record: LeaderRecord }[] = [];
  for (const [region, store] of stores) {
    const replace = store.replace.bind(store);
    store.replace = async (current, next) => {
      await replace(current, next);
      writes.push({ region, at: clock.t, record: next });
      // the survivors' replicas receive it at once (the old leader's region is down)
      for (const [other, s] of stores) if (other !== us.region && other !== region) s.record = next;
    };
  }
  return { stores, writes, storeFor: (region: string) => stores.get(region) ?? new FakeLeaderStore(null) };
}

async function setup(clock: FakeClock, options: { dropped?: boolean } = {}) {
  const drops = new FakeDropTable();
  if (options.dropped ?? true) await drops.store(eu.region).put({ pceFqdn: us.fqdn, dropped: true, changedAt: clock.t, changedBy: 'op', wasLeader: true });
  const lease = new FakeLeaseStore();
  const oldLease: LeaderLease = { holderRegion: us.region, holderFqdn: us.fqdn, epoch: 1, expiresAt: clock.t + 12_000, renewedAt: clock.t - 3_000 };
  lease.stored = oldLease;
  const r = regions(clock);
  const progress: string[] = [];
  // eu last received us's probe 4 s ago; it had taken 200 ms to arrive
  const lag = { peerRegion: us.region, lagMs: 200, receivedAt: clock.t - 4_000 };
  const deps = { config, leaderStoreFor: r.storeFor, dropsIn: (region: string) => drops.store(region), lagsIn: () => ({ list: async () => [lag] }), lease, timings, progress: (m: string) => progress.push(m), now: clock.now, sleep: clock.sleep };
  return { deps, lease, oldLease, lag, progress, ...r };
}

describe('assignLeaderFailed (supercluster-assign-leader after supercluster-drop)', () => {
  it('writes epoch + 1 in the new leader region only once the old lease is provably over, then takes the lease', async () => {
    const clock = new FakeClock();
    const t = await setup(clock);
    const overAt = leaseOverAt(t.oldLease, timings);
    const result = await assignLeaderFailed(t.deps, eu.fqdn, { timeoutMs: 30_000 });

    expect(t.writes).toHaveLength(1);
    expect(t.writes[0]?.region).toBe(eu.region);
    expect(t.writes[0]?.at).toBeGreaterThan(overAt);
    expect(t.writes[0]?.record).toMatchObject({ leaderRegion: eu.region, leaderFqdn: eu.fqdn, epoch: 2, previousLeaderFqdn: us.fqdn });
    expect(t.lease.stored).toMatchObject({ holderRegion: eu.region, holderFqdn: eu.fqdn, epoch: 2 });
    expect(t.lease.stored?.expiresAt).toBe((t.writes[0]?.at ?? 0) + timings.durationMs);
    expect(t.stores.get(us.region)?.record?.epoch).toBe(1); // the old leader's region learns when it returns
    expect(result).toMatchObject({ mode: 'failed', changed: true, old_lease_over_at: iso(overAt), not_yet_replicated_to: [] });
    expect(t.progress.some((m) => m.startsWith(`waiting for the old lease to end at ${iso(overAt)}`))).toBe(true);
    // the report came first, before any wait
    expect(t.progress[0]).toBe(result.missing_writes?.message);
  });

  it('reports the writes that may be missing: from the last item received to the end of the old lease', async () => {
    const clock = new FakeClock();
    const t = await setup(clock);
    const result = await assignLeaderFailed(t.deps, eu.fqdn, { timeoutMs: 30_000 });
    const t1 = t.lag.receivedAt - t.lag.lagMs;
    expect(result.missing_writes).toMatchObject({
      old_leader_fqdn: us.fqdn,
      newest_received_written_at: iso(t1),
      old_lease_expires_at: iso(t.oldLease.expiresAt),
      window_ms: t.oldLease.expiresAt - t1,
      message: `writes the old leader acknowledged between ${iso(t1)} and ${iso(t.oldLease.expiresAt)} may not have reached this region yet; they replicate when its region returns (per-item last-writer-wins keeps newer writes)`,
    });
  });

  it('refuses while the leader is not dropped, and writes nothing', async () => {
    const clock = new FakeClock();
    const t = await setup(clock, { dropped: false });
    await expect(assignLeaderFailed(t.deps, eu.fqdn, { timeoutMs: 1_000 })).rejects.toThrow(SuperclusterUsageError);
    expect(t.writes).toHaveLength(0);
    expect(t.lease.stored?.holderRegion).toBe(us.region);
  });

  it('a re-run after the record was written takes the lease it could not take', async () => {
    const clock = new FakeClock();
    const t = await setup(clock);
    const unreachable = new Error('lease authority down');
    const tryAcquire = t.lease.tryAcquire.bind(t.lease);
    t.lease.tryAcquire = () => Promise.reject(unreachable);
    await expect(assignLeaderFailed(t.deps, eu.fqdn, { timeoutMs: 30_000 })).rejects.toThrow(unreachable);
    expect(t.stores.get(eu.region)?.record?.epoch).toBe(2);
    t.lease.tryAcquire = tryAcquire;
    const again = await assignLeaderFailed(t.deps, eu.fqdn, { timeoutMs: 30_000 });
    expect(again).toMatchObject({ changed: false, lease: { epoch: 2 } });
    expect(t.lease.stored).toMatchObject({ holderRegion: eu.region, epoch: 2 });
  });
});

describe('missingWritesReport', () => {
  const oldLeader = { fqdn: us.fqdn, region: us.region };
  const lease: LeaderLease = { holderRegion: us.region, holderFqdn: us.fqdn, epoch: 1, expiresAt: 50_000, renewedAt: 35_000 };

  it('nothing is missing when this region received items written after the lease expired', () => {
    expect(missingWritesReport({ oldLeader, newLeaderRegion: eu.region, lag: { peerRegion: us.region, lagMs: 100, receivedAt: 60_000 }, lease, now: 70_000 })).toMatchObject({ window_ms: 0 });
  });

  it('says so when nothing was ever received, or no lease is known', () => {
    expect(missingWritesReport({ oldLeader, newLeaderRegion: eu.region, lag: undefined, lease, now: 70_000 }).message).toContain('never received an item from us-east-1');
    expect(missingWritesReport({ oldLeader, newLeaderRegion: eu.region, lag: { peerRegion: us.region, lagMs: 0, receivedAt: 40_000 }, lease: null, now: 70_000 })).toMatchObject({ old_lease_expires_at: null, window_ms: 30_000 });
  });
});

describe('health while the leader is down', () => {
  const now = 1_000_000;
  const intervalMs = config.probe_interval_seconds * 1000;
  const report = (region: string, fqdn: string, writtenAt: number, lagsFrom: string[]): PceStatusReport => ({
    region,
    fqdn,
    writtenAt,
    startedAt: 0,
    runlevel: 5,
    lags: lagsFrom.map((peerRegion) => ({ peerRegion, lagMs: 100, receivedAt: writtenAt - 500 })),
  });

  it('a member notes its leader unreachable after 3 probe intervals, and stays normal once the leader is dropped', () => {
    const usSilentSince = now - 4 * intervalMs;
    const reports = [report(us.region, us.fqdn, usSilentSince, []), report(eu.region, eu.fqdn, now - 1_000, [us.region, ap.region])];
    const selfLags = [
      { peerRegion: us.region, lagMs: 100, receivedAt: usSilentSince },
      { peerRegion: eu.region, lagMs: 100, receivedAt: now - 1_000 },
    ];
    const input = { config, leader: epoch1, reports, self: { region: ap.region, startedAt: 0, runlevel: 5, lags: selfLags }, now };
    const apHealth = computeHealth(input).find((h) => h.fqdn === ap.fqdn);
    expect(apHealth?.notifications.map((n) => n.token)).toContain('leader_unreachable');
    expect(apHealth?.status).toBe('normal');

    // much later: the silent leader's lag would warn, unless it is dropped
    const later = { ...input, now: now + 60_000 };
    expect(computeHealth(later).find((h) => h.fqdn === ap.fqdn)?.status).toBe('warning');
    const dropped = computeHealth({ ...later, reports: [...reports.slice(0, 1), report(eu.region, eu.fqdn, later.now - 1_000, [ap.region])], self: { ...input.self, lags: [{ peerRegion: us.region, lagMs: 100, receivedAt: usSilentSince }, { peerRegion: eu.region, lagMs: 100, receivedAt: later.now - 1_000 }] }, dropped: [us.fqdn] });
    const ap2 = dropped.find((h) => h.fqdn === ap.fqdn);
    expect(ap2?.status).toBe('normal');
    expect(ap2?.notifications.every((n) => n.token === 'leader_unreachable')).toBe(true);
    expect(dropped.find((h) => h.fqdn === us.fqdn)).toMatchObject({ dropped: true, status: 'critical' });
  });
});
