import { describe, expect, it } from 'vitest';
import { ComputeConflictError } from '../../../shared/compute/compute-service.ts';
import { sliceOf, type ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import type { ManagedWorkloadFacts } from '../../../shared/compute/ports.ts';
import type { PolicySnapshot } from '../../../shared/policy/model.ts';
import type { PolicyPublication } from '../../../shared/ven/ports.ts';
import { computeWorld, MemoryCompiledStore, webToDbPolicy } from '../../helpers/compute.ts';

const snapshot = webToDbPolicy;

const wl = (id: string, labels: number[], ip: string, managingPceFqdn = 'me', enforcementMode: ManagedWorkloadFacts['enforcementMode'] = 'full'): ManagedWorkloadFacts => ({ id, labels, ips: [ip], enforcementMode, managingPceFqdn });

function setup(options: Parameters<typeof computeWorld>[2] = {}) {
  const store = new MemoryCompiledStore();
  const world = computeWorld(store, [wl('web1', [1], '10.0.0.1'), wl('db1', [2], '10.0.1.1'), wl('db2', [2], '10.0.1.2', 'other')], { now: () => 1, ...options });
  return { store, service: world.runtime(), ...world };
}

const provision = (version: number, slice = 0, slices = 1): ComputeJobV1 => ({ version: 1, kind: 'recompute_all', org_id: 1, policy_version: version, slice, slices, requested_at: 0 });
const changed = (...ids: string[]): ComputeJobV1 => ({ version: 1, kind: 'workload_changed', org_id: 1, workload_ids: ids, requested_at: 0 });
const reconcile: ComputeJobV1 = { version: 1, kind: 'reconcile', org_id: 1, requested_at: 0 };

const policyOf = async (store: MemoryCompiledStore, id: string) => (await store.getPolicy(1, id))?.policy;
// the peers set web1 uses for the db workloads, as stored
const peersOfWeb1 = async (store: MemoryCompiledStore) => store.sets.get(`1/${(await policyOf(store, 'web1'))?.outbound[0]?.peers ?? ''}`)?.members;
const withIp = (facts: ManagedWorkloadFacts[], id: string, ip: string) => facts.map((f) => (f.id === id ? { ...f, ips: [ip] } : f));
const head = (store: MemoryCompiledStore) => store.heads.get(1);

describe('ComputeService: what a run stores', () => {
  it('compiles only the workloads this PCE manages: a pointer each, a group per label set, a rule list per group, the sets, the head', async () => {
    const { store, service } = setup();
    const first = await service.run(provision(1));
    expect([...store.pointers.keys()].sort()).toEqual(['1/db1', '1/web1']);
    expect(store.pointers.get('1/web1')).toMatchObject({ group: 'L#1', mode: 'full' });
    expect([...store.groups.keys()].sort()).toEqual(['1/L#1', '1/L#2']);
    expect(first).toMatchObject({ workloadsComputed: 2, pointersWritten: 2, groupsWritten: 2, ruleListsWritten: 2, ipSetsWritten: 2, itemsDeleted: 0 });
    expect(head(store)).toMatchObject({ seq: 1, policyVersion: 1, rev: 1 });
    const web1 = await policyOf(store, 'web1');
    expect(web1).toMatchObject({ policyVersion: 1, enforcementMode: 'full', outbound: [{ ruleId: 1, services: [{ proto: 6, port: 5432 }] }] });
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1-10.0.1.2']);
    // sets first, then the rule lists, the groups and pointers, the head last
    expect(store.ops).toEqual(['sets', 'lists', 'index', 'commit']);
  });

  it('a redelivered slice writes nothing new', async () => {
    const { store, service } = setup();
    await service.run(provision(1));
    const writes = store.writes;
    const again = await service.run(provision(1));
    expect(again.skipped).toMatch(/already done/);
    expect(store.writes).toBe(writes);
    expect(store.progress.get('1/1')?.done).toEqual(new Set([0]));
  });

  it('a cold runtime compares with what is stored (one Query of the index) and writes nothing for unchanged facts', async () => {
    const a = setup();
    await a.service.run(provision(1));
    const writes = a.store.writes;
    const cold = a.runtime();
    const out = await cold.run(changed('db2'));
    expect(out).toMatchObject({ workloadsComputed: 2, ipSetsWritten: 0, ruleListsWritten: 0, groupsWritten: 0, pointersWritten: 0 });
    expect(a.store.writes).toBe(writes);
    expect(a.store.reads.loadIndex).toBe(2);
    // a cold run tells readers to reload everything (it may have found what a failed run left)
    expect(head(a.store)).toMatchObject({ seq: 2, epoch: 2 });
  });

  it('a warm runtime compares with its picture of the store: no read of the index', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    setFacts(withIp(facts(), 'db2', '10.9.9.9'));
    await service.run(changed('db2'));
    expect(store.reads.loadIndex).toBe(1);
  });

  it("an IP change of a peer managed elsewhere writes the changed set only: no rules, no pointers", async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    const before = await policyOf(store, 'web1');
    const writes = store.writes;
    setFacts(withIp(facts(), 'db2', '10.9.9.9'));
    const out = await service.run(changed('db2'));
    expect(out).toMatchObject({ ipSetsWritten: 1, ruleListsWritten: 0, groupsWritten: 0, pointersWritten: 0 });
    expect(store.writes).toBe(writes + 1);
    expect((await policyOf(store, 'web1'))?.rulesHash).toBe(before?.rulesHash);
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.9.9.9']);
    expect(head(store)?.rev).toBe(1); // nothing in the index changed
  });

  it('with use_workload_subnets, a subnet change of a peer is a workload change like an IP change: the changed set only, no rules, no pointers', async () => {
    const { store, service, setFacts, facts, setActive } = setup();
    const base = snapshot(2, 5432);
    const rules = base.ruleSets[0]?.rules ?? [];
    setActive({ version: 2, snapshot: { ...base, ruleSets: [{ id: 1, enabled: true, scopes: [[]], rules: rules.map((r) => ({ ...r, useWorkloadSubnets: ['providers' as const] })) }] } });
    setFacts(facts().map((f) => (f.id === 'db2' ? { ...f, subnets: ['10.0.1.2'] } : f)));
    await service.run(provision(2));
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1-10.0.1.2']);
    const before = await policyOf(store, 'web1');
    const writes = store.writes;
    // db2's interface gets its prefix: same address, a subnet now
    setFacts(facts().map((f) => (f.id === 'db2' ? { ...f, subnets: ['10.0.1.0/28'] } : f)));
    const out = await service.run(changed('db2'));
    expect(out).toMatchObject({ ipSetsWritten: 1, ruleListsWritten: 0, groupsWritten: 0, pointersWritten: 0 });
    expect(store.writes).toBe(writes + 1);
    expect((await policyOf(store, 'web1'))?.rulesHash).toBe(before?.rulesHash);
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.0-10.0.1.15']);
  });

  it('a provision that leaves the rules as they were writes no item but the head', async () => {
    const { store, service, setActive } = setup();
    await service.run(provision(1));
    const before = await policyOf(store, 'db1');
    const writes = store.writes;
    setActive({ version: 2, snapshot: snapshot(2, 5432) });
    const out = await service.run(provision(2));
    expect(store.writes).toBe(writes);
    expect(out).toMatchObject({ workloadsComputed: 2, ipSetsWritten: 0, ruleListsWritten: 0, groupsWritten: 0, pointersWritten: 0 });
    expect(head(store)?.policyVersion).toBe(2);
    const after = await policyOf(store, 'db1');
    expect(after?.policyVersion).toBe(2);
    expect(after?.rulesHash).toBe(before?.rulesHash);
  });

  it('a one-rule change writes the groups whose rules changed and their new lists, whatever the number of workloads', async () => {
    const store = new MemoryCompiledStore();
    const many = [...Array.from({ length: 300 }, (_, i) => wl(`web${i}`, [1], `10.0.${i >> 8}.${i & 255}`)), ...Array.from({ length: 300 }, (_, i) => wl(`db${i}`, [2], `10.1.${i >> 8}.${i & 255}`))];
    const world = computeWorld(store, many);
    const service = world.runtime();
    await service.runBatch([provision(1, 0, 3), provision(1, 1, 3), provision(1, 2, 3)]);
    expect(store.pointers.size).toBe(600);
    const writes = store.writes;
    world.setActive({ version: 2, snapshot: snapshot(2, 6543) });
    const out = await service.runBatch([provision(2, 0, 3), provision(2, 1, 3), provision(2, 2, 3)]);
    // the web and db groups get new rule lists; no pointer, no set
    expect(out).toMatchObject({ workloadsComputed: 600, groupsWritten: 2, ruleListsWritten: 2, pointersWritten: 0, ipSetsWritten: 0 });
    expect(store.writes - writes).toBe(4);
    expect((await policyOf(store, 'db17'))?.inbound[0]?.services).toEqual([{ proto: 6, port: 6543 }]);
    expect((await policyOf(store, 'web299'))?.policyVersion).toBe(2);
  });

  it('the head names a version once all its slices are stored here', async () => {
    const { store, service, setActive } = setup();
    await service.run(provision(1));
    setActive({ version: 2, snapshot: snapshot(2, 6000) });
    const first = sliceOf('web1', 2);
    await service.run(provision(2, first, 2));
    expect(head(store)?.policyVersion).toBe(1);
    await service.run(provision(2, 1 - first, 2));
    expect(head(store)?.policyVersion).toBe(2);
    expect((await policyOf(store, 'db1'))?.inbound[0]?.services).toEqual([{ proto: 6, port: 6000 }]);
  });

  it("a version that changes an IP list's ranges rewrites the set (same id, same rules) in whichever slice uses it", async () => {
    const withList = (version: number, cidr: string): PolicySnapshot => ({
      ...snapshot(version, 5432),
      ipLists: [{ id: 7, ipRanges: [{ fromIp: cidr, exclusion: false }] }],
      ruleSets: [
        ...snapshot(version, 5432).ruleSets,
        { id: 2, enabled: true, scopes: [[]], rules: [{ id: 2, enabled: true, providers: [{ kind: 'label', id: 1 }], consumers: [{ kind: 'ip_list', id: 7 }], ingressServices: [{ kind: 'port', proto: 6, port: 443 }], unscopedConsumers: false }] },
      ],
    });
    // db1 is in slice 0 of 2, web2 (the only one using the IP list's set) in slice 1
    expect([sliceOf('db1', 2), sliceOf('web2', 2)]).toEqual([0, 1]);
    const store = new MemoryCompiledStore();
    const world = computeWorld(store, [wl('web2', [1], '10.0.0.2'), wl('db1', [2], '10.0.1.1')]);
    world.setActive({ version: 1, snapshot: withList(1, '192.168.0.0/24') });
    const service = world.runtime();
    await service.run(provision(1));
    const listSet = async () => {
      const web2 = await policyOf(store, 'web2');
      return store.sets.get(`1/${web2?.inbound.find((r) => r.ruleId === 2)?.peers ?? ''}`)?.members;
    };
    expect(await listSet()).toEqual(['192.168.0.0-192.168.0.255']);
    world.setActive({ version: 2, snapshot: withList(2, '192.168.1.0/24') });
    await service.run(provision(2, 0, 2));
    await service.run(provision(2, 1, 2)); // a warm compiler: nothing changed since the last run, but this slice's sets are new to the store
    expect(await listSet()).toEqual(['192.168.1.0-192.168.1.255']);
  });

  it('slices of a superseded version are skipped', async () => {
    const { service, setActive } = setup();
    await service.run(provision(1));
    setActive({ version: 2, snapshot: snapshot(2, 6543) });
    expect((await service.run(provision(1))).skipped).toMatch(/already done or superseded/);
  });

  it('a label change moves the pointer (the old group goes when empty, the head logs both); a mode change to idle leaves no group', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    setFacts(facts().map((f) => (f.id === 'web1' ? { ...f, labels: [2] } : f)));
    const out = await service.run(changed('web1'));
    expect(out).toMatchObject({ pointersWritten: 1, groupsWritten: 0, itemsDeleted: 1 });
    expect(store.pointers.get('1/web1')?.group).toBe('L#2');
    expect(store.groups.has('1/L#1')).toBe(false);
    expect(head(store)?.log.at(-1)).toEqual({ rev: 2, workloads: ['web1'], groups: ['L#1'] });
    setFacts(facts().map((f) => (f.id === 'db1' ? { ...f, enforcementMode: 'idle' } : f)));
    await service.run(changed('db1'));
    expect(store.pointers.get('1/db1')).toMatchObject({ group: null, mode: 'idle' });
    expect(await policyOf(store, 'db1')).toMatchObject({ enforcementMode: 'idle', inbound: [], outbound: [], ipSetIds: [] });
  });

  it('a workload an actor names gets a group of its own', async () => {
    const { store, service, setActive } = setup();
    const named: PolicySnapshot = {
      ...snapshot(1, 5432),
      ruleSets: [{ id: 1, enabled: true, scopes: [[]], rules: [{ id: 1, enabled: true, providers: [{ kind: 'workload', id: 'db1' }], consumers: [{ kind: 'label', id: 1 }], ingressServices: [{ kind: 'port', proto: 6, port: 22 }], unscopedConsumers: false }] }],
    };
    setActive({ version: 1, snapshot: named });
    await service.run(provision(1));
    expect(store.pointers.get('1/db1')?.group).toBe('W#db1');
    expect((await policyOf(store, 'db1'))?.inbound[0]?.services).toEqual([{ proto: 6, port: 22 }]);
  });

  it('a warm run of workload changes reads only those workloads; a new one and a deleted one are seen; a cold run, a provision or a reconcile reads them all', async () => {
    const { store, service, setFacts, facts, reads, runtime } = setup();
    await service.run(provision(1));
    expect(reads).toMatchObject({ full: 1, targeted: 0 });
    setFacts([...withIp(facts(), 'db2', '10.9.9.9'), wl('db3', [2], '10.0.1.3')]);
    await service.run(changed('db2', 'db3'));
    expect(reads).toMatchObject({ full: 1, targeted: 1, targetedIds: 2 });
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.0.1.3', '10.9.9.9']);
    expect(store.pointers.has('1/db3')).toBe(true);
    setFacts(facts().filter((f) => f.id !== 'db1'));
    await service.run(changed('db1'));
    expect(reads.targeted).toBe(2);
    expect(store.pointers.has('1/db1')).toBe(false);
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.3', '10.9.9.9']);
    // the warm picture equals what a full read computes: a cold runtime's reconcile writes nothing new
    const checked = await runtime().run(reconcile);
    expect(reads.full).toBe(2);
    expect(checked).toMatchObject({ pointersWritten: 0, groupsWritten: 0, ruleListsWritten: 0, ipSetsWritten: 0, itemsDeleted: 0 });
    await service.run(changed('web1'));
    expect(reads.full).toBe(3); // another runtime wrote since: cold again, everything read
  });

  it('drops the pointer of a workload that moved to another PCE', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    setFacts(facts().map((f) => (f.id === 'web1' ? { ...f, managingPceFqdn: 'other' } : f)));
    await service.run(changed('web1'));
    expect(store.pointers.has('1/web1')).toBe(false);
    expect(store.groups.has('1/L#1')).toBe(false);
    expect(await store.getPolicy(1, 'web1')).toBeNull();
  });
});

describe('ComputeService: runs never leave older compiled policy behind (docs/adr/0007)', () => {
  it('forgets its state when a batch fails, so the retry still sees the change; the failure sends every runtime and reader back to the store', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    const before = head(store);
    setFacts(withIp(facts(), 'db2', '10.7.7.7'));
    const putIpSets = store.putIpSets.bind(store);
    store.putIpSets = async () => Promise.reject(new Error('throttled'));
    await expect(service.run(changed('db2'))).rejects.toThrow('throttled');
    expect(store.ops.at(-1)).toBe('invalidate');
    expect(head(store)).toMatchObject({ seq: (before?.seq ?? 0) + 1, epoch: (before?.epoch ?? 0) + 1 });
    store.putIpSets = putIpSets;
    await service.run(changed('db2'));
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.7.7.7']);
  });

  it('a warm runtime goes cold once another runtime has written: an IP changed and changed back is rewritten', async () => {
    const { store, service: a, runtime, setFacts, facts } = setup();
    const b = runtime();
    await a.run(provision(1));
    setFacts(withIp(facts(), 'db2', '10.5.5.5'));
    await b.run(changed('db2'));
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.5.5.5']);
    // back to the address runtime a compiled with: its own diff would be empty
    setFacts(withIp(facts(), 'db2', '10.0.1.2'));
    await a.run(changed('db2'));
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1-10.0.1.2']);
  });

  it('a provision slice on a warm runtime computes from the facts it holds; a workload change is written by its own job, also when it comes after', async () => {
    const { store, service, setActive, setFacts, facts } = setup();
    setActive({ version: 2, snapshot: snapshot(2, 5432) });
    const web1Slice = sliceOf('web1', 2);
    await service.run(provision(2, web1Slice, 2));
    setFacts(withIp(facts(), 'db2', '10.6.6.6'));
    // the other slice: no workload read (the stream router queues db2's change as a workload_changed job)
    await service.run(provision(2, 1 - web1Slice, 2));
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1-10.0.1.2']);
    await service.run(changed('db2'));
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.6.6.6']);
  });

  it('a redelivered slice that is already done does not swallow a change the next job must write', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    setFacts(withIp(facts(), 'db2', '10.8.8.8'));
    expect((await service.run(provision(1))).skipped).toMatch(/already done/);
    await service.run(changed('db2'));
    expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.8.8.8']);
  });

  it('a run overtaken by another completed run fails with ComputeConflictError, and its retry writes the newest facts, on whichever runtime', async () => {
    for (const retryOn of ['overtaken', 'overtaker'] as const) {
      const { store, service: a, runtime, onNextRead, setFacts, facts } = setup();
      const b = runtime();
      await a.run(provision(1));
      const initial = facts();
      // a reads db2 at .3; while it computes, db2 moves to .9 and b (reading .9) completes first
      setFacts(withIp(initial, 'db2', '10.0.1.3'));
      onNextRead(async () => {
        setFacts(withIp(initial, 'db2', '10.9.9.9'));
        await b.run(changed('db2'));
      });
      await expect(a.run(changed('db2'))).rejects.toBeInstanceOf(ComputeConflictError);
      // a wrote its older set over b's, then sent every runtime back to the store
      expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.0.1.3']);
      expect(store.ops.slice(-2)).toEqual(['commit', 'invalidate']);
      // the redelivered job: b is warm, but the sequence moved, so it too compares with the store
      await (retryOn === 'overtaken' ? a : b).run(changed('db2'));
      expect(await peersOfWeb1(store)).toEqual(['10.0.1.1', '10.9.9.9']);
    }
  });

  it('a reconcile job makes good lost jobs: a change nobody was told about, the slices never run, a workload gone', async () => {
    const { store, service, setActive, setFacts, facts } = setup();
    await service.run(provision(1));
    setActive({ version: 2, snapshot: snapshot(2, 6000) });
    await service.run(provision(2, sliceOf('db1', 2), 2)); // the other slice's job was lost
    setFacts(withIp(facts(), 'db2', '10.4.4.4')); // and so was this change's job
    const gone = facts().filter((f) => f.id !== 'db1');
    setFacts(gone); // and db1's deletion
    await service.run(reconcile);
    expect(head(store)?.policyVersion).toBe(2);
    expect((await policyOf(store, 'web1'))?.outbound[0]?.services).toEqual([{ proto: 6, port: 6000 }]);
    expect(await peersOfWeb1(store)).toEqual(['10.4.4.4']);
    expect(store.pointers.has('1/db1')).toBe(false);
    expect(store.groups.has('1/L#2')).toBe(false);
    expect((await store.sliceProgress(1, 2))?.done).toEqual(new Set([0, 1]));
    const writes = store.writes;
    await service.run(reconcile);
    expect(store.writes).toBe(writes);
  });

  it("a second leader's document numbered like the first is computed, not skipped as done", async () => {
    const { store, service, setActive } = setup();
    setActive({ version: 2, snapshot: snapshot(2, 7000), sha256: 'first-leader' });
    await service.run(provision(2));
    // after a failover, the new leader's version 2 (another document) becomes active
    setActive({ version: 2, snapshot: snapshot(2, 7001), sha256: 'second-leader' });
    const out = await service.run(provision(2));
    expect(out.skipped).toBeUndefined();
    expect((await policyOf(store, 'db1'))?.inbound[0]?.services).toEqual([{ proto: 6, port: 7001 }]);
    expect(head(store)).toMatchObject({ policyVersion: 2, sha256: 'second-leader' });
  });
});

describe('ComputeService: publishing', () => {
  const recorder = () => {
    const publications: PolicyPublication[] = [];
    return { publications, publisher: { published: async (p: PolicyPublication) => void publications.push(p) } };
  };

  it('tells the publisher what a run stored, after the head: changed rules, changed sets, the head version', async () => {
    const { publications, publisher } = recorder();
    let headAtPublish: number | null | undefined;
    const store = new MemoryCompiledStore();
    const world = computeWorld(store, [wl('web1', [1], '10.0.0.1'), wl('db1', [2], '10.0.1.1'), wl('db2', [2], '10.0.1.2', 'other')], {
      publisher: { published: async (p) => void ((headAtPublish = store.heads.get(1)?.policyVersion), publisher.published(p)) },
    });
    const service = world.runtime();
    await service.run(provision(1));
    expect(headAtPublish).toBe(1);
    const first = publications[0];
    expect(first).toMatchObject({ orgId: 1, policyVersion: 1, everything: false });
    expect([...(first?.rulesChanged ?? [])].sort()).toEqual(['db1', 'web1']);
    expect(first?.policyOf('web1')).toMatchObject({ workloadId: 'web1', policyVersion: 1 });
    expect(first?.policyOf('db2')).toBeNull(); // managed elsewhere
    // an IP change: the set, no rules
    world.setFacts(withIp(world.facts(), 'db2', '10.3.3.3'));
    await service.run(changed('db2'));
    const second = publications[1];
    expect(second?.rulesChanged.size).toBe(0);
    expect([...(second?.changedIpSets.values() ?? [])].map((s) => s.members)).toEqual([['10.0.1.1', '10.3.3.3']]);
    // nothing changed: nothing to tell
    await service.run(changed('db2'));
    expect(publications).toHaveLength(2);
    // a new version that leaves the rules: every VEN learns the version, nobody's rules changed
    world.setActive({ version: 2, snapshot: snapshot(2, 5432) });
    await service.run(provision(2));
    expect(publications[2]).toMatchObject({ policyVersion: 2 });
    expect(publications[2]?.rulesChanged.size).toBe(0);
    expect(publications[2]?.policyOf('db1')?.policyVersion).toBe(2);
    // a reconcile tells everything, with every set
    await service.run(reconcile);
    expect(publications[3]?.everything).toBe(true);
    expect(publications[3]?.changedIpSets.size).toBe(2);
  });

  it('tells VENs the head version while a provision is still being stored, and only of what is stored', async () => {
    const { publications, publisher } = recorder();
    // db1 is in slice 0 of 2, web2 in slice 1
    expect([sliceOf('db1', 2), sliceOf('web2', 2)]).toEqual([0, 1]);
    const world = computeWorld(new MemoryCompiledStore(), [wl('web2', [1], '10.0.0.2'), wl('db1', [2], '10.0.1.1')], { publisher });
    const service = world.runtime();
    await service.run(provision(1));
    world.setActive({ version: 2, snapshot: snapshot(2, 6000) });
    await service.run(provision(2, 0, 2));
    const p = publications.at(-1);
    expect(p?.policyVersion).toBe(1);
    expect([...(p?.rulesChanged ?? [])]).toEqual(['db1']);
    expect(p?.policyOf('db1')).toMatchObject({ policyVersion: 1, inbound: [{ services: [{ proto: 6, port: 6000 }] }] });
    expect(p?.policyOf('web2')).toBeNull(); // its group still holds version 1's rules
    await service.run(provision(2, 1, 2));
    expect(publications.at(-1)?.policyVersion).toBe(2);
    expect(publications.at(-1)?.policyOf('web2')).toMatchObject({ policyVersion: 2, outbound: [{ services: [{ proto: 6, port: 6000 }] }] });
  });

  it('a publisher failure is logged and does not fail the run', async () => {
    const warnings: string[] = [];
    const { store, service } = setup({ publisher: { published: async () => Promise.reject(new Error('push channel down')) }, logger: { warn: (m) => void warnings.push(m) } });
    const out = await service.run(provision(1));
    expect(out.pointersWritten).toBe(2);
    expect(head(store)?.policyVersion).toBe(1);
    expect(warnings).toEqual([expect.stringContaining('publication failed')]);
  });
});
