import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledIpSet, CompiledPolicy } from '../../../shared/policy/compiled.ts';
import { PolicyCompiler } from '../../../shared/policy/compiler/index.ts';
import { IpRangeSet } from '../../../shared/policy/ip/index.ts';
import type { EnforcementMode, PolicySnapshot, WorkloadFacts } from '../../../shared/policy/model.ts';
import { WORKLOAD_IDS, factsFor, modeArb, scenarioArb, workloadAddressing, workloadIps, workloadLabels } from './arbitraries.ts';
import { assertEngineMatchesReference } from './helpers.ts';

interface View {
  readonly policies: Record<string, CompiledPolicy>;
  readonly sets: Record<string, CompiledIpSet>;
}

function view(engine: PolicyCompiler): View {
  const policies = Object.fromEntries([...engine.compileAll()].sort(([a], [b]) => (a < b ? -1 : 1)));
  const sets = Object.fromEntries(engine.ipSetIds().map((id) => [id, engine.ipSet(id)]));
  return { policies, sets };
}

type Op =
  | { readonly kind: 'put'; readonly facts: WorkloadFacts }
  | { readonly kind: 'ips'; readonly pick: number; readonly ips: string[] }
  | { readonly kind: 'interfaces'; readonly pick: number; readonly addressing: Pick<WorkloadFacts, 'ips' | 'subnets'> }
  | { readonly kind: 'labels'; readonly pick: number; readonly labels: number[] }
  | { readonly kind: 'mode'; readonly pick: number; readonly mode: EnforcementMode }
  | { readonly kind: 'remove'; readonly pick: number };

const pick = fc.nat({ max: 99 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constantFrom(...WORKLOAD_IDS).chain((id) => factsFor(id).map((facts) => ({ kind: 'put' as const, facts }))),
  fc.record({ kind: fc.constant('ips' as const), pick, ips: workloadIps }),
  fc.record({ kind: fc.constant('interfaces' as const), pick, addressing: workloadAddressing }),
  fc.record({ kind: fc.constant('labels' as const), pick, labels: workloadLabels }),
  fc.record({ kind: fc.constant('mode' as const), pick, mode: modeArb }),
  fc.record({ kind: fc.constant('remove' as const), pick }),
);

/** applies `op` to the engine and to the facts map; returns the engine's answer */
function apply(engine: PolicyCompiler, facts: Map<string, WorkloadFacts>, op: Op): { changedIpSets: string[]; rulesChanged: string[] } | null {
  if (op.kind === 'put') {
    facts.set(op.facts.id, op.facts);
    return engine.updateWorkload(op.facts);
  }
  const ids = [...facts.keys()];
  if (ids.length === 0) return null;
  const id = ids[op.pick % ids.length] as string;
  const cur = facts.get(id) as WorkloadFacts;
  if (op.kind === 'remove') {
    facts.delete(id);
    return engine.removeWorkload(id);
  }
  const next: WorkloadFacts =
    op.kind === 'ips'
      ? { ...cur, ips: op.ips }
      : op.kind === 'interfaces'
        ? { id: cur.id, labels: cur.labels, enforcementMode: cur.enforcementMode, ...op.addressing }
        : op.kind === 'labels' ? { ...cur, labels: op.labels } : { ...cur, enforcementMode: op.mode };
  facts.set(id, next);
  return engine.updateWorkload(next);
}

function expectedDelta(before: View, after: View): { changedIpSets: string[]; rulesChanged: string[] } {
  const ids = new Set([...Object.keys(before.policies), ...Object.keys(after.policies)]);
  const rulesChanged = [...ids].filter((id) => before.policies[id]?.rulesHash !== after.policies[id]?.rulesHash).sort();
  const changedIpSets = Object.keys(after.sets)
    .filter((id) => JSON.stringify(before.sets[id]?.members) !== JSON.stringify(after.sets[id]?.members))
    .sort();
  return { changedIpSets, rulesChanged };
}

describe('incremental updates', () => {
  it('updateWorkload/removeWorkload report exactly what changed and end where a fresh compile starts', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(opArb, { minLength: 1, maxLength: 6 }), ({ snapshot, workloads }, ops) => {
        const engine = new PolicyCompiler(snapshot, workloads);
        const facts = new Map(workloads.map((w) => [w.id, w]));
        for (const op of ops) {
          const before = view(engine);
          const got = apply(engine, facts, op);
          if (!got) continue;
          const after = view(engine);
          expect(got).toEqual(expectedDelta(before, after));
          expect(after).toEqual(view(new PolicyCompiler(snapshot, [...facts.values()])));
        }
        assertEngineMatchesReference(snapshot, [...facts.values()], engine);
      }),
      { numRuns: 600 },
    );
  });

  it('an IP-only change leaves every rulesHash unchanged and changes only the sets holding the workload', () => {
    fc.assert(
      fc.property(scenarioArb, pick, workloadIps, ({ snapshot, workloads }, p, ips) => {
        const engine = new PolicyCompiler(snapshot, workloads);
        const w = workloads[p % workloads.length] as WorkloadFacts;
        const before = view(engine);
        const delta = engine.updateWorkload({ ...w, ips });
        const after = view(engine);
        expect(delta.rulesChanged).toEqual([]);
        for (const [id, policy] of Object.entries(after.policies)) expect(policy).toEqual(before.policies[id]);
        expect(Object.keys(after.sets)).toEqual(Object.keys(before.sets));
        expect(delta).toEqual(expectedDelta(before, after));
        const workloadIn = (members: readonly string[] | undefined, addrs: readonly string[]): boolean => addrs.some((a) => IpRangeSet.parse(members ?? []).contains(a));
        for (const id of delta.changedIpSets) expect(workloadIn(before.sets[id]?.members, w.ips) || workloadIn(after.sets[id]?.members, ips)).toBe(true);
        expect(view(new PolicyCompiler(snapshot, workloads.map((x) => (x.id === w.id ? { ...w, ips } : x))))).toEqual(after);
      }),
      { numRuns: 400 },
    );
  });

  it('a subnet-only change (interfaces keep their addresses, change their prefixes) leaves every rulesHash unchanged and changes only the sets holding the workload', () => {
    fc.assert(
      fc.property(scenarioArb, pick, fc.array(fc.integer({ min: 28, max: 32 }), { minLength: 3, maxLength: 3 }), ({ snapshot, workloads }, p, prefixes) => {
        const engine = new PolicyCompiler(snapshot, workloads);
        const w = workloads[p % workloads.length] as WorkloadFacts;
        const subnets = w.ips.map((ip, i) => (ip.includes(':') || prefixes[i] === 32 ? ip : `${ip}/${prefixes[i] ?? 32}`));
        const before = view(engine);
        const delta = engine.updateWorkload({ ...w, subnets });
        const after = view(engine);
        expect(delta.rulesChanged).toEqual([]);
        for (const [id, policy] of Object.entries(after.policies)) expect(policy).toEqual(before.policies[id]);
        expect(Object.keys(after.sets)).toEqual(Object.keys(before.sets));
        expect(delta).toEqual(expectedDelta(before, after));
        const covers = (members: readonly string[] | undefined, nets: readonly string[]): boolean => nets.some((n) => IpRangeSet.parse(members ?? []).contains(n.split('/')[0] as string));
        for (const id of delta.changedIpSets) expect(covers(before.sets[id]?.members, w.subnets ?? w.ips) || covers(after.sets[id]?.members, subnets)).toBe(true);
        expect(view(new PolicyCompiler(snapshot, workloads.map((x) => (x.id === w.id ? { ...w, subnets } : x))))).toEqual(after);
      }),
      { numRuns: 400 },
    );
  });
});

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function permuted(snapshot: PolicySnapshot, seed: number): PolicySnapshot {
  return {
    version: snapshot.version,
    labels: shuffled(snapshot.labels, seed),
    labelGroups: shuffled(snapshot.labelGroups, seed + 1).map((g) => ({ ...g, labels: shuffled(g.labels, seed + 2), subGroups: shuffled(g.subGroups, seed + 3) })),
    services: shuffled(snapshot.services, seed + 4).map((s) => ({ ...s, servicePorts: shuffled(s.servicePorts, seed + 5) })),
    ipLists: shuffled(snapshot.ipLists, seed + 6).map((l) => ({ ...l, ipRanges: shuffled(l.ipRanges, seed + 7) })),
    ruleSets: shuffled(snapshot.ruleSets, seed + 8).map((rs) => ({
      ...rs,
      scopes: shuffled(rs.scopes, seed + 9).map((sc) => shuffled(sc, seed + 10)),
      rules: shuffled(rs.rules, seed + 11).map((r) => ({
        ...r,
        providers: shuffled(r.providers, seed + 12),
        consumers: shuffled(r.consumers, seed + 13),
        ingressServices: shuffled(r.ingressServices, seed + 14),
        ...(r.useWorkloadSubnets ? { useWorkloadSubnets: shuffled(r.useWorkloadSubnets, seed + 24) } : {}),
      })),
    })),
    virtualServices: shuffled(snapshot.virtualServices ?? [], seed + 15).map((vs) => ({ ...vs, servicePorts: shuffled(vs.servicePorts, seed + 16), workloads: shuffled(vs.workloads, seed + 17) })),
    enforcementBoundaries: shuffled(snapshot.enforcementBoundaries ?? [], seed + 18).map((b) => ({ ...b, providers: shuffled(b.providers, seed + 19), consumers: shuffled(b.consumers, seed + 22) })),
  };
}

describe('determinism', () => {
  it('the same inputs give the same hashes, set ids and contents, whatever the order they come in', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ snapshot, workloads }, seed) => {
        const a = view(new PolicyCompiler(snapshot, workloads));
        expect(view(new PolicyCompiler(snapshot, workloads))).toEqual(a);
        const shuffledWorkloads = shuffled(workloads, seed).map((w) => ({ ...w, labels: shuffled(w.labels, seed + 20), ips: shuffled(w.ips, seed + 21), ...(w.subnets ? { subnets: shuffled(w.subnets, seed + 23) } : {}) }));
        expect(view(new PolicyCompiler(permuted(snapshot, seed), shuffledWorkloads))).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });

  it('rulesHash does not depend on the policy version nor on addresses; set ids do not depend on addresses', () => {
    fc.assert(
      fc.property(scenarioArb, ({ snapshot, workloads }) => {
        const a = new PolicyCompiler(snapshot, workloads);
        const b = new PolicyCompiler({ ...snapshot, version: snapshot.version + 1 }, workloads);
        const c = new PolicyCompiler(snapshot, workloads.map((w) => ({ ...w, ips: [], subnets: [] })));
        expect(c.ipSetIds()).toEqual(a.ipSetIds());
        for (const w of workloads) {
          const pa = a.compile(w.id);
          const pb = b.compile(w.id);
          // a provision that leaves a workload's rules as they were leaves its hash: nothing new for its VEN
          expect(pb?.rulesHash).toBe(pa?.rulesHash);
          expect(pb?.policyVersion).toBe(snapshot.version + 1);
          expect(pb?.inbound).toEqual(pa?.inbound);
          expect(c.compile(w.id)).toEqual(pa);
        }
      }),
      { numRuns: 100 },
    );
  });
});
