/**
 * The compute use case: turn the replicated policy and workload facts into compiled policy for the
 * workloads this PCE manages. A warm runtime keeps its compiler and applies workload changes
 * incrementally; a cold one rebuilds and rewrites only what differs (writes are conditional on hashes),
 * so redelivered jobs write nothing new.
 */
import type { IpSetId } from '../policy/compiled.ts';
import type { WorkloadFacts, WorkloadId } from '../policy/model.ts';
import { sliceOf, type ComputeJobV1 } from './jobs.ts';
import type { ActivePolicySource, Compiler, CompilerFactory, CompiledPolicyStore, ManagedWorkloadFacts, VersionedSnapshot, WorkloadFactsSource } from './ports.ts';

export interface ComputeServiceDeps {
  readonly selfFqdn: string;
  readonly policies: ActivePolicySource;
  readonly workloads: WorkloadFactsSource;
  readonly compiled: CompiledPolicyStore;
  readonly createCompiler: CompilerFactory;
  readonly now?: () => number;
}

export interface ComputeOutcome {
  readonly policiesWritten: number;
  readonly policiesUnchanged: number;
  readonly ipSetsWritten: number;
  readonly skipped?: string;
}

function factsKey(f: WorkloadFacts): string {
  return JSON.stringify([f.labels, f.ips, f.enforcementMode]);
}

interface CompilerState {
  readonly orgId: number;
  readonly version: number;
  readonly compiler: Compiler;
  facts: Map<WorkloadId, string>;
}

export class ComputeService {
  private state: CompilerState | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: ComputeServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async run(job: ComputeJobV1): Promise<ComputeOutcome> {
    return job.kind === 'recompute_all' ? this.recomputeSlice(job) : this.workloadChanged(job);
  }

  private async recomputeSlice(job: Extract<ComputeJobV1, { kind: 'recompute_all' }>): Promise<ComputeOutcome> {
    const active = await this.deps.policies.getActive(job.org_id);
    if (active && active.version > job.policy_version) return { policiesWritten: 0, policiesUnchanged: 0, ipSetsWritten: 0, skipped: `version ${job.policy_version} superseded by ${active.version}` };
    const target = active?.version === job.policy_version ? active : await this.deps.policies.getVersion(job.org_id, job.policy_version);
    const facts = await this.deps.workloads.listFacts(job.org_id);
    const { compiler } = this.compilerFor(job.org_id, target, facts);
    const mine = facts.filter((f) => f.managingPceFqdn === this.deps.selfFqdn && sliceOf(f.id, job.slices) === job.slice).map((f) => f.id);
    const outcome = await this.write(compiler, mine, new Set());
    await this.deps.compiled.markSliceDone(job.org_id, job.policy_version, job.slice, job.slices);
    return outcome;
  }

  private async workloadChanged(job: Extract<ComputeJobV1, { kind: 'workload_changed' }>): Promise<ComputeOutcome> {
    const active = await this.deps.policies.getActive(job.org_id);
    if (!active) return { policiesWritten: 0, policiesUnchanged: 0, ipSetsWritten: 0, skipped: 'no provisioned policy yet' };
    const facts = await this.deps.workloads.listFacts(job.org_id);
    const mine = new Set(facts.filter((f) => f.managingPceFqdn === this.deps.selfFqdn).map((f) => f.id));
    const { compiler, touched } = this.compilerFor(job.org_id, active, facts);
    if (touched === 'all') return this.write(compiler, [...mine], new Set());
    const changed = touched.changedIpSets;
    const recompute = [...new Set([...touched.rulesChanged, job.workload_id])].filter((id) => mine.has(id));
    const outcome = await this.write(compiler, recompute, changed);
    const stored = await this.deps.compiled.getPolicy(job.workload_id);
    if (stored && !mine.has(job.workload_id)) await this.deps.compiled.deletePolicy(job.workload_id);
    return outcome;
  }

  /**
   * The compiler for (org, version) with the current facts: reused and updated incrementally when warm,
   * rebuilt otherwise ('all' = the caller cannot know what changed and recomputes its workloads).
   */
  private compilerFor(orgId: number, target: VersionedSnapshot, facts: readonly ManagedWorkloadFacts[]): { compiler: Compiler; touched: 'all' | { changedIpSets: Set<IpSetId>; rulesChanged: Set<WorkloadId> } } {
    const current = this.state;
    if (!current || current.orgId !== orgId || current.version !== target.version) {
      const compiler = this.deps.createCompiler(target.snapshot, facts);
      this.state = { orgId, version: target.version, compiler, facts: new Map(facts.map((f) => [f.id, factsKey(f)])) };
      return { compiler, touched: 'all' };
    }
    const changedIpSets = new Set<IpSetId>();
    const rulesChanged = new Set<WorkloadId>();
    const seen = new Set<WorkloadId>();
    for (const f of facts) {
      seen.add(f.id);
      const key = factsKey(f);
      if (current.facts.get(f.id) === key) continue;
      const delta = current.compiler.updateWorkload(f);
      delta.changedIpSets.forEach((s) => changedIpSets.add(s));
      delta.rulesChanged.forEach((w) => rulesChanged.add(w));
      rulesChanged.add(f.id);
      current.facts.set(f.id, key);
    }
    for (const id of [...current.facts.keys()]) {
      if (seen.has(id)) continue;
      const delta = current.compiler.removeWorkload(id);
      delta.changedIpSets.forEach((s) => changedIpSets.add(s));
      delta.rulesChanged.forEach((w) => rulesChanged.add(w));
      current.facts.delete(id);
    }
    return { compiler: current.compiler, touched: { changedIpSets, rulesChanged } };
  }

  /** Writes the compiled policy of `workloads` and the sets they use, plus `extraSets`; conditional writes skip what is unchanged. */
  private async write(compiler: Compiler, workloads: readonly WorkloadId[], extraSets: ReadonlySet<IpSetId>): Promise<ComputeOutcome> {
    const now = this.now();
    const sets = new Set<IpSetId>(extraSets);
    const policies = workloads.flatMap((id) => {
      const policy = compiler.compile(id);
      if (!policy) return [];
      policy.ipSetIds.forEach((s) => sets.add(s));
      return [policy];
    });
    // sets first: a VEN that sees a new policy must find the sets it refers to
    const ipSetsWritten = await this.deps.compiled.putIpSets([...sets].map((id) => compiler.ipSet(id)));
    const policiesWritten = await this.deps.compiled.putPolicies(policies, now);
    return { policiesWritten, policiesUnchanged: policies.length - policiesWritten, ipSetsWritten };
  }
}
