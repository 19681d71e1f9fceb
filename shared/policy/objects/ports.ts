/** What the policy use cases need from storage, by role. Adapters: shared/storage/dynamodb/policy-*.ts. */
import type { PolicyLabel } from '../model.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import type { ActivePolicyDocument, PolicyVersion, StoredPolicyVersion } from '../snapshot/document.ts';
import type { PolicyObjectType } from './common.ts';
import type { ObjectKey, PolicyObjectMap, PolicyObjectRecord, PolicyObjects } from './objects.ts';

/** The optimistic lock over all drafts of an org: every draft write and every provision checks and bumps it. */
export interface DraftHead {
  readonly revision: number;
  readonly updatedAt: number;
  /**
   * Every draft's name has its claim (see DraftWrite.put[].nameClaim), so a write may check a name by its
   * claim instead of reading every draft. False on drafts written before claims existed, until a write
   * that read every draft claims them all (DraftWrite.claimAllNames).
   */
  readonly namesClaimed?: boolean;
}

/** The head and id counters of an org's drafts, without the objects. */
export interface DraftHeadState {
  readonly head: DraftHead | null;
  readonly counters: readonly IdCounter[];
}

/** A name a draft holds (case-insensitive, per type), as claimed. */
export interface NameRef {
  readonly type: PolicyObjectType;
  readonly id: number;
  readonly name: string;
}

/** The last id handed out in one leadership epoch (ids are `epoch * POLICY_IDS_PER_EPOCH + n`). */
export interface IdCounter {
  readonly epoch: number;
  readonly last: number;
}

export interface DraftPolicy {
  readonly head: DraftHead | null;
  readonly counters: readonly IdCounter[];
  readonly objects: PolicyObjects;
}

export interface DraftWrite {
  readonly orgId: number;
  /** the head that was read (null: none yet); the write fails with DraftChangedError if it moved */
  readonly expectedHead: DraftHead | null;
  /** ids allocated by this write: the counter of the fence's epoch moves from `from` (null: absent) to `to` */
  readonly ids: { readonly from: number | null; readonly to: number } | null;
  /**
   * Each put also claims the object's name. Without `nameClaim` the claim is simply written (the caller read
   * every draft of the type and found the name free); with it the claim must be absent, the object's own, or
   * held by `staleOwner` (a claim whose owner no longer has that name, as the caller checked), else the
   * write fails with DraftChangedError.
   */
  readonly put: readonly { readonly type: PolicyObjectType; readonly object: PolicyObjectRecord; readonly nameClaim?: { readonly staleOwner: number | null } }[];
  readonly remove: readonly ObjectKey[];
  readonly now: number;
  /** the name of every draft after this write, read from all drafts: claimed first, and the head then says names are claimed */
  readonly claimAllNames?: readonly NameRef[];
}

/** The active pointer a provision replaces. */
export interface ActivePointerRef {
  readonly version: number;
  readonly epoch: number;
  readonly updatedAt: number;
}

export interface ProvisionWrite {
  readonly orgId: number;
  readonly expectedHead: DraftHead | null;
  /** the active version that was read (null: first provision); the write fails with ActivePolicyChangedError if it moved */
  readonly previous: ActivePointerRef | null;
  readonly version: PolicyVersion;
  readonly document: ActivePolicyDocument;
  readonly now: number;
}

export interface PolicyStore {
  /** Every draft object of the org with the head and id counters, read consistently (leader writes). */
  loadDraft(orgId: number): Promise<DraftPolicy>;
  listDraft<K extends PolicyObjectType>(orgId: number, type: K): Promise<PolicyObjectMap[K][]>;
  getDraft<K extends PolicyObjectType>(orgId: number, type: K, id: number): Promise<PolicyObjectMap[K] | null>;
  /** The head and id counters only (read consistently): a write that needs few objects reads them by id. */
  loadDraftHead(orgId: number): Promise<DraftHeadState>;
  /** The drafts of `type` with these ids that exist (read consistently, in any order). */
  getDrafts<K extends PolicyObjectType>(orgId: number, type: K, ids: readonly number[]): Promise<PolicyObjectMap[K][]>;
  /** The id that claimed `name` (case-insensitive) among drafts of `type`, or null; the claim may be stale (see DraftWrite). */
  nameClaim(orgId: number, type: PolicyObjectType, name: string): Promise<number | null>;
  /** One transaction, fenced on the leader record: head, id counter, puts and removes together. */
  writeDraft(write: DraftWrite, fence: WriteFence): Promise<void>;
  /** One fenced transaction (plus fenced chunk pre-writes for very large documents): chunks, version item, active pointer. */
  provision(write: ProvisionWrite, fence: WriteFence): Promise<StoredPolicyVersion>;
}

/** The labels of an org as policy references them (read consistently on the leader). */
export interface PolicyLabelSource {
  labels(orgId: number): Promise<PolicyLabel[]>;
}
