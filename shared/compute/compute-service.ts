/**
 * The compute use case: turn the replicated policy and workload facts into compiled policy for the
 * workloads this PCE manages. A warm runtime keeps its compiler and applies workload changes
 * incrementally; a cold one rebuilds and rewrites only what differs (writes compare hashes), so
 * redelivered jobs write nothing new.
 *
 * Every run leaves the stored compiled policy complete for the facts it read: a warm run writes
 * everything its compiler says changed since the previous run (whatever job brought it), a cold run
 * recomputes every workload of the provisioned slices. A warm compiler is only trusted while the
 * org's compute sequence still shows the run it last completed (another runtime may have written
 * since); runs of one org do not overlap (FIFO queue per org), and a run that finds the sequence moved
 * under it retries cold (docs/adr/0007).
 */
import type { IpSetId } from '../policy/compiled.ts';
import type { WorkloadFacts, WorkloadId } from '../policy/model.ts';
import { sliceOf, WORKLOADS_PER_SLICE, type ComputeJobV1, type RecomputeAllJobV1, type WorkloadChangedJobV1 } from './jobs.ts';
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
  /** where the time went (ms), for the logs */
  readonly timings?: Record<string, number>;
}

function factsKey(f: WorkloadFacts): string {
  return JSON.stringify([f.labels, f.ips, f.enforcementMode]);
}

/** Another compute run of the org completed while this one ran: its writes may be older; retried cold. */
export class ComputeConflictError extends Error {
  override readonly name = 'ComputeConflictError';
}

interface CompilerState {
  readonly orgId: number;
  /** the org's compute sequence after the run that left the stored policy matching this compiler (-1: none yet) */
  seq: number;
  readonly version: number;
  /** content hash of the version: two leaders racing through a failover could both write version n */
  readonly sha256: string | undefined;
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
    return this.runBatch([job]);
  }

  /**
   * Runs a batch of jobs together: per org one read of the workloads and one compiler update, then one
   * write of everything the jobs touch. A provision's slices arriving in one batch cost one pass.
   */
  async runBatch(jobs: readonly ComputeJobV1[]): Promise<ComputeOutcome> {
    const total = { policiesWritten: 0, policiesUnchanged: 0, ipSetsWritten: 0 };
    const skipped: string[] = [];
    const timings: Record<string, number> = {};
    for (const orgId of new Set(jobs.map((j) => j.org_id))) {
      let outcome: ComputeOutcome;
      try {
        outcome = await this.runOrg(orgId, jobs.filter((j) => j.org_id === orgId));
      } catch (err) {
        // the warm compiler already absorbed this batch's facts; a retry must see them as changes again
        this.state = null;
        throw err;
      }
      for (const [k, v] of Object.entries(outcome.timings ?? {})) timings[k] = (timings[k] ?? 0) + v;
      total.policiesWritten += outcome.policiesWritten;
      total.policiesUnchanged += outcome.policiesUnchanged;
      total.ipSetsWritten += outcome.ipSetsWritten;
      if (outcome.skipped) skipped.push(outcome.skipped);
    }
    return { ...total, timings, ...(skipped.length > 0 ? { skipped: skipped.join('; ') } : {}) };
  }

  private async runOrg(orgId: number, jobs: readonly ComputeJobV1[]): Promise<ComputeOutcome> {
    const slices = jobs.filter((j): j is RecomputeAllJobV1 => j.kind === 'recompute_all');
    const changed = jobs.filter((j): j is WorkloadChangedJobV1 => j.kind === 'workload_changed');
    const reconcile = jobs.some((j) => j.kind === 'reconcile');
    const t: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => {
      const now = performance.now();
      t[name] = Math.round((t[name] ?? 0) + now - mark);
      mark = now;
    };
    // read before anything else: a run that completes after this read makes this run's view suspect
    const seq = await this.deps.compiled.computeSeq(orgId);
    const active = await this.deps.policies.getActive(orgId);
    const newest = Math.max(0, ...slices.map((j) => j.policy_version));
    // a provision newer than what this replica shows as active: its chunks may still be replicating (getVersion throws then)
    const target = newest > (active?.version ?? 0) ? await this.deps.policies.getVersion(orgId, newest) : active;
    if (!target) return { policiesWritten: 0, policiesUnchanged: 0, ipSetsWritten: 0, skipped: 'no provisioned policy yet' };
    const progress = await this.deps.compiled.sliceProgress(orgId, target.version, target.sha256);
    // a redelivered slice that completed before has nothing to write
    const current = slices.filter((j) => j.policy_version === target.version && !progress?.done.has(j.slice));
    // decided before the compiler sees any facts: facts it absorbed without writing would be missed later
    if (current.length === 0 && changed.length === 0 && !reconcile) return { policiesWritten: 0, policiesUnchanged: 0, ipSetsWritten: 0, skipped: 'slices already done or superseded' };
    lap('policy');

    const facts = await this.deps.workloads.listFacts(orgId);
    lap('facts');
    const mine = new Set(facts.filter((f) => f.managingPceFqdn === this.deps.selfFqdn).map((f) => f.id));
    const { compiler, touched } = this.compilerFor(orgId, target, facts, seq);
    lap('compiler');

    // the workloads of slices not done yet hold an older version: no need to compare before writing
    const fresh = new Set<WorkloadId>();
    for (const job of current) for (const id of mine) if (sliceOf(id, job.slices) === job.slice) fresh.add(id);
    const changedIds = new Set(changed.flatMap((j) => j.workload_ids));
    const recompute = new Set<WorkloadId>([...changedIds].filter((id) => mine.has(id)));
    const sets = new Set<IpSetId>();
    if (touched !== 'all') {
      // warm: whatever changed since the last run, whichever job brought the facts in
      touched.changedIpSets.forEach((id) => sets.add(id));
      for (const id of touched.rulesChanged) if (mine.has(id)) recompute.add(id);
    }
    if (reconcile) {
      // everything, compared with what is stored: the slices still open included
      for (const id of mine) recompute.add(id);
    } else if (touched === 'all' && progress) {
      // cold: every workload whose slice of this version is done (the stored policy may predate these facts);
      // those of slices still queued are computed by their own job
      for (const id of mine) if (progress.done.has(sliceOf(id, progress.slices))) recompute.add(id);
    }
    lap('plan');
    fresh.forEach((id) => recompute.delete(id));
    const outcome = await this.write(compiler, { fresh: [...fresh], maybeUnchanged: [...recompute] }, sets);
    // a workload now managed elsewhere (or deleted) leaves no compiled policy behind here
    for (const id of changedIds) if (!mine.has(id) && (await this.deps.compiled.getPolicy(id))) await this.deps.compiled.deletePolicy(id);
    lap('write');
    if (!(await this.deps.compiled.advanceComputeSeq(orgId, seq))) {
      this.state = null;
      throw new ComputeConflictError(`org ${orgId}: another compute run completed during this one (sequence ${seq} moved); recomputing from fresh facts`);
    }
    if (this.state) this.state.seq = seq + 1;
    // one write per slice count (all slices of a provision share theirs)
    for (const count of new Set(current.map((j) => j.slices))) {
      await this.deps.compiled.markSlicesDone(orgId, target.version, current.filter((j) => j.slices === count).map((j) => j.slice), count, target.sha256);
    }
    if (reconcile) {
      // every workload of the version is computed: its provision is complete here, whatever jobs were lost
      const count = progress?.slices ?? Math.max(1, Math.ceil(mine.size / WORKLOADS_PER_SLICE));
      const open = Array.from({ length: count }, (_, slice) => slice).filter((slice) => !progress?.done.has(slice));
      await this.deps.compiled.markSlicesDone(orgId, target.version, open, count, target.sha256);
    }
    lap('finish');
    const skippedSlices = slices.length - current.length;
    return { ...outcome, timings: t, ...(skippedSlices > 0 ? { skipped: `${skippedSlices} slice(s) already done or superseded` } : {}) };
  }

  /**
   * The compiler for (org, version) with the current facts: reused and updated incrementally when warm
   * (same org, version and compute sequence), rebuilt otherwise ('all' = the caller cannot know what
   * changed and recomputes every workload it must).
   */
  private compilerFor(
    orgId: number,
    target: VersionedSnapshot,
    facts: readonly ManagedWorkloadFacts[],
    seq: number,
  ): { compiler: Compiler; touched: 'all' | { changedIpSets: Set<IpSetId>; rulesChanged: Set<WorkloadId> } } {
    const current = this.state;
    if (!current || current.orgId !== orgId || current.seq !== seq || current.version !== target.version || current.sha256 !== target.sha256) {
      const compiler = this.deps.createCompiler(target.snapshot, facts);
      this.state = { orgId, seq: -1, version: target.version, sha256: target.sha256, compiler, facts: new Map(facts.map((f) => [f.id, factsKey(f)])) };
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

  /**
   * Writes the compiled policy of the workloads and the sets they use, plus `extraSets`; only what differs
   * from the stored items is written (`fresh` workloads are known to differ).
   */
  private async write(compiler: Compiler, workloads: { fresh: readonly WorkloadId[]; maybeUnchanged: readonly WorkloadId[] }, extraSets: ReadonlySet<IpSetId>): Promise<ComputeOutcome> {
    const now = this.now();
    const sets = new Set<IpSetId>(extraSets);
    const compile = (ids: readonly WorkloadId[]) =>
      ids.flatMap((id) => {
        const policy = compiler.compile(id);
        if (!policy) return [];
        policy.ipSetIds.forEach((s) => sets.add(s));
        return [policy];
      });
    const fresh = compile(workloads.fresh);
    const others = compile(workloads.maybeUnchanged);
    // sets first: a VEN that sees a new policy must find the sets it refers to
    const ipSetsWritten = await this.deps.compiled.putIpSets([...sets].map((id) => compiler.ipSet(id)));
    const policiesWritten = (await this.deps.compiled.putPolicies(fresh, now, { assumeChanged: true })) + (await this.deps.compiled.putPolicies(others, now));
    return { policiesWritten, policiesUnchanged: fresh.length + others.length - policiesWritten, ipSetsWritten };
  }
}
