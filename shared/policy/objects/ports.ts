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
  readonly put: readonly { readonly type: PolicyObjectType; readonly object: PolicyObjectRecord }[];
  readonly remove: readonly ObjectKey[];
  readonly now: number;
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
  /** One transaction, fenced on the leader record: head, id counter, puts and removes together. */
  writeDraft(write: DraftWrite, fence: WriteFence): Promise<void>;
  /** One fenced transaction (plus fenced chunk pre-writes for very large documents): chunks, version item, active pointer. */
  provision(write: ProvisionWrite, fence: WriteFence): Promise<StoredPolicyVersion>;
}

/** The labels of an org as policy references them (read consistently on the leader). */
export interface PolicyLabelSource {
  labels(orgId: number): Promise<PolicyLabel[]>;
}
