import { describe, expect, it } from 'vitest';
import type { ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import type { ManagedWorkloadFacts } from '../../../shared/compute/ports.ts';
import { CompiledPolicyView } from '../../../shared/compute/policy-view.ts';
import { IDLE_RULES_HASH, rulesHashOf } from '../../../shared/policy/compiled.ts';
import { computeWorld, MemoryCompiledStore, webToDbPolicy } from '../../helpers/compute.ts';

const wl = (id: string, labels: number[], ip: string, managingPceFqdn = 'me'): ManagedWorkloadFacts => ({ id, labels, ips: [ip], enforcementMode: 'full', managingPceFqdn });
const provision = (version: number): ComputeJobV1 => ({ version: 1, kind: 'recompute_all', org_id: 1, policy_version: version, slice: 0, slices: 1, requested_at: 0 });
const changed = (...ids: string[]): ComputeJobV1 => ({ version: 1, kind: 'workload_changed', org_id: 1, workload_ids: ids, requested_at: 0 });

async function setup() {
  const store = new MemoryCompiledStore();
  const world = computeWorld(store, [wl('web1', [1], '10.0.0.1'), wl('db1', [2], '10.0.1.1'), wl('db2', [2], '10.0.1.2', 'other')]);
  const compute = world.runtime();
  await compute.run(provision(1));
  let now = 1_000_000;
  const view = new CompiledPolicyView({ store, now: () => now });
  const stored = async (id: string) => (await store.getPolicy(1, id))?.policy;
  return { store, world, compute, view, stored, tick: (ms: number) => (now += ms) };
}

describe('CompiledPolicyView.current (the heartbeat path)', () => {
  it('answers the head version and the stored rules hash, reading the head at most once a second and the index once', async () => {
    const { store, view, stored, tick } = await setup();
    const reads = { ...store.reads };
    for (let i = 0; i < 50; i++) expect(await view.current(1, 'web1')).toMatchObject({ policyVersion: 1, rulesHash: (await stored('web1'))?.rulesHash });
    expect(store.reads.head - reads.head).toBe(1);
    expect(store.reads.loadIndex - reads.loadIndex).toBe(1);
    tick(999);
    await view.current(1, 'db1');
    expect(store.reads.head - reads.head).toBe(1);
    tick(2);
    await view.current(1, 'db1');
    expect(store.reads.head - reads.head).toBe(2);
    // the head did not move: nothing else read
    expect(store.reads.loadIndex - reads.loadIndex).toBe(1);
    expect(store.reads.getIndexEntries - reads.getIndexEntries).toBe(0);
  });

  it('null for a workload not computed here, and before any version is stored', async () => {
    const { view } = await setup();
    expect(await view.current(1, 'db2')).toBeNull();
    expect(await view.current(2, 'web1')).toBeNull();
  });

  it('follows a label change from the head log (one BatchGet of what changed), not by reloading the index', async () => {
    const { store, world, compute, view, stored, tick } = await setup();
    await view.current(1, 'web1');
    world.setFacts(world.facts().map((f) => (f.id === 'web1' ? { ...f, labels: [2] } : f)));
    await compute.run(changed('web1'));
    const reads = { ...store.reads };
    tick(1_001);
    const now = await view.current(1, 'web1');
    expect(now?.rulesHash).toBe((await stored('db1'))?.rulesHash);
    expect(store.reads.getIndexEntries - reads.getIndexEntries).toBe(1);
    expect(store.reads.loadIndex - reads.loadIndex).toBe(0);
  });

  it('follows a provision: the new version, the same hash where the rules did not change, the new hash where they did', async () => {
    const { world, compute, view, stored, tick } = await setup();
    const before = await view.current(1, 'db1');
    world.setActive({ version: 2, snapshot: webToDbPolicy(2, 5432) });
    await compute.run(provision(2));
    tick(1_001);
    expect(await view.current(1, 'db1')).toMatchObject({ policyVersion: 2, rulesHash: before?.rulesHash });
    world.setActive({ version: 3, snapshot: webToDbPolicy(3, 7777) });
    await compute.run(provision(3));
    tick(1_001);
    const after = await view.current(1, 'db1');
    expect(after).toMatchObject({ policyVersion: 3, rulesHash: (await stored('db1'))?.rulesHash });
    expect(after?.rulesHash).not.toBe(before?.rulesHash);
  });

  it('says since when the policy is available: the later of the run that made its version current and the last change of its rules', async () => {
    const store = new MemoryCompiledStore();
    let now = 100;
    const world = computeWorld(store, [wl('web1', [1], '10.0.0.1'), wl('db1', [2], '10.0.1.1'), wl('db2', [2], '10.0.1.2')], { now: () => now });
    const compute = world.runtime();
    const view = new CompiledPolicyView({ store, now: () => now });
    const at = async (id: string) => {
      now += 1_001;
      return (await view.current(1, id))?.availableAt;
    };
    await compute.run(provision(1));
    expect(await at('web1')).toBe(100);
    // a provision that changes no rule: the new version's run
    now = 5_000;
    world.setActive({ version: 2, snapshot: webToDbPolicy(2, 5432) });
    await compute.run(provision(2));
    expect(await at('web1')).toBe(5_000);
    // a label change: that workload's new pointer, no one else's
    now = 10_000;
    world.setFacts(world.facts().map((f) => (f.id === 'db2' ? { ...f, labels: [1] } : f)));
    await compute.run(changed('db2'));
    expect(await at('db2')).toBe(10_000);
    expect(await at('db1')).toBe(5_000);
    // a peer's address (new set contents, same version and rules): unchanged
    now = 20_000;
    world.setFacts(world.facts().map((f) => (f.id === 'db1' ? { ...f, ips: ['10.0.1.9'] } : f)));
    await compute.run(changed('db1'));
    expect(await at('web1')).toBe(5_000);
    // a provision that changes the db rules: their group's rewrite, with the version
    now = 30_000;
    world.setActive({ version: 3, snapshot: webToDbPolicy(3, 7777) });
    await compute.run(provision(3));
    expect(await at('db1')).toBe(30_000);
  });

  it('reloads the whole index when the epoch moved, when it missed more than the log holds, and every fullReloadMs', async () => {
    const { store, compute, view, tick } = await setup();
    await view.current(1, 'web1');
    let loads = store.reads.loadIndex;
    // a new epoch: a cold compute run (its picture came from the store)
    await compute.run(changed('db2'));
    await store.invalidate(1);
    tick(1_001);
    await view.current(1, 'web1');
    expect(store.reads.loadIndex).toBe(++loads);
    // a gap the log does not cover
    const h = store.heads.get(1);
    if (!h) throw new Error('no head');
    store.heads.set(1, { ...h, rev: h.rev + 2, log: [{ rev: h.rev + 2, workloads: ['web1'], groups: [] }] });
    tick(1_001);
    await view.current(1, 'web1');
    expect(store.reads.loadIndex).toBe(++loads);
    // nothing moved, but the safety net's time has come
    tick(5 * 60_000);
    await view.current(1, 'web1');
    expect(store.reads.loadIndex).toBe(loads + 1);
  });

  it('keeps answering from memory when the store fails after the first load', async () => {
    const { store, view, tick } = await setup();
    const first = await view.current(1, 'web1');
    store.head = async () => Promise.reject(new Error('throttled'));
    tick(1_001);
    expect(await view.current(1, 'web1')).toEqual(first);
    await expect(view.current(2, 'web1')).rejects.toThrow('throttled');
  });
});

describe('CompiledPolicyView.fetch (the policy call)', () => {
  it('full: the rules as stored (their hash verifies) and every set they use', async () => {
    const { view, stored } = await setup();
    const full = await view.fetch(1, 'web1', undefined);
    const policy = await stored('web1');
    expect(full).toMatchObject({ policy_version: 1, rules_hash: policy?.rulesHash, removed_ip_sets: [] });
    if (!full?.rules) throw new Error('no rules');
    expect(rulesHashOf(full.rules)).toBe(full.rules_hash);
    expect(full.rules).toMatchObject({ enforcement_mode: 'full', enforced: true, default_deny: true, inbound: [], outbound: [{ rule_id: 1, services: [{ proto: 6, port: 5432 }] }] });
    expect(full.ip_sets.map((s) => [s.id, s.members])).toEqual([[policy?.ipSetIds[0], ['10.0.1.1-10.0.1.2']]]);
  });

  it('delta: nothing when the VEN holds it all; only a changed set; the rules only when their hash differs; sets no longer used', async () => {
    const { world, compute, view, tick } = await setup();
    const full = await view.fetch(1, 'web1', undefined);
    if (!full) throw new Error('no policy');
    const held = Object.fromEntries(full.ip_sets.map((s) => [s.id, s.hash]));
    expect(await view.fetch(1, 'web1', { rules_hash: full.rules_hash, ip_sets: held })).toEqual({ policy_version: 1, rules_hash: full.rules_hash, ip_sets: [], removed_ip_sets: [] });
    // a peer's address changes: only that set comes
    world.setFacts(world.facts().map((f) => (f.id === 'db2' ? { ...f, ips: ['10.9.9.9'] } : f)));
    await compute.run(changed('db2'));
    tick(1_001);
    const delta = await view.fetch(1, 'web1', { rules_hash: full.rules_hash, ip_sets: { ...held, 'ls:gone': 'x' } });
    expect(delta?.rules).toBeUndefined();
    expect(delta?.ip_sets.map((s) => s.members)).toEqual([['10.0.1.1', '10.9.9.9']]);
    expect(delta?.removed_ip_sets).toEqual(['ls:gone']);
    // rules the VEN does not hold come with the answer
    expect((await view.fetch(1, 'web1', { rules_hash: null, ip_sets: {} }))?.rules).toBeDefined();
  });

  it('idle workloads get no rules and the idle hash; null when nothing is computed here', async () => {
    const { world, compute, view, tick } = await setup();
    world.setFacts(world.facts().map((f) => (f.id === 'db1' ? { ...f, enforcementMode: 'idle' } : f)));
    await compute.run(changed('db1'));
    tick(1_001);
    const idle = await view.fetch(1, 'db1', undefined);
    expect(idle).toMatchObject({ rules_hash: IDLE_RULES_HASH, rules: { enforcement_mode: 'idle', enforced: false, inbound: [], outbound: [], ip_set_ids: [] }, ip_sets: [] });
    expect(await view.fetch(1, 'db2', undefined)).toBeNull();
  });

  it('caches rule lists (content-addressed, never changed)', async () => {
    const { store, view } = await setup();
    await view.fetch(1, 'web1', undefined);
    const reads = store.reads.getRuleLists;
    await view.fetch(1, 'web1', undefined);
    expect(store.reads.getRuleLists).toBe(reads);
  });
});
