import { describe, expect, it } from 'vitest';
import { ComputeService } from '../../../shared/compute/compute-service.ts';
import type { ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import type { CompiledPolicyStore, ManagedWorkloadFacts, StoredCompiledPolicy, VersionedSnapshot } from '../../../shared/compute/ports.ts';
import type { CompiledIpSet, CompiledPolicy } from '../../../shared/policy/compiled.ts';
import { PolicyCompiler } from '../../../shared/policy/compiler/engine.ts';
import type { PolicySnapshot } from '../../../shared/policy/model.ts';

class MemoryCompiledStore implements CompiledPolicyStore {
  policies = new Map<string, StoredCompiledPolicy>();
  sets = new Map<string, CompiledIpSet>();
  writes = 0;
  slices = new Set<string>();
  async slicesDone(orgId: number, version: number) {
    return new Set([...this.slices].filter((s) => s.startsWith(`${orgId}/${version}/`)).map((s) => Number(s.split('/')[2])));
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
  async markSliceDone(orgId: number, version: number, slice: number) {
    this.slices.add(`${orgId}/${version}/${slice}`);
  }
  async summary() {
    return { workloads: this.policies.size, byVersion: {} };
  }
}

const snapshot = (version: number, port: number): PolicySnapshot => ({
  version,
  labels: [
    { id: 1, key: 'role', value: 'web' },
    { id: 2, key: 'role', value: 'db' },
  ],
  labelGroups: [],
  services: [],
  ipLists: [],
  ruleSets: [{ id: 1, enabled: true, scopes: [[]], rules: [{ id: 1, enabled: true, providers: [{ kind: 'label', id: 2 }], consumers: [{ kind: 'label', id: 1 }], ingressServices: [{ kind: 'port', proto: 6, port }], unscopedConsumers: false }] }],
});

function setup() {
  let active: VersionedSnapshot = { version: 1, snapshot: snapshot(1, 5432) };
  let facts: ManagedWorkloadFacts[] = [
    { id: 'web1', labels: [1], ips: ['10.0.0.1'], enforcementMode: 'full', managingPceFqdn: 'me' },
    { id: 'db1', labels: [2], ips: ['10.0.1.1'], enforcementMode: 'full', managingPceFqdn: 'me' },
    { id: 'db2', labels: [2], ips: ['10.0.1.2'], enforcementMode: 'full', managingPceFqdn: 'other' },
  ];
  const store = new MemoryCompiledStore();
  const service = new ComputeService({
    selfFqdn: 'me',
    policies: { getActive: async () => active, getVersion: async () => active },
    workloads: { listFacts: async () => facts },
    compiled: store,
    createCompiler: (s, w) => new PolicyCompiler(s, w),
    now: () => 1,
  });
  return {
    store,
    service,
    setActive: (v: VersionedSnapshot) => (active = v),
    setFacts: (f: ManagedWorkloadFacts[]) => (facts = f),
    facts: () => facts,
  };
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
});
