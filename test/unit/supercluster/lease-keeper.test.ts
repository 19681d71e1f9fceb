/** The leader lease's keeper with a fake store and clock: renewal, expiry, self-fencing, takeover, release; and the API's 503. */
import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { LeaderView, type LeaderRecord } from '../../../shared/supercluster/leader.ts';
import { leaseTimings } from '../../../shared/supercluster/lease-config.ts';
import { LeaseKeeper, releaseLeaseOf, renewWhileLeader } from '../../../shared/supercluster/lease-keeper.ts';
import { holderMayWrite, leaseOverAt, LeaseLostError } from '../../../shared/supercluster/lease.ts';
import { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { testConfig } from '../../helpers/config.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeApiKeyStore, FakeDirectory, FakeLabelStore, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from '../../helpers/fakes.ts';
import { FakeClock, FakeLeaseStore } from '../../helpers/lease-fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from '../../helpers/workload-fakes.ts';

const timings = leaseTimings({ duration_seconds: 15, clock_skew_seconds: 2 }); // 15 000 ms, renew every 5 000, skew 2 000
const US = { region: 'us-east-1', fqdn: 'pce-us.sc.example.com' };
const EU = { region: 'eu-west-1', fqdn: 'pce-eu.sc.example.com' };
const record = (leader: typeof US, epoch: number): LeaderRecord => ({ leaderRegion: leader.region, leaderFqdn: leader.fqdn, epoch, assignedAt: 0, previousLeaderFqdn: null });

describe('LeaseKeeper', () => {
  let clock: FakeClock;
  let store: FakeLeaseStore;
  const keeperFor = (holder: typeof US, s: FakeLeaseStore = store) => new LeaseKeeper({ store: s, timings, holder, now: clock.now, sleep: clock.sleep });

  beforeEach(() => {
    clock = new FakeClock();
    store = new FakeLeaseStore();
  });

  it('takes the lease on the first write, then writes without asking the authority until a third of the lease is left', async () => {
    const keeper = keeperFor(US);
    await keeper.assertMayWrite(record(US, 1));
    expect(store.stored).toEqual({ holderRegion: 'us-east-1', holderFqdn: US.fqdn, epoch: 1, expiresAt: clock.t + 15_000, renewedAt: clock.t });
    const calls = store.calls;
    clock.advance(9_000); // 6 000 left: more than a third
    await keeper.assertMayWrite(record(US, 1));
    expect(store.calls).toBe(calls);
    clock.advance(2_000); // 4 000 left: renews synchronously first
    await keeper.assertMayWrite(record(US, 1));
    expect(store.calls).toBe(calls + 1);
    expect(keeper.current()?.expiresAt).toBe(clock.t + 15_000);
  });

  it('self-fences: with the authority unreachable it writes only while its lease is provably live (expiresAt - skew)', async () => {
    const keeper = keeperFor(US);
    await keeper.assertMayWrite(record(US, 1));
    const expiresAt = keeper.current()?.expiresAt ?? 0;
    store.unreachable = new Error('connect ECONNREFUSED');
    clock.advance(12_000); // renewal fails, 3 000 left > skew
    await keeper.assertMayWrite(record(US, 1));
    clock.t = expiresAt - timings.clockSkewMs; // the holder's bound
    const err = await keeper.assertMayWrite(record(US, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect((err as Error).message).toMatch(/the lease authority does not answer \(connect ECONNREFUSED\)/);
    // the authority answers again: the same leadership renews and writes
    store.unreachable = null;
    await keeper.assertMayWrite(record(US, 1));
    expect(holderMayWrite(keeper.current() ?? { expiresAt: 0 }, timings, clock.t)).toBe(true);
  });

  it('a new leader takes the lease only after the old one expired plus the skew, and the old one then refuses', async () => {
    const old = keeperFor(US);
    await old.assertMayWrite(record(US, 1));
    const oldLease = store.stored ?? { expiresAt: 0 };
    const successor = keeperFor(EU);
    // long before the old lease is over: refused at once (no long wait on the write path)
    await expect(successor.assertMayWrite(record(EU, 2))).rejects.toThrow(/another leadership holds the lease/);
    expect(store.stored?.holderRegion).toBe('us-east-1');
    clock.t = leaseOverAt(oldLease, timings); // not yet: expires_at < now - skew is false at the boundary
    expect(await successor.renew(record(EU, 2))).toBeNull();
    clock.advance(1);
    expect(await successor.renew(record(EU, 2))).toMatchObject({ holderRegion: 'eu-west-1', epoch: 2 });
    // the old leader (still believing its record) cannot prove a lease any more
    await expect(old.assertMayWrite(record(US, 1))).rejects.toBeInstanceOf(LeaseLostError);
    expect(old.current()).toBeNull();
  });

  it('a write on the new leader waits for a predecessor lease that is over within the skew bound (connected handover)', async () => {
    const old = keeperFor(US);
    await old.assertMayWrite(record(US, 1));
    expect(await releaseLeaseOf(store, { region: 'us-east-1', epoch: 1 }, clock.t)).toMatchObject({ expiresAt: clock.t });
    const started = clock.t;
    await keeperFor(EU).assertMayWrite(record(EU, 2));
    expect(clock.t - started).toBe(timings.clockSkewMs + 1);
    expect(store.stored).toMatchObject({ holderRegion: 'eu-west-1', epoch: 2 });
  });

  it('release gives the held lease up at once; a release of nothing is a no-op', async () => {
    const keeper = keeperFor(US);
    expect(await keeper.release()).toBe(false);
    await keeper.assertMayWrite(record(US, 1));
    clock.advance(1_000);
    expect(await keeper.release()).toBe(true);
    expect(store.stored?.expiresAt).toBe(clock.t);
    expect(keeper.current()).toBeNull();
    expect(await releaseLeaseOf(store, { region: 'us-east-1', epoch: 1 }, clock.t + 1)).toBeNull();
  });

  it('never takes the lease back for an older epoch', async () => {
    const eu = keeperFor(EU);
    await eu.assertMayWrite(record(EU, 2));
    clock.advance(60_000); // EU's lease lapsed long ago
    await expect(keeperFor(US).assertMayWrite(record(US, 1))).rejects.toBeInstanceOf(LeaseLostError);
    expect(store.stored?.epoch).toBe(2);
  });

  it('shares one renewal between concurrent writes', async () => {
    const keeper = keeperFor(US);
    await Promise.all([keeper.assertMayWrite(record(US, 1)), keeper.assertMayWrite(record(US, 1)), keeper.assertMayWrite(record(US, 1))]);
    expect(store.calls).toBe(1);
  });

  it('renews in the background only while the leader record names this PCE; members never touch the lease', async () => {
    const records = new FakeLeaderStore(record(US, 1));
    expect(await renewWhileLeader(keeperFor(EU), records)).toBeNull();
    expect(store.calls).toBe(0);
    expect(await renewWhileLeader(keeperFor(US), records)).toMatchObject({ holderRegion: 'us-east-1', epoch: 1 });
    await expect(keeperFor(EU).assertMayWrite(record(US, 1))).rejects.toThrow(/is not the leader/);
  });
});

describe('the lease on the API write path', () => {
  const config = testConfig();
  const [us, eu] = config.pces;

  it('answers 503 leader_lease_lost and writes nothing when the leader cannot prove its lease; members keep answering 403 without touching it', async () => {
    const clock = new FakeClock(Date.now());
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: us?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const labelStore = new FakeLabelStore(leaderStore);
    const keys = new FakeApiKeyStore();
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await keys.put(key.record);
    const leaseStore = new FakeLeaseStore();
    const api = (pce: typeof us) => {
      if (!pce) throw new Error('pce');
      const keeper = new LeaseKeeper({ store: leaseStore, timings, holder: { region: pce.region, fqdn: pce.fqdn }, now: clock.now, sleep: clock.sleep });
      const leader = new LeaderView(leaderStore, pce.region, 0, clock.now, keeper);
      const handler = createApiHandler({
        logger: new Logger({ logLevel: 'SILENT' }),
        apiKeys: keys,
        leader,
        directory: new FakeDirectory(),
        labels: new LabelService({ labels: labelStore, leader }),
        workloads: new WorkloadService({ workloads: new FakeWorkloadStore(leaderStore), labels: labelStore, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
        jobs: new JobService({ jobs: new FakeJobStore() }),
        supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
      });
      return (value: string) => handler(httpEvent('POST', '/api/v2/orgs/1/labels', { body: { key: 'role', value }, auth: { username: key.record.authUsername, secret: key.secret } }), lambdaContext());
    };
    const onLeader = api(us);
    expect((await onLeader('web')).statusCode).toBe(201);
    leaseStore.unreachable = new Error('connect ECONNREFUSED');
    clock.advance(timings.durationMs - timings.clockSkewMs);
    const refused = await onLeader('db');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(String(refused.body))).toEqual([{ token: 'leader_lease_lost', message: expect.stringMatching(/cannot prove a live leader lease/) as unknown }]);
    expect((await labelStore.list(1)).map((l) => l.value)).toEqual(['web']);
    const calls = leaseStore.calls;
    expect((await api(eu)('app')).statusCode).toBe(403);
    expect(leaseStore.calls).toBe(calls);
  });
});
