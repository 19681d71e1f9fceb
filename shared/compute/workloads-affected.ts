/**
 * workloads_affected of a provision: how many workloads (that have a managing PCE) get different rules
 * from the new version than from the active one. Computed on the leader with the same compiler the
 * PCEs use; set contents do not count (a provision does not change addresses).
 */
import type { CompiledPolicy } from '../policy/compiled.ts';
import { PolicyCompiler } from '../policy/compiler/engine.ts';
import type { PolicySnapshot } from '../policy/model.ts';
import type { WorkloadFactsSource } from './ports.ts';

/** the rules hash covers mode and rules, not the version (docs/compiled-policy.md) */
const rulesKey = (p: CompiledPolicy | null | undefined) => p?.rulesHash ?? '';

export async function countWorkloadsAffected(workloads: WorkloadFactsSource, orgId: number, before: PolicySnapshot | null, after: PolicySnapshot): Promise<number> {
  const facts = (await workloads.listFacts(orgId)).filter((f) => f.managingPceFqdn !== null);
  if (facts.length === 0) return 0;
  const previous = before ? new PolicyCompiler(before, facts) : null;
  const next = new PolicyCompiler(after, facts);
  return facts.filter((f) => rulesKey(previous?.compile(f.id)) !== rulesKey(next.compile(f.id))).length;
}
