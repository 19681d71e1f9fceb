/**
 * The compute use case: turn the replicated policy and workload facts into compiled policy for the
 * workloads this PCE manages, stored by change (docs/adr/0010): a run writes the IP sets whose members
 * changed, the new content-addressed rule lists, the groups whose rules changed and the pointers of the
 * workloads whose labels or mode changed, then the org's head. A workload whose rules and sets did not
 * change gets nothing new, so a one-rule provision writes a few items, not one per workload.
 *
 * A warm runtime keeps its compiler (and applies workload changes incrementally) and its picture of what
 * is stored (the index), so it compares without reading; a cold one rebuilds both (one Query of the
 * index) and writes only what differs, so redelivered jobs write nothing new.
 *
 * Every run leaves the stored compiled policy complete for the facts it read: a warm run writes
 * everything its compiler says changed since the previous run (whatever job brought it), a cold run
 * recomputes every workload of the provisioned slices. A warm runtime is only trusted while the org's
 * compute sequence (in the head) still shows the run it last completed (another runtime may have
 * written since); runs of one org do not overlap (FIFO queue per org), and a run that finds the
 * sequence moved under it retries cold (docs/adr/0007).
 */
import type { CompiledIpSet, IpSetId } from '../policy/compiled.ts';
import { UnknownIpSetError } from '../policy/compiler/errors.ts';
import type { WorkloadFacts, WorkloadId } from '../policy/model.ts';
import type { PolicyPublisher } from '../ven/ports.ts';
import { CompiledIndex, indexEntryOf, nextHead, planIndexChanges, type CompiledHead, type IndexChanges, type IndexEntry } from './compiled-index.ts';
import { sliceOf, WORKLOADS_PER_SLICE, type ComputeJobV1, type RecomputeAllJobV1, type WorkloadChangedJobV1 } from './jobs.ts';
import type { ActivePolicySource, Compiler, CompilerFactory, CompiledPolicyStore, ManagedWorkloadFacts, VersionedSnapshot, WorkloadFactsSource } from './ports.ts';

export interface ComputeServiceDeps {
  readonly selfFqdn: string;
  readonly policies: ActivePolicySource;
  readonly workloads: WorkloadFactsSource;
  readonly compiled: CompiledPolicyStore;
  readonly createCompiler: CompilerFactory;
  /** told what each run stored (VEN pushes); a failure is logged and never fails the run (the VEN heartbeat is the fallback) */
  readonly publisher?: PolicyPublisher;
  readonly logger?: { warn(message: string, attributes: Record<string, unknown>): void };
  readonly now?: () => number;
}

export interface ComputeOutcome {
  /** workloads whose compiled policy was computed and compared with what is stored */
  readonly workloadsComputed: number;
  readonly ipSetsWritten: number;
  readonly ruleListsWritten: number;
  readonly groupsWritten: number;
  readonly pointersWritten: number;
  /** pointers and groups deleted */
  readonly itemsDeleted: number;
  readonly skipped?: string;
  /** where the time went (ms), for the logs */
  readonly timings?: Record<string, number>;
}

/** The outcome of a run that wrote nothing. */
export const NOTHING_COMPUTED: ComputeOutcome = { workloadsComputed: 0, ipSetsWritten: 0, ruleListsWritten: 0, groupsWritten: 0, pointersWritten: 0, itemsDeleted: 0 };

/** what the compiler sees of a workload: a change of any part (an interface's subnet included) updates it */
function factsKey(f: WorkloadFacts): string {
  return JSON.stringify([f.labels, f.ips, f.subnets ?? null, f.enforcementMode]);
}

/** Another compute run of the org completed while this one ran: its writes may be older; retried cold. */
export class ComputeConflictError extends Error {
  override readonly name = 'ComputeConflictError';
}

interface CompilerState {
  readonly version: number;
  /** content hash of the version: two leaders racing through a failover could both write version n */
  readonly sha256: string | undefined;
  readonly compiler: Compiler;
  readonly facts: Map<WorkloadId, string>;
}

/** What a runtime knows of one org after the last run it completed. */
interface OrgState {
  /** the org's compute sequence after that run */
  readonly seq: number;
  readonly head: CompiledHead;
  /** the pointers and groups stored (tracks members) */
  readonly index: CompiledIndex;
  /** hashes of the sets known to be stored */
  readonly setHashes: Map<IpSetId, string>;
  readonly compiler: CompilerState;
  /** every workload's facts as that run read them (a warm run of workload changes reads only those) */
  readonly facts: ReadonlyMap<WorkloadId, ManagedWorkloadFacts>;
}

/** A warm run of workload changes reads those workloads only, up to this many; more, and it reads the org's workloads at once. */
export const TARGETED_READ_MAX = 200;

type Touched = 'all' | { changedIpSets: Set<IpSetId>; rulesChanged: Set<WorkloadId> };

export class ComputeService {
  private readonly states = new Map<number, OrgState>();
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
    const total = { ...NOTHING_COMPUTED };
    const skipped: string[] = [];
    const timings: Record<string, number> = {};
    for (const orgId of new Set(jobs.map((j) => j.org_id))) {
      let outcome: ComputeOutcome;
      try {
        outcome = await this.runOrg(orgId, jobs.filter((j) => j.org_id === orgId));
      } catch (err) {
        // the warm compiler already absorbed this batch's facts; a retry must see them as changes again
        this.states.delete(orgId);
        throw err;
      }
      for (const [k, v] of Object.entries(outcome.timings ?? {})) timings[k] = (timings[k] ?? 0) + v;
      total.workloadsComputed += outcome.workloadsComputed;
      total.ipSetsWritten += outcome.ipSetsWritten;
      total.ruleListsWritten += outcome.ruleListsWritten;
      total.groupsWritten += outcome.groupsWritten;
      total.pointersWritten += outcome.pointersWritten;
      total.itemsDeleted += outcome.itemsDeleted;
      if (outcome.skipped) skipped.push(outcome.skipped);
    }
    return { ...total, timings, ...(skipped.length > 0 ? { skipped: skipped.join('; ') } : {}) };
  }

  private async runOrg(orgId: number, jobs: readonly ComputeJobV1[]): Promise<ComputeOutcome> {
    const slices = jobs.filter((j): j is RecomputeAllJobV1 => j.kind === 'recompute_all');
    const changed = jobs.filter((j): j is WorkloadChangedJobV1 => j.kind === 'workload_changed');
    const reconcile = jobs.some((j) => j.kind === 'reconcile');
    const store = this.deps.compiled;
    const t: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => {
      const now = performance.now();
      t[name] = Math.round((t[name] ?? 0) + now - mark);
      mark = now;
    };
    // read before anything else: a run that completes after this read makes this run's view suspect
    const head = await store.head(orgId);
    const seq = head.seq;
    const active = await this.deps.policies.getActive(orgId);
    const newest = Math.max(0, ...slices.map((j) => j.policy_version));
    // a provision newer than what this replica shows as active: its chunks may still be replicating (getVersion throws then)
    const target = newest > (active?.version ?? 0) ? await this.deps.policies.getVersion(orgId, newest) : active;
    if (!target) return { ...NOTHING_COMPUTED, skipped: 'no provisioned policy yet' };
    const progress = await store.sliceProgress(orgId, target.version, target.sha256);
    // a redelivered slice that completed before has nothing to write
    const current = slices.filter((j) => j.policy_version === target.version && !progress?.done.has(j.slice));
    // decided before the compiler sees any facts: facts it absorbed without writing would be missed later
    if (current.length === 0 && changed.length === 0 && !reconcile) return { ...NOTHING_COMPUTED, skipped: 'slices already done or superseded' };
    lap('policy');

    const changedIds = new Set(changed.flatMap((j) => j.workload_ids));
    const facts = await this.readFacts(orgId, seq, { changedIds, targeted: !reconcile });
    lap('facts');
    const factsById = new Map(facts.map((f) => [f.id, f]));
    const mine = new Set(facts.filter((f) => f.managingPceFqdn === this.deps.selfFqdn).map((f) => f.id));
    const known = this.states.get(orgId);
    const warm = known && known.seq === seq ? known : null;
    this.states.delete(orgId);
    const { compiler, touched } = this.compilerFor(warm?.compiler ?? null, target, facts);
    // a cold runtime (or a reconcile, the anti-entropy pass) compares with what the store holds, not with memory
    const fromStore = !warm || reconcile;
    const index = fromStore ? CompiledIndex.of(await store.loadIndex(orgId), { trackMembers: true }) : warm.index;
    const setHashes = fromStore ? new Map<IpSetId, string>() : warm.setHashes;
    lap('compiler');

    const compute = new Set<WorkloadId>();
    for (const job of current) for (const id of mine) if (sliceOf(id, job.slices) === job.slice) compute.add(id);
    for (const id of changedIds) if (mine.has(id)) compute.add(id);
    // warm: whatever changed since the last run, whichever job brought the facts in
    if (touched !== 'all') for (const id of touched.rulesChanged) if (mine.has(id)) compute.add(id);
    if (reconcile) {
      // everything, compared with what is stored: the slices still open included
      for (const id of mine) compute.add(id);
    } else if (touched === 'all' && progress) {
      // a new compiler: every workload whose slice of this version is done (what is stored may predate these facts);
      // those of slices still queued are computed by their own job
      for (const id of mine) if (progress.done.has(sliceOf(id, progress.slices))) compute.add(id);
    }
    // a workload now managed elsewhere (or deleted) leaves no compiled policy behind here
    const removed = [...changedIds].filter((id) => !mine.has(id));
    if (reconcile) for (const [id] of index.pointers()) if (!mine.has(id)) removed.push(id);

    const named = compiler.namedWorkloads();
    const desired = new Map<WorkloadId, IndexEntry>();
    for (const id of compute) {
      const policy = compiler.compile(id);
      const f = factsById.get(id);
      if (policy && f) desired.set(id, indexEntryOf(policy, f.labels, named.has(id)));
    }
    const changes = planIndexChanges(index, desired, removed, { sweep: reconcile });

    // sets: those whose members changed, and every set of the computed workloads' rules (a VEN told of
    // the rules must find them; a version may change an IP list's ranges under the same set id), compared
    // with the hashes known to be stored (read only for the sets this runtime has not seen stored)
    const setIds = new Set<IpSetId>(touched === 'all' ? [] : touched.changedIpSets);
    for (const entry of desired.values()) entry.group?.list.ipSetIds.forEach((id) => setIds.add(id));
    const unknown = [...setIds].filter((id) => !setHashes.has(id));
    if (unknown.length > 0) for (const [id, hash] of await store.ipSetHashes(orgId, unknown)) setHashes.set(id, hash);
    const liveSets = [...setIds].flatMap((id) => liveSet(compiler, id));
    const sets = liveSets.filter((s) => setHashes.get(s.id) !== s.hash);
    lap('plan');

    // the version VENs are told: the target once all its slices are stored here
    const count = progress?.slices ?? current[0]?.slices;
    const done = new Set(progress?.done ?? []);
    for (const job of current) if (job.slices === count) done.add(job.slice);
    const complete = reconcile || (count !== undefined && done.size >= count);
    const advance = complete && (head.policyVersion === null || target.version >= head.policyVersion);
    const next = nextHead(head, {
      changes,
      policyVersion: advance ? target.version : head.policyVersion,
      sha256: advance ? (target.sha256 ?? null) : head.sha256,
      reloadAll: fromStore,
      at: this.now(),
    });

    // sets first, then rule lists, groups and pointers, the head last: a VEN told of something finds what it refers to
    let wrote = false;
    let committed: boolean;
    try {
      if (sets.length > 0) {
        wrote = true;
        await store.putIpSets(orgId, sets);
      }
      if (changes.lists.length > 0) {
        wrote = true;
        await store.putRuleLists(orgId, changes.lists);
      }
      if (changes.pointers.size + changes.groups.size > 0) {
        wrote = true;
        await store.putIndex(orgId, changes, next.computedAt ?? this.now());
      }
      lap('write');
      committed = await store.commit(orgId, seq, next);
    } catch (err) {
      if (wrote) await this.invalidate(orgId);
      throw err;
    }
    if (!committed) {
      if (wrote) await this.invalidate(orgId);
      throw new ComputeConflictError(`org ${orgId}: another compute run completed during this one (sequence ${seq} moved); recomputing from fresh facts`);
    }
    index.apply(changes);
    for (const s of sets) setHashes.set(s.id, s.hash);
    this.states.set(orgId, {
      seq: next.seq,
      head: next,
      index,
      setHashes,
      compiler: { version: target.version, sha256: target.sha256, compiler, facts: warm?.compiler.compiler === compiler ? warm.compiler.facts : new Map(facts.map((f) => [f.id, factsKey(f)])) },
      facts: factsById,
    });
    // one write per slice count (all slices of a provision share theirs)
    for (const n of new Set(current.map((j) => j.slices))) {
      await store.markSlicesDone(orgId, target.version, current.filter((j) => j.slices === n).map((j) => j.slice), n, target.sha256);
    }
    if (reconcile) {
      // every workload of the version is computed: its provision is complete here, whatever jobs were lost
      const n = progress?.slices ?? Math.max(1, Math.ceil(mine.size / WORKLOADS_PER_SLICE));
      const open = Array.from({ length: n }, (_, slice) => slice).filter((slice) => !progress?.done.has(slice));
      await store.markSlicesDone(orgId, target.version, open, n, target.sha256);
    }
    lap('finish');
    await this.publish({ orgId, head, next, changes, sets: reconcile ? liveSets : sets, everything: reconcile, index, compiler, mine });
    lap('publish');

    const skippedSlices = slices.length - current.length;
    let deleted = 0;
    for (const v of changes.pointers.values()) if (v === null) deleted++;
    for (const v of changes.groups.values()) if (v === null) deleted++;
    return {
      workloadsComputed: desired.size,
      ipSetsWritten: sets.length,
      ruleListsWritten: changes.lists.length,
      groupsWritten: changes.groups.size - [...changes.groups.values()].filter((v) => v === null).length,
      pointersWritten: changes.pointers.size - [...changes.pointers.values()].filter((v) => v === null).length,
      itemsDeleted: deleted,
      timings: t,
      ...(skippedSlices > 0 ? { skipped: `${skippedSlices} slice(s) already done or superseded` } : {}),
    };
  }

  /** After a failed run that wrote: every warm runtime goes cold and every reader reloads (best effort: the failure is what the caller sees). */
  private async invalidate(orgId: number): Promise<void> {
    try {
      await this.deps.compiled.invalidate(orgId);
    } catch (error) {
      this.deps.logger?.warn('could not invalidate the compiled policy after a failed compute run', { orgId, error });
    }
  }

  /** Tells the publisher what the run stored (when there is something to tell); never throws. */
  private async publish(run: {
    orgId: number;
    head: CompiledHead;
    next: CompiledHead;
    changes: IndexChanges;
    sets: readonly CompiledIpSet[];
    everything: boolean;
    index: CompiledIndex;
    compiler: Compiler;
    mine: ReadonlySet<WorkloadId>;
  }): Promise<void> {
    const { publisher } = this.deps;
    const version = run.next.policyVersion;
    if (!publisher || version === null) return;
    const versionChanged = version !== run.head.policyVersion || run.next.sha256 !== run.head.sha256;
    if (!run.everything && !versionChanged && run.sets.length === 0 && run.changes.pointers.size + run.changes.groups.size === 0) return;
    const rulesChanged = new Set<WorkloadId>();
    for (const [id, pointer] of run.changes.pointers) if (pointer && run.mine.has(id)) rulesChanged.add(id);
    for (const [key, group] of run.changes.groups) if (group) for (const id of run.index.membersOf(key)) if (run.mine.has(id)) rulesChanged.add(id);
    const { compiler, index, mine } = run;
    try {
      await publisher.published({
        orgId: run.orgId,
        policyVersion: version,
        // what VENs may be told of is what is stored: the version of the head, the rules of the stored groups
        policyOf: (id) => {
          if (!mine.has(id)) return null;
          const policy = compiler.compile(id);
          if (!policy || index.rulesHashOf(id) !== policy.rulesHash) return null;
          return policy.policyVersion === version ? policy : { ...policy, policyVersion: version };
        },
        rulesChanged,
        changedIpSets: new Map(run.sets.map((s) => [s.id, s])),
        everything: run.everything,
        versionChanged,
      });
    } catch (error) {
      this.deps.logger?.warn('policy publication failed; VENs learn of the policy at their next heartbeat', { orgId: run.orgId, policyVersion: version, error });
    }
  }

  /**
   * The org's workload facts for this run. A run on a runtime whose last run is still the org's last (same
   * sequence) reads just the jobs' changed workloads (none for a provision's slices) and takes the others
   * from that run: every workload write reaches this PCE as a workload_changed job (the stream router), so
   * what it holds plus the jobs' workloads is what a full read would show for them; a lost job is made good
   * by the reconcile, which reads everything. A cold runtime, a reconcile, or more than TARGETED_READ_MAX
   * changed workloads read the org's workloads (one Query).
   */
  private async readFacts(orgId: number, seq: number, run: { changedIds: ReadonlySet<WorkloadId>; targeted: boolean }): Promise<ManagedWorkloadFacts[]> {
    const known = this.states.get(orgId);
    const source = this.deps.workloads;
    if (!run.targeted || !known || known.seq !== seq) return source.listFacts(orgId);
    if (run.changedIds.size === 0) return [...known.facts.values()];
    if (!source.factsOf || run.changedIds.size > TARGETED_READ_MAX) return source.listFacts(orgId);
    const merged = new Map(known.facts);
    for (const id of run.changedIds) merged.delete(id);
    for (const f of await source.factsOf(orgId, [...run.changedIds])) merged.set(f.id, f);
    return [...merged.values()];
  }

  /**
   * The compiler for the version with the current facts: reused and updated incrementally when warm
   * (same version and document, the runtime's last run still the org's last), rebuilt otherwise ('all' =
   * the caller cannot know what changed and recomputes every workload it must).
   */
  private compilerFor(current: CompilerState | null, target: VersionedSnapshot, facts: readonly ManagedWorkloadFacts[]): { compiler: Compiler; touched: Touched } {
    if (!current || current.version !== target.version || current.sha256 !== target.sha256) {
      return { compiler: this.deps.createCompiler(target.snapshot, facts), touched: 'all' };
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
}

/** The set's contents, or nothing when no rule uses it any more (a set reported changed can die later in the same run). */
function liveSet(compiler: Compiler, id: IpSetId): CompiledIpSet[] {
  try {
    return [compiler.ipSet(id)];
  } catch (err) {
    if (err instanceof UnknownIpSetError) return [];
    throw err;
  }
}
