import type { ActivePolicy, StoredPolicyVersion, VersionedSnapshot } from './document.ts';

/**
 * Provisioned policy versions as this region's replica holds them (strongly consistent reads of the
 * local replica, so the leader reads its own provisions at once). Versions are immutable; reads
 * never return part of one: they throw SnapshotIncompleteError until every item has replicated
 * and the content matches its sha256.
 */
export interface PolicySnapshotStore {
  /** The active version in the compiler's model, or null before the first provision. */
  getActive(orgId: number): Promise<VersionedSnapshot | null>;
  /** A given version in the compiler's model (throws SnapshotIncompleteError while it replicates). */
  getVersion(orgId: number, version: number): Promise<VersionedSnapshot>;
  /** The active version with its objects (API reads, provisioning). */
  readActive(orgId: number): Promise<ActivePolicy | null>;
  getVersionInfo(orgId: number, version: number): Promise<StoredPolicyVersion | null>;
  /** Newest first. */
  listVersions(orgId: number): Promise<StoredPolicyVersion[]>;
}
