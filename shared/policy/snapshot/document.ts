/**
 * A provisioned policy version as stored: the whole active policy of an org, self-describing
 * (the labels it names are copied in, with their keys, as they were at provision time).
 * Stored compressed in chunks (see shared/storage/policy-keys.ts); hashed over its canonical JSON.
 */
import type { PolicyObjectType } from '../objects/common.ts';
import type { PolicyObjects } from '../objects/objects.ts';
import type { PolicyLabel, PolicySnapshot } from '../model.ts';

export const SNAPSHOT_FORMAT = 1;

export interface ActivePolicyDocument {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly orgId: number;
  readonly version: number;
  /** every label the objects name */
  readonly labels: readonly PolicyLabel[];
  readonly objects: PolicyObjects;
  /**
   * the service bindings of its virtual services when it was provisioned (what the compiler reaches a
   * virtual service through); absent in versions provisioned before bindings existed
   */
  readonly serviceBindings?: readonly BoundWorkload[];
}

/** A workload bound to a virtual service (a service binding, as the compiler needs it). */
export interface BoundWorkload {
  readonly virtualServiceId: number;
  readonly workloadId: string;
}

/** A provisioned version as the API shows it (`GET /sec_policy/{version}`). */
export interface PolicyVersion {
  readonly orgId: number;
  readonly version: number;
  /** the leadership epoch that wrote it (versions are stored per epoch: see policy-keys.ts) */
  readonly epoch: number;
  readonly createdAt: number;
  readonly createdBy: number;
  readonly commitMessage: string;
  readonly objectCounts: Readonly<Record<PolicyObjectType, number>>;
  /** not computed here: the compute pipeline knows which workloads a version changed (null until it does) */
  readonly workloadsAffected: number | null;
}

/** Where and how the document is stored. */
export interface SnapshotContent {
  /** sha256 (hex) of the document's canonical JSON */
  readonly sha256: string;
  readonly chunks: number;
  /** length of the canonical JSON in bytes */
  readonly bytes: number;
}

export interface StoredPolicyVersion extends PolicyVersion {
  readonly content: SnapshotContent;
}

export interface ActivePolicy {
  readonly version: StoredPolicyVersion;
  readonly document: ActivePolicyDocument;
}

/** What the compute pipeline consumes (shared/compute/ports.ts ActivePolicySource). */
export interface VersionedSnapshot {
  readonly version: number;
  readonly snapshot: PolicySnapshot;
  /** identifies the content: two leaders racing through a failover could both write a version number */
  readonly sha256: string;
}
