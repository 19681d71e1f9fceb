/** What the compute pipeline needs from the rest of the system, by role. */
import type { CompiledIpSet, CompiledPolicy, IpSetId } from '../policy/compiled.ts';
import type { PolicySnapshot, WorkloadFacts, WorkloadId } from '../policy/model.ts';
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
}

/** The part of the policy compiler the pipeline uses (shared/policy/compiler). */
export interface Compiler {
  compile(workloadId: WorkloadId): CompiledPolicy | null;
  ipSet(id: IpSetId): CompiledIpSet;
  updateWorkload(facts: WorkloadFacts): { changedIpSets: IpSetId[]; rulesChanged: WorkloadId[] };
  removeWorkload(id: WorkloadId): { changedIpSets: IpSetId[]; rulesChanged: WorkloadId[] };
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

/** Compiled policy and IP sets in this PCE's local table. Writes are no-ops when nothing changed. */
export interface CompiledPolicyStore {
  /**
   * Stores the policies whose version or hash differ from what is stored; returns how many it wrote.
   * `assumeChanged` skips the comparison read when the caller knows every policy is new (a slice of a
   * provision not done before).
   */
  putPolicies(policies: readonly CompiledPolicy[], computedAt: number, options?: { assumeChanged?: boolean }): Promise<number>;
  /** Stores the sets whose hash differs from what is stored; returns how many it wrote. */
  putIpSets(sets: readonly CompiledIpSet[]): Promise<number>;
  getPolicy(workloadId: WorkloadId): Promise<StoredCompiledPolicy | null>;
  getIpSets(ids: readonly IpSetId[]): Promise<CompiledIpSet[]>;
  deletePolicy(workloadId: WorkloadId): Promise<void>;
  /**
   * Records that provision slices finished (idempotent: a set of slice numbers; one write for all of `done`). `sha256` names the
   * version's document: two leaders racing through a failover can both write version n, and the slices
   * of one must not count for the other.
   */
  markSlicesDone(orgId: number, version: number, done: readonly number[], slices: number, sha256?: string): Promise<void>;
  /** A provision's slices on this PCE (how many, which are done); null before the first finished, or when they were of another document. */
  sliceProgress(orgId: number, version: number, sha256?: string): Promise<SliceProgress | null>;
  /**
   * The org's compute sequence on this PCE (0 before the first run), read consistently. Every compute run
   * that completes advances it, so a warm runtime can tell whether the stored compiled policy is still
   * the one its compiler produced (docs/adr/0007).
   */
  computeSeq(orgId: number): Promise<number>;
  /** Advances the sequence from `expected` to expected + 1; false (and no change) when it is no longer `expected`. */
  advanceComputeSeq(orgId: number, expected: number): Promise<boolean>;
  /** the policy versions and counts of compiled workloads, for convergence checks */
  summary(): Promise<{ workloads: number; byVersion: Record<string, number> }>;
}

export interface ComputeQueue {
  send(jobs: readonly ComputeJobV1[]): Promise<void>;
}
