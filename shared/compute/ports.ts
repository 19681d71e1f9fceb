/** What the compute pipeline needs from the rest of the system, by role. */
import type { CompiledIpSet, CompiledPolicy, IpSetId } from '../policy/compiled.ts';
import type { PolicySnapshot, WorkloadFacts, WorkloadId } from '../policy/model.ts';
import type { CompiledHead, GroupKey, GroupRecord, IndexChanges, RuleListRecord, WorkloadPointer } from './compiled-index.ts';
import type { ComputeJobV1 } from './jobs.ts';

export interface VersionedSnapshot {
  readonly version: number;
  readonly snapshot: PolicySnapshot;
  readonly sha256?: string;
}

/** Provisioned policy, as this region's replica holds it. getVersion throws while a version is still replicating. */
export interface ActivePolicySource {
  getActive(orgId: number): Promise<VersionedSnapshot | null>;
  getVersion(orgId: number, version: number): Promise<VersionedSnapshot>;
}

export type ManagedWorkloadFacts = WorkloadFacts & { readonly managingPceFqdn: string | null };

export interface WorkloadFactsSource {
  listFacts(orgId: number): Promise<ManagedWorkloadFacts[]>;
  /** the facts of these workloads only (strongly consistent; absent: deleted or unpaired) */
  factsOf?(orgId: number, ids: readonly WorkloadId[]): Promise<ManagedWorkloadFacts[]>;
}

/** The part of the policy compiler the pipeline uses (shared/policy/compiler). */
export interface Compiler {
  compile(workloadId: WorkloadId): CompiledPolicy | null;
  ipSet(id: IpSetId): CompiledIpSet;
  updateWorkload(facts: WorkloadFacts): { changedIpSets: IpSetId[]; rulesChanged: WorkloadId[] };
  removeWorkload(id: WorkloadId): { changedIpSets: IpSetId[]; rulesChanged: WorkloadId[] };
  /** the workloads some actor names by id (they have rules of their own, apart from their label tuple's) */
  namedWorkloads(): ReadonlySet<WorkloadId>;
}

export type CompilerFactory = (snapshot: PolicySnapshot, workloads: readonly WorkloadFacts[]) => Compiler;

export interface SliceProgress {
  readonly slices: number;
  readonly done: ReadonlySet<number>;
}

export interface StoredCompiledPolicy {
  readonly policy: CompiledPolicy;
  readonly computedAt: number;
}

/**
 * What the VEN side and the operators read of the compiled policy in this PCE's local table
 * (docs/compiled-policy.md "Storage"); all reads are consistent.
 */
export interface CompiledPolicyReader {
  /** the org's head (EMPTY_HEAD before its first compute run) */
  head(orgId: number): Promise<CompiledHead>;
  /** every pointer and group of the org (one Query each, paginated) */
  loadIndex(orgId: number): Promise<{ pointers: Map<WorkloadId, WorkloadPointer>; groups: Map<GroupKey, GroupRecord> }>;
  /** these pointers and groups (absent: not stored) */
  getIndexEntries(orgId: number, workloads: readonly WorkloadId[], groups: readonly GroupKey[]): Promise<{ pointers: Map<WorkloadId, WorkloadPointer>; groups: Map<GroupKey, GroupRecord> }>;
  getRuleLists(orgId: number, ids: readonly string[]): Promise<Map<string, RuleListRecord>>;
  /** the stored hashes of these sets (absent: not stored) */
  ipSetHashes(orgId: number, ids: readonly IpSetId[]): Promise<Map<IpSetId, string>>;
  getIpSets(orgId: number, ids: readonly IpSetId[]): Promise<CompiledIpSet[]>;
  /** one workload's compiled policy at the head's version (null: no head version, no pointer, or a piece missing) */
  getPolicy(orgId: number, workloadId: WorkloadId): Promise<StoredCompiledPolicy | null>;
}

/**
 * Compiled policy in this PCE's local table, written by change (docs/adr/0010): IP sets, content-addressed
 * rule lists, groups, workload pointers, and one head per org written last. The compute service decides
 * what differs; the store writes what it is given.
 */
export interface CompiledPolicyStore extends CompiledPolicyReader {
  putIpSets(orgId: number, sets: readonly CompiledIpSet[]): Promise<void>;
  putRuleLists(orgId: number, lists: readonly RuleListRecord[]): Promise<void>;
  /** groups and pointers (null: delete): new groups before pointers, deleted groups after them */
  putIndex(orgId: number, changes: IndexChanges, computedAt: number): Promise<void>;
  /**
   * Writes `next` (sequence expected + 1) if the org's sequence is still `expected`; false (and no change)
   * when another run completed meanwhile (docs/adr/0007).
   */
  commit(orgId: number, expected: number, next: CompiledHead): Promise<boolean>;
  /** After a run that may have written and did not commit: sequence + 1 (warm runtimes go cold) and epoch + 1 (readers reload). */
  invalidate(orgId: number): Promise<void>;
  /**
   * Records that provision slices finished (idempotent: a set of slice numbers; one write for all of `done`). `sha256` names the
   * version's document: two leaders racing through a failover can both write version n, and the slices
   * of one must not count for the other.
   */
  markSlicesDone(orgId: number, version: number, done: readonly number[], slices: number, sha256?: string): Promise<void>;
  /** A provision's slices on this PCE (how many, which are done); null before the first finished, or when they were of another document. */
  sliceProgress(orgId: number, version: number, sha256?: string): Promise<SliceProgress | null>;
}

export interface ComputeQueue {
  send(jobs: readonly ComputeJobV1[]): Promise<void>;
}
