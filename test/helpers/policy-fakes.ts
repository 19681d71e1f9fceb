/** In-memory fakes of the policy ports, with the same fence / optimistic-lock semantics as the DynamoDB adapters. */
import type { PolicyApi } from '../../lambdas/api/routes/policy.ts';
import { ServiceBindingService, type ServiceBinding, type ServiceBindingStore } from '../../shared/policy/bindings/service-bindings.ts';
import type { PolicyLabel } from '../../shared/policy/model.ts';
import type { PolicyObjectType } from '../../shared/policy/objects/common.ts';
import { ActivePolicyChangedError, DraftChangedError } from '../../shared/policy/objects/errors.ts';
import type { PolicyObjectMap, PolicyObjectRecord } from '../../shared/policy/objects/objects.ts';
import { PolicyObjectService } from '../../shared/policy/objects/policy-object-service.ts';
import type { DraftHead, DraftHeadState, DraftPolicy, DraftWrite, PolicyLabelSource, PolicyStore, ProvisionWrite } from '../../shared/policy/objects/ports.ts';
import { ProvisioningService } from '../../shared/policy/objects/provisioning-service.ts';
import { encodeSnapshot } from '../../shared/policy/snapshot/codec.ts';
import type { ActivePolicy, ActivePolicyDocument, StoredPolicyVersion, VersionedSnapshot } from '../../shared/policy/snapshot/document.ts';
import { SnapshotIncompleteError } from '../../shared/policy/snapshot/errors.ts';
import type { PolicySnapshotStore } from '../../shared/policy/snapshot/ports.ts';
import { toPolicySnapshot } from '../../shared/policy/snapshot/to-policy-snapshot.ts';
import type { LeaderView, WriteFence } from '../../shared/supercluster/leader.ts';
import type { FakeLabelStore, FakeLeaderStore } from './fakes.ts';

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

interface OrgPolicy {
  head: DraftHead | null;
  counters: Map<number, number>;
  drafts: Map<string, { type: PolicyObjectType; object: PolicyObjectRecord }>;
  /** `<type>/<lower name>` -> owner id */
  claims: Map<string, number>;
  versions: { stored: StoredPolicyVersion; document: ActivePolicyDocument }[];
  active: { version: number; epoch: number } | null;
}

export class FakePolicyStore implements PolicyStore, PolicySnapshotStore {
  private readonly orgs = new Map<number, OrgPolicy>();
  /** versions whose chunks have "not replicated yet" (reads throw SnapshotIncompleteError) */
  readonly replicating = new Set<string>();

  constructor(private readonly leader: FakeLeaderStore) {}

  private org(orgId: number): OrgPolicy {
    let org = this.orgs.get(orgId);
    if (!org) {
      org = { head: null, counters: new Map(), drafts: new Map(), claims: new Map(), versions: [], active: null };
      this.orgs.set(orgId, org);
    }
    return org;
  }

  /** reads of every draft (loadDraft) */
  fullLoads = 0;

  async loadDraft(orgId: number): Promise<DraftPolicy> {
    this.fullLoads++;
    const org = this.org(orgId);
    const objects: { [K in PolicyObjectType]: PolicyObjectMap[K][] } = { label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] };
    for (const { type, object } of org.drafts.values()) (objects[type] as PolicyObjectRecord[]).push(clone(object));
    return { head: org.head, counters: [...org.counters].map(([epoch, last]) => ({ epoch, last })), objects };
  }

  async listDraft<K extends PolicyObjectType>(orgId: number, type: K): Promise<PolicyObjectMap[K][]> {
    const org = this.org(orgId);
    return [...org.drafts.values()].filter((d) => d.type === type).map((d) => clone(d.object) as PolicyObjectMap[K]);
  }

  async getDraft<K extends PolicyObjectType>(orgId: number, type: K, id: number): Promise<PolicyObjectMap[K] | null> {
    const found = this.org(orgId).drafts.get(`${type}/${id}`);
    return found ? (clone(found.object) as PolicyObjectMap[K]) : null;
  }

  /** reads of draft objects by id (getDrafts), to show a write read few */
  draftsRead = 0;

  async loadDraftHead(orgId: number): Promise<DraftHeadState> {
    const org = this.org(orgId);
    return { head: org.head, counters: [...org.counters].map(([epoch, last]) => ({ epoch, last })) };
  }

  async getDrafts<K extends PolicyObjectType>(orgId: number, type: K, ids: readonly number[]): Promise<PolicyObjectMap[K][]> {
    const org = this.org(orgId);
    const found = [...new Set(ids)].flatMap((id) => {
      const d = org.drafts.get(`${type}/${id}`);
      return d ? [clone(d.object) as PolicyObjectMap[K]] : [];
    });
    this.draftsRead += found.length;
    return found;
  }

  async nameClaim(orgId: number, type: PolicyObjectType, name: string): Promise<number | null> {
    return this.org(orgId).claims.get(`${type}/${name.toLowerCase()}`) ?? null;
  }

  /** a legacy org: drafts written before names were claimed (no claims, head without namesClaimed) */
  forgetNameClaims(orgId: number): void {
    const org = this.org(orgId);
    org.claims.clear();
    if (org.head) org.head = { revision: org.head.revision, updatedAt: org.head.updatedAt };
  }

  private checkHead(org: OrgPolicy, expected: DraftHead | null): void {
    if ((org.head?.revision ?? null) !== (expected?.revision ?? null)) throw new DraftChangedError('head moved');
  }

  async writeDraft(write: DraftWrite, fence: WriteFence): Promise<void> {
    this.leader.checkFence(fence);
    const org = this.org(write.orgId);
    this.checkHead(org, write.expectedHead);
    if (write.ids && (org.counters.get(fence.epoch) ?? null) !== write.ids.from) throw new DraftChangedError('counter moved');
    for (const k of write.remove) if (!org.drafts.has(`${k.type}/${k.id}`)) throw new DraftChangedError('already deleted');
    for (const { type, object, nameClaim } of write.put) {
      const owner = org.claims.get(`${type}/${object.name.toLowerCase()}`);
      if (nameClaim && owner !== undefined && owner !== object.id && owner !== nameClaim.staleOwner) throw new DraftChangedError('name claimed');
    }
    for (const ref of write.claimAllNames ?? []) org.claims.set(`${ref.type}/${ref.name.toLowerCase()}`, ref.id);
    for (const { type, object } of write.put) org.claims.set(`${type}/${object.name.toLowerCase()}`, object.id);
    const namesClaimed = write.expectedHead === null || write.expectedHead.namesClaimed === true || write.claimAllNames !== undefined;
    org.head = { revision: (org.head?.revision ?? 0) + 1, updatedAt: write.now, namesClaimed };
    if (write.ids) org.counters.set(fence.epoch, write.ids.to);
    for (const { type, object } of write.put) org.drafts.set(`${type}/${object.id}`, { type, object: clone(object) });
    for (const k of write.remove) org.drafts.delete(`${k.type}/${k.id}`);
  }

  async provision(write: ProvisionWrite, fence: WriteFence): Promise<StoredPolicyVersion> {
    this.leader.checkFence(fence);
    const org = this.org(write.orgId);
    this.checkHead(org, write.expectedHead);
    if (org.active?.version !== write.previous?.version || org.active?.epoch !== write.previous?.epoch) throw new ActivePolicyChangedError('pointer moved');
    const stored: StoredPolicyVersion = { ...write.version, epoch: fence.epoch, content: encodeSnapshot(write.document).content };
    org.versions.push({ stored, document: clone(write.document) });
    org.active = { version: stored.version, epoch: stored.epoch };
    return stored;
  }

  private find(orgId: number, version: number): { stored: StoredPolicyVersion; document: ActivePolicyDocument } {
    const found = this.org(orgId).versions.filter((v) => v.stored.version === version).at(-1);
    if (!found || this.replicating.has(`${orgId}/${version}`)) throw new SnapshotIncompleteError(orgId, version, ['chunk 0']);
    return found;
  }

  async readActive(orgId: number): Promise<ActivePolicy | null> {
    const active = this.org(orgId).active;
    if (!active) return null;
    const { stored, document } = this.find(orgId, active.version);
    return { version: stored, document: clone(document) };
  }

  async getActive(orgId: number): Promise<VersionedSnapshot | null> {
    const active = await this.readActive(orgId);
    return active ? { version: active.version.version, snapshot: toPolicySnapshot(active.document), sha256: active.version.content.sha256 } : null;
  }

  async getVersion(orgId: number, version: number): Promise<VersionedSnapshot> {
    const { stored, document } = this.find(orgId, version);
    return { version, snapshot: toPolicySnapshot(document), sha256: stored.content.sha256 };
  }

  async getVersionInfo(orgId: number, version: number): Promise<StoredPolicyVersion | null> {
    return this.org(orgId).versions.find((v) => v.stored.version === version)?.stored ?? null;
  }

  async listVersions(orgId: number): Promise<StoredPolicyVersion[]> {
    return this.org(orgId).versions.map((v) => v.stored).sort((a, b) => b.version - a.version);
  }
}

/** Labels for policy references, from the labels fake. */
export class FakePolicyLabels implements PolicyLabelSource {
  constructor(private readonly store: FakeLabelStore) {}
  async labels(orgId: number): Promise<PolicyLabel[]> {
    return (await this.store.list(orgId)).map((l) => ({ id: l.id, key: l.key, value: l.value }));
  }
}

/** The policy API of one PCE over shared fakes (pass the same store to every PCE: one "replicated" table). */
/** Service bindings in memory (workloads whose id starts with "ffffffff" do not exist). */
export class FakeServiceBindingStore implements ServiceBindingStore {
  readonly bindings = new Map<string, ServiceBinding>();
  async list(orgId: number) {
    return [...this.bindings.values()].filter((b) => b.orgId === orgId);
  }
  async get(orgId: number, id: string) {
    const b = this.bindings.get(id);
    return b && b.orgId === orgId ? b : null;
  }
  async create(bindings: readonly ServiceBinding[]) {
    for (const b of bindings) this.bindings.set(b.id, b);
  }
  async delete(orgId: number, id: string) {
    return (await this.get(orgId, id)) !== null && this.bindings.delete(id);
  }
}

export function fakePolicyApi(leader: LeaderView, store: FakePolicyStore, labels: FakeLabelStore, now?: () => number, bindingStore = new FakeServiceBindingStore()): PolicyApi {
  const bindings = new ServiceBindingService({
    store: bindingStore,
    leader,
    references: {
      virtualServiceExists: async (orgId, id) => (await store.getDraft(orgId, 'virtual_services', id)) !== null,
      workloadExists: async (_orgId, id) => !id.startsWith('ffffffff'),
    },
  });
  const deps = { store, snapshots: store, labels: new FakePolicyLabels(labels), leader, boundWorkloads: (orgId: number) => bindings.boundWorkloads(orgId), ...(now ? { now } : {}) };
  return { objects: new PolicyObjectService(deps), provisioning: new ProvisioningService(deps), bindings };
}
