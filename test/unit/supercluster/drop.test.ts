import { describe, expect, it } from 'vitest';
import { dropPce, holdDroppedPce, LeaseStillHeldError, rejoinPce } from '../../../shared/supercluster/drop.ts';
import { SuperclusterUsageError } from '../../../shared/supercluster/errors.ts';
import { GslbSwitchService } from '../../../shared/supercluster/gslb-switch.ts';
import { droppedPces, isDropped, newestDropMark, type PceDropMark } from '../../../shared/supercluster/membership.ts';
import { leaseTimings } from '../../../shared/supercluster/lease-config.ts';
import { leaseOverAt } from '../../../shared/supercluster/lease.ts';
import { testConfig, pceAt as pceOf } from '../../helpers/config.ts';
import { FakeDropTable } from '../../helpers/drop-fakes.ts';
import { FakeLeaderStore, FakeRuntimeState } from '../../helpers/fakes.ts';
import { FakeSwitchTable } from '../../helpers/gslb-fakes.ts';
import { FakeClock, FakeLeaseStore } from '../../helpers/lease-fakes.ts';

const config = testConfig();
const pceAt = (i: number) => pceOf(config, i);
const us = pceAt(0);
const eu = pceAt(1);
const ap = pceAt(2);
const timings = leaseTimings(config.leader_lease);

const mark = (over: Partial<PceDropMark>): PceDropMark => ({ pceFqdn: us.fqdn, dropped: true, changedAt: 10, changedBy: 'op', originRegion: eu.region, wasLeader: true, ...over });

describe('drop marks: one item per (dropped PCE, writer region), the newest decides', () => {
  it('a newer rejoin from another region clears a drop; the PCE is a member again', () => {
    const marks = [mark({}), mark({ dropped: false, changedAt: 20, originRegion: ap.region })];
    expect(isDropped(marks, us.fqdn)).toBe(false);
    expect(newestDropMark(marks, us.fqdn)?.originRegion).toBe(ap.region);
    expect(isDropped([...marks, mark({ changedAt: 30 })], us.fqdn)).toBe(true);
  });

  it('on a tie the drop wins, and marks of other PCEs do not count', () => {
    expect(isDropped([mark({ dropped: false, originRegion: 'a' }), mark({ originRegion: 'b' })], us.fqdn)).toBe(true);
    expect(isDropped([mark({})], eu.fqdn)).toBe(false);
    expect(droppedPces([mark({}), mark({ pceFqdn: ap.fqdn, dropped: false })])).toEqual([us.fqdn]);
  });
});

function dropDeps(clock: FakeClock, options: { survivor?: typeof eu; answers?: boolean } = {}) {
  const survivor = options.survivor ?? eu;
  const drops = new FakeDropTable();
  const switches = new FakeSwitchTable();
  const lease = new FakeLeaseStore();
  const progress: string[] = [];
  const leaderRecord = new FakeLeaderStore({ leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
  return {
    drops,
    switches,
    lease,
    progress,
    deps: {
      config,
      survivor,
      drops: drops.store(survivor.region),
      leaderRecord,
      switches: new GslbSwitchService({ pceFqdns: config.pces.map((p) => p.fqdn), store: switches.store(survivor.region), now: clock.now }),
      lease,
      timings,
      probe: async () => (options.answers ? 202 : null),
      progress: (m: string) => progress.push(m),
      changedBy: 'op@test',
      now: clock.now,
      sleep: clock.sleep,
    },
  };
}

describe('dropPce (pce-ctl supercluster-drop)', () => {
  it('records the failed leader dropped in the survivor region, fails its GSLB switch over, and waits out its lease', async () => {
    const clock = new FakeClock();
    const t = dropDeps(clock);
    t.lease.stored = { holderRegion: us.region, holderFqdn: us.fqdn, epoch: 1, expiresAt: clock.t + 10_000, renewedAt: clock.t - 5_000 };
    const overAt = leaseOverAt(t.lease.stored, timings);
    const result = await dropPce(t.deps, us.fqdn, { timeoutMs: 60_000 });
    expect(clock.t).toBeGreaterThan(overAt);
    expect(result).toMatchObject({ pce_fqdn: us.fqdn, changed: true, written_in_region: eu.region, was_leader: true, still_answers: false, gslb: { failed_over: true, clients_sent_to: eu.fqdn } });
    expect(result.lease?.over_at).toBe(new Date(overAt).toISOString());
    expect(t.progress.some((m) => m.startsWith(`waiting for the old lease to end at ${new Date(overAt).toISOString()}`))).toBe(true);
    expect([...t.drops.items.values()]).toEqual([expect.objectContaining({ pceFqdn: us.fqdn, dropped: true, originRegion: eu.region, wasLeader: true })]);
    expect([...t.switches.items.values()]).toEqual([expect.objectContaining({ pceFqdn: us.fqdn, failedOver: true, originRegion: eu.region })]);
  });

  it('does not wait for a member, and warns when the failed PCE still answers', async () => {
    const clock = new FakeClock();
    const t = dropDeps(clock, { answers: true });
    const started = clock.t;
    const result = await dropPce(t.deps, ap.fqdn, { timeoutMs: 60_000 });
    expect(result).toMatchObject({ was_leader: false, still_answers: true, lease: null, waited_ms: 0 });
    expect(clock.t).toBe(started);
    expect(t.progress.some((m) => m.includes('isolate it'))).toBe(true);
  });

  it('refuses to drop the PCE it runs on, or an unknown one, listing the PCEs', async () => {
    const t = dropDeps(new FakeClock());
    await expect(dropPce(t.deps, eu.fqdn, { timeoutMs: 1 })).rejects.toThrow(SuperclusterUsageError);
    await expect(dropPce(t.deps, 'pce-xx.sc.example.com', { timeoutMs: 1 })).rejects.toThrow(/PCEs: pce-us.sc.example.com, pce-eu/);
    expect(t.drops.items.size).toBe(0);
  });

  it('fails when the old leader keeps renewing its lease past the timeout (it is alive)', async () => {
    const clock = new FakeClock();
    const t = dropDeps(clock);
    const renew = () => (t.lease.stored = { holderRegion: us.region, holderFqdn: us.fqdn, epoch: 1, expiresAt: clock.t + 15_000, renewedAt: clock.t });
    renew();
    const get = t.lease.get.bind(t.lease);
    t.lease.get = () => (renew(), get());
    await expect(dropPce(t.deps, us.fqdn, { timeoutMs: 5_000 })).rejects.toThrow(LeaseStillHeldError);
  });
});

describe('a dropped PCE holds itself at runlevel 2, and rejoin brings it back', () => {
  it('lowers 5 to 2 on its probe, and keeps a lower runlevel', async () => {
    const drops = new FakeDropTable();
    await drops.store(eu.region).put({ pceFqdn: us.fqdn, dropped: true, changedAt: 1, changedBy: 'op', wasLeader: true });
    const runtime = new FakeRuntimeState();
    const deps = { selfFqdn: us.fqdn, drops: drops.store(us.region), runtime, now: () => 0 };
    expect(await holdDroppedPce(deps)).toEqual({ dropped: true, lowered: true });
    expect(runtime.state?.runlevel).toBe(2);
    await runtime.setRunlevel(1);
    expect(await holdDroppedPce(deps)).toEqual({ dropped: true, lowered: false });
    expect(runtime.state?.runlevel).toBe(1);
    expect(await holdDroppedPce({ ...deps, selfFqdn: ap.fqdn })).toEqual({ dropped: false, lowered: false });
  });

  it('rejoin clears the mark and the switch, then sets runlevel 5', async () => {
    const clock = new FakeClock();
    const drops = new FakeDropTable();
    const switchTable = new FakeSwitchTable();
    const switches = (region: string) => new GslbSwitchService({ pceFqdns: config.pces.map((p) => p.fqdn), store: switchTable.store(region), now: clock.now });
    await drops.store(eu.region).put({ pceFqdn: us.fqdn, dropped: true, changedAt: clock.t - 1, changedBy: 'op', wasLeader: true });
    await switches(eu.region).set(us.fqdn, true, 'op');
    const runtime = new FakeRuntimeState();
    await runtime.getOrCreate({ startedAt: 0, runlevel: 2 });
    const result = await rejoinPce(
      { config, writer: eu, drops: drops.store(eu.region), switches: switches(eu.region), dropsIn: (r) => drops.store(r), runtimeIn: () => runtime, probe: async () => (runtime.state?.runlevel === 5 ? 202 : 404), progress: () => undefined, changedBy: 'op', now: clock.now, sleep: clock.sleep },
      us.fqdn,
      { timeoutMs: 10_000 },
    );
    expect(result).toMatchObject({ pce_fqdn: us.fqdn, was_dropped: true, gslb_restored: true, runlevel: 5, serving: true });
    expect(isDropped([...drops.items.values()], us.fqdn)).toBe(false);
    expect((await switches(ap.region).readFresh(us.fqdn)).failedOver).toBe(false);
  });

  it('refuses to rejoin a PCE that does not answer yet', async () => {
    const drops = new FakeDropTable();
    const runtime = new FakeRuntimeState();
    await expect(
      rejoinPce(
        { config, writer: eu, drops: drops.store(eu.region), switches: new GslbSwitchService({ pceFqdns: [us.fqdn], store: new FakeSwitchTable().store(eu.region) }), dropsIn: (r) => drops.store(r), runtimeIn: () => runtime, probe: async () => null, progress: () => undefined, changedBy: 'op' },
        us.fqdn,
        { timeoutMs: 1 },
      ),
    ).rejects.toThrow(/does not answer/);
  });
});
