/** Shared assertions of the policy compiler tests. */
import { expect } from 'vitest';
import { rulesHashOf, toVenRules } from '../../../shared/policy/compiled.ts';
import { PolicyCompiler } from '../../../shared/policy/compiler/index.ts';
import type { PolicySnapshot, WorkloadFacts } from '../../../shared/policy/model.ts';
import { ReferenceCompiler, normalisePolicy } from '../../../shared/policy/reference/index.ts';

/** engine == reference (normalised) for every workload, plus structural invariants of the engine's output */
export function assertEngineMatchesReference(snapshot: PolicySnapshot, workloads: readonly WorkloadFacts[], engine = new PolicyCompiler(snapshot, workloads)): void {
  const reference = new ReferenceCompiler(snapshot, workloads);
  for (const w of workloads) {
    const got = engine.compile(w.id);
    const want = reference.compile(w.id);
    expect(got).not.toBeNull();
    if (!got || !want) return;
    // structural invariants of the engine's output
    const peers = [...new Set([...got.inbound, ...got.outbound].map((r) => r.peers))].sort();
    expect(got.ipSetIds).toEqual(peers);
    // the hash a VEN recomputes over the rules as sent (docs/ven-protocol.md), by both compilers
    expect(got.rulesHash).toBe(rulesHashOf(toVenRules(got)));
    expect(want.policy.rulesHash).toBe(rulesHashOf(toVenRules(want.policy)));
    // any protocol is one entry, alone
    for (const r of [...got.inbound, ...got.outbound]) if (r.services.some((s) => s.proto === -1)) expect(r.services).toEqual([{ proto: -1 }]);
    // rule ids are unique in the arbitraries: one compiled rule per (rule, direction)
    expect(new Set(got.inbound.map((r) => r.ruleId)).size).toBe(got.inbound.length);
    expect(new Set(got.outbound.map((r) => r.ruleId)).size).toBe(got.outbound.length);
    expect(normalisePolicy(got, (id) => engine.ipSet(id))).toEqual(normalisePolicy(want.policy, (id) => want.ipSets.get(id) ?? { id, members: [], hash: '' }));
  }
}
