import { describe, expect, it } from 'vitest';
import { ComputeConflictError } from '../../../shared/compute/compute-service.ts';
import { sliceOf, type ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import type { CompiledPolicyStore, ManagedWorkloadFacts, StoredCompiledPolicy } from '../../../shared/compute/ports.ts';
import type { CompiledIpSet, CompiledPolicy } from '../../../shared/policy/compiled.ts';
import { computeWorld, webToDbPolicy } from '../../helpers/compute.ts';

class MemoryCompiledStore implements CompiledPolicyStore {
  policies = new Map<string, StoredCompiledPolicy>();
  sets = new Map<string, CompiledIpSet>();
  writes = 0;
  slices = new Set<string>();
  sliceCounts = new Map<string, { slices: number; sha256: string | undefined }>();
  seq = new Map<number, number>();
  async sliceProgress(orgId: number, version: number, sha256?: string) {
    const stored = this.sliceCounts.get(`${orgId}/${version}`);
    if (stored === undefined || stored.sha256 !== sha256) return null;
    return { slices: stored.slices, done: new Set([...this.slices].filter((s) => s.startsWith(`${orgId}/${version}/`)).map((s) => Number(s.split('/')[2]))) };
  }
  async computeSeq(orgId: number) {
    return this.seq.get(orgId) ?? 0;
  }
  async advanceComputeSeq(orgId: number, expected: number) {
    if ((this.seq.get(orgId) ?? 0) !== expected) return false;
    this.seq.set(orgId, expected + 1);
    return true;
  }
  async putPolicies(policies: readonly CompiledPolicy[], computedAt: number) {
    const changed = policies.filter((p) => {
      const s = this.policies.get(p.workloadId)?.policy;
      return !s || s.rulesHash !== p.rulesHash || s.policyVersion !== p.policyVersion;
    });
    changed.forEach((p) => this.policies.set(p.workloadId, { policy: p, computedAt }));
    this.writes += changed.length;
    return changed.length;
  }
  async putIpSets(sets: readonly CompiledIpSet[]) {
    const changed = sets.filter((s) => this.sets.get(s.id)?.hash !== s.hash);
    changed.forEach((s) => this.sets.set(s.id, s));
    this.writes += changed.length;
    return changed.length;
  }
  async getPolicy(id: string) {
    return this.policies.get(id) ?? null;
  }
  async getIpSets(ids: readonly string[]) {
    return ids.flatMap((id) => this.sets.get(id) ?? []);
  }
  async deletePolicy(id: string) {
    this.policies.delete(id);
  }
  async markSlicesDone(orgId: number, version: number, done: readonly number[], slices: number, sha256?: string) {
    if (done.length === 0) return;
    if (this.sliceCounts.get(`${orgId}/${version}`)?.sha256 !== sha256) this.slices = new Set([...this.slices].filter((s) => !s.startsWith(`${orgId}/${version}/`)));
    done.forEach((slice) => this.slices.add(`${orgId}/${version}/${slice}`));
    this.sliceCounts.set(`${orgId}/${version}`, { slices, sha256 });
  }
  async summary() {
    return { workloads: this.policies.size, byVersion: {} };
  }
}

const snapshot = webToDbPolicy;

function setup() {
  const store = new MemoryCompiledStore();
  const world = computeWorld(
    store,
    [
      { id: 'web1', labels: [1], ips: ['10.0.0.1'], enforcementMode: 'full', managingPceFqdn: 'me' },
      { id: 'db1', labels: [2], ips: ['10.0.1.1'], enforcementMode: 'full', managingPceFqdn: 'me' },
      { id: 'db2', labels: [2], ips: ['10.0.1.2'], enforcementMode: 'full', managingPceFqdn: 'other' },
    ],
    { now: () => 1 },
  );
  return { store, service: world.runtime(), ...world };
}

const provision = (version: number, slice = 0, slices = 1): ComputeJobV1 => ({ version: 1, kind: 'recompute_all', org_id: 1, policy_version: version, slice, slices, requested_at: 0 });
const changed = (id: string): ComputeJobV1 => ({ version: 1, kind: 'workload_changed', org_id: 1, workload_ids: [id], requested_at: 0 });

describe('ComputeService', () => {
  it('compiles only the workloads this PCE manages, and redelivery writes nothing new', async () => {
    const { store, service } = setup();
    const first = await service.run(provision(1));
    expect([...store.policies.keys()].sort()).toEqual(['db1', 'web1']);
    expect(first.policiesWritten).toBe(2);
    const writes = store.writes;
    const again = await service.run(provision(1));
    expect(again.policiesWritten).toBe(0);
    expect(store.writes).toBe(writes);
    expect(store.slices.has('1/1/0')).toBe(true);
  });

  it('a cold runtime recomputes to the same hashes (idempotent across restarts)', async () => {
    const a = setup();
    await a.service.run(provision(1));
    const b = setup();
    b.store.policies = a.store.policies;
    b.store.sets = a.store.sets;
    const out = await b.service.run(changed('db2'));
    expect(out.policiesWritten).toBe(0);
    expect(out.ipSetsWritten).toBe(0);
  });

  it("an IP change of a peer managed elsewhere updates set contents only", async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    const before = store.policies.get('web1')?.policy.rulesHash;
    setFacts(facts().map((f) => (f.id === 'db2' ? { ...f, ips: ['10.9.9.9'] } : f)));
    const out = await service.run(changed('db2'));
    expect(out.policiesWritten).toBe(0);
    expect(out.ipSetsWritten).toBeGreaterThan(0);
    const web1 = store.policies.get('web1')?.policy;
    expect(web1?.rulesHash).toBe(before);
    const peers = store.sets.get(web1?.outbound[0]?.peers ?? '');
    expect(peers?.members).toEqual(['10.0.1.1', '10.9.9.9']);
  });

  it('slices of a superseded version are skipped; a newer provision rewrites every rule', async () => {
    const { store, service, setActive } = setup();
    await service.run(provision(1));
    setActive({ version: 2, snapshot: snapshot(2, 6543) });
    const stale = await service.run(provision(1));
    expect(stale.skipped).toMatch(/already done or superseded/);
    await service.runBatch([provision(2, 0, 2), provision(2, 1, 2)]);
    expect(store.policies.get('db1')?.policy.policyVersion).toBe(2);
    expect(store.policies.get('db1')?.policy.inbound[0]?.services).toEqual([{ proto: 6, port: 6543 }]);
  });

  it('forgets the warm compiler when a batch fails, so the retry still sees the change', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    setFacts(facts().map((f) => (f.id === 'db2' ? { ...f, ips: ['10.7.7.7'] } : f)));
    const putIpSets = store.putIpSets.bind(store);
    store.putIpSets = async () => Promise.reject(new Error('throttled'));
    await expect(service.run(changed('db2'))).rejects.toThrow('throttled');
    store.putIpSets = putIpSets;
    await service.run(changed('db2'));
    const web1 = store.policies.get('web1')?.policy;
    expect(store.sets.get(web1?.outbound[0]?.peers ?? '')?.members).toEqual(['10.0.1.1', '10.7.7.7']);
  });

  it('drops the compiled policy of a workload that moved to another PCE', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    setFacts(facts().map((f) => (f.id === 'web1' ? { ...f, managingPceFqdn: 'other' } : f)));
    await service.run(changed('web1'));
    expect(store.policies.has('web1')).toBe(false);
  });

  // the peers set web1 uses for the db workloads, as stored
  const peersOfWeb1 = (store: MemoryCompiledStore) => store.sets.get(store.policies.get('web1')?.policy.outbound[0]?.peers ?? '')?.members;
  const withDb2Ip = (facts: ManagedWorkloadFacts[], ip: string) => facts.map((f) => (f.id === 'db2' ? { ...f, ips: [ip] } : f));

  it('a warm runtime goes cold once another runtime has written: an IP changed and changed back is rewritten', async () => {
    const { store, service: a, runtime, setFacts, facts } = setup();
    const b = runtime();
    await a.run(provision(1));
    setFacts(withDb2Ip(facts(), '10.5.5.5'));
    await b.run(changed('db2'));
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1', '10.5.5.5']);
    // back to the address runtime a compiled with: its own diff would be empty
    setFacts(withDb2Ip(facts(), '10.0.1.2'));
    await a.run(changed('db2'));
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1-10.0.1.2']);
  });

  it('a provision slice that brings a workload change into a warm compiler writes what the change touches', async () => {
    const { store, service, setActive, setFacts, facts } = setup();
    setActive({ version: 2, snapshot: snapshot(2, 5432) });
    const web1Slice = sliceOf('web1', 2);
    await service.run(provision(2, web1Slice, 2));
    setFacts(withDb2Ip(facts(), '10.6.6.6'));
    // the other slice: web1 is not in it, but the set it uses changed
    await service.run(provision(2, 1 - web1Slice, 2));
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1', '10.6.6.6']);
    await service.run(changed('db2'));
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1', '10.6.6.6']);
  });

  it('a redelivered slice that is already done does not swallow a change the next job must write', async () => {
    const { store, service, setFacts, facts } = setup();
    await service.run(provision(1));
    setFacts(withDb2Ip(facts(), '10.8.8.8'));
    expect((await service.run(provision(1))).skipped).toMatch(/already done/);
    await service.run(changed('db2'));
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1', '10.8.8.8']);
  });

  it('a run overtaken by another completed run fails with ComputeConflictError and its retry writes the newest facts', async () => {
    const { store, service: a, runtime, onNextRead, setFacts, facts } = setup();
    const b = runtime();
    await a.run(provision(1));
    const initial = facts();
    // a reads db2 at .3; while it computes, db2 moves to .9 and b (reading .9) completes first
    setFacts(withDb2Ip(initial, '10.0.1.3'));
    onNextRead(async () => {
      setFacts(withDb2Ip(initial, '10.9.9.9'));
      await b.run(changed('db2'));
    });
    await expect(a.run(changed('db2'))).rejects.toBeInstanceOf(ComputeConflictError);
    // a wrote its older set over b's; the retry (the redelivered job) repairs it
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1', '10.0.1.3']);
    await a.run(changed('db2'));
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1', '10.9.9.9']);
  });

  it('a reconcile job makes good lost jobs: a change nobody was told about and the slices never run', async () => {
    const { store, service, setActive, setFacts, facts } = setup();
    await service.run(provision(1));
    setActive({ version: 2, snapshot: snapshot(2, 6000) });
    await service.run(provision(2, sliceOf('db1', 2), 2)); // the other slice's job was lost
    setFacts(withDb2Ip(facts(), '10.4.4.4')); // and so was this change's job
    const reconcile: ComputeJobV1 = { version: 1, kind: 'reconcile', org_id: 1, requested_at: 0 };
    await service.run(reconcile);
    expect(store.policies.get('web1')?.policy.policyVersion).toBe(2);
    expect(peersOfWeb1(store)).toEqual(['10.0.1.1', '10.4.4.4']);
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
    expect(store.policies.get('db1')?.policy.inbound[0]?.services).toEqual([{ proto: 6, port: 7001 }]);
  });
});
