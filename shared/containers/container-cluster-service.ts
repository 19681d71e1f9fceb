/** Container cluster and container workload profile use cases (container-cluster.ts): reads on every PCE, writes on the leader. */
import { randomUUID } from 'node:crypto';
import { notFound, ValidationError, type ErrorEntry } from '../api/errors.ts';
import { parseInput } from '../api/validation.ts';
import { leaderDocumentWrite, type DocumentStore, type StoredDocument } from '../documents/document-store.ts';
import { labelIdFromHref, type Label, type LabelStore } from '../labels/label.ts';
import type { LeaderView } from '../supercluster/leader.ts';
import {
  clusterToJson,
  createClusterSchema,
  createProfileSchema,
  DEFAULT_PROFILE_NAME,
  isClusterDoc,
  newClusterToken,
  profileDocId,
  profileToJson,
  updateClusterSchema,
  updateProfileSchema,
  type ClusterBody,
  type ProfileBody,
  type ProfileInput,
  type ProfileLabelRule,
} from './container-cluster.ts';

export interface ContainerClusterServiceDeps {
  readonly documents: DocumentStore;
  readonly leader: LeaderView;
  readonly labels: Pick<LabelStore, 'list'>;
  readonly now?: () => number;
}

interface Actor {
  readonly orgId: number;
  readonly userId: number;
}

export interface NameFilter {
  /** partial, case-insensitive */
  readonly name?: string;
}

export interface ProfileFilter extends NameFilter {
  readonly namespace?: string;
  readonly enforcementMode?: string;
  readonly visibilityLevel?: string;
  readonly managed?: boolean;
  readonly linked?: boolean;
}

const CLUSTER_TOKENS = { claimTaken: 'container_cluster_name_in_use', changed: 'container_cluster_conflict' } as const;
const PROFILE_TOKENS = { claimTaken: 'container_workload_profile_name_in_use', changed: 'container_workload_profile_conflict' } as const;
const nameClaim = (name: string) => `NAME#${name.toLowerCase()}`;
const body = <T>(doc: StoredDocument) => doc.body as unknown as T;
const asDocBody = (b: ClusterBody | ProfileBody) => b as unknown as Record<string, unknown>;
const byCreation = (a: StoredDocument, b: StoredDocument) => a.createdAt - b.createdAt || a.id.localeCompare(b.id);

export class ContainerClusterService {
  private readonly now: () => number;

  constructor(private readonly deps: ContainerClusterServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  // ---- clusters ----

  async list(orgId: number, filter: NameFilter, maxResults: number) {
    const name = filter.name?.toLowerCase();
    const all = (await this.deps.documents.list(orgId)).filter(isClusterDoc).filter((d) => name === undefined || body<ClusterBody>(d).name.toLowerCase().includes(name)).sort(byCreation);
    return { items: all.slice(0, maxResults).map((d) => clusterToJson(orgId, d)), total: all.length };
  }

  async getJson(orgId: number, id: string) {
    return clusterToJson(orgId, await this.cluster(orgId, id));
  }

  /** 201 body: the cluster with its token (`container_cluster_token`), shown this once. */
  async create(actor: Actor, raw: unknown) {
    const input = parseInput(createClusterSchema, raw);
    const now = this.now();
    const { token, hash } = newClusterToken();
    const id = randomUUID();
    const cluster: StoredDocument = { id, createdAt: now, updatedAt: now, body: asDocBody({ name: input.name, description: input.description ?? '', token_hash: hash, created_by: actor.userId, updated_by: actor.userId }) };
    const defaultProfile: StoredDocument = { id: profileDocId(id, randomUUID()), createdAt: now, updatedAt: now, body: asDocBody(this.profileBody(null, {}, actor, DEFAULT_PROFILE_NAME)) };
    await leaderDocumentWrite(this.deps.leader, (fence) => this.deps.documents.put(actor.orgId, { next: cluster, expectedUpdatedAt: null, claim: [nameClaim(input.name)], alsoCreate: [defaultProfile] }, fence), CLUSTER_TOKENS);
    return { ...clusterToJson(actor.orgId, cluster), container_cluster_token: token };
  }

  async update(actor: Actor, id: string, raw: unknown): Promise<void> {
    const input = parseInput(updateClusterSchema, raw);
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        const current = await this.cluster(actor.orgId, id, true);
        const b = body<ClusterBody>(current);
        const name = input.name ?? b.name;
        const renamed = name.toLowerCase() !== b.name.toLowerCase();
        const next: StoredDocument = { ...current, updatedAt: Math.max(this.now(), current.updatedAt + 1), body: asDocBody({ ...b, name, description: input.description === undefined ? b.description : (input.description ?? ''), updated_by: actor.userId }) };
        await this.deps.documents.put(actor.orgId, { next, expectedUpdatedAt: current.updatedAt, ...(renamed ? { claim: [nameClaim(name)], release: [nameClaim(b.name)] } : {}) }, fence);
      },
      CLUSTER_TOKENS,
    );
  }

  /** Deletes the cluster's profiles, then the cluster (and its token): the token no longer pairs anything. */
  async delete(actor: Actor, id: string): Promise<void> {
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        const current = await this.cluster(actor.orgId, id, true);
        for (const profile of await this.deps.documents.list(actor.orgId, `${id}/`)) {
          const ns = body<ProfileBody>(profile).namespace;
          await this.deps.documents.delete(actor.orgId, profile, fence, ns !== null ? [`NS#${id}#${ns}`] : []);
        }
        await this.deps.documents.delete(actor.orgId, current, fence, [nameClaim(body<ClusterBody>(current).name)]);
      },
      CLUSTER_TOKENS,
    );
  }

  // ---- container workload profiles ----

  /** Filters of the Terraform provider's data source (data_source_illumio_container_cluster_workload_profiles.go): name (partial), namespace, enforcement_mode, visibility_level, managed, linked. */
  async listProfiles(orgId: number, clusterId: string, filter: ProfileFilter, maxResults: number) {
    await this.cluster(orgId, clusterId);
    const name = filter.name?.toLowerCase();
    const all = (await this.deps.documents.list(orgId, `${clusterId}/`))
      .filter((d) => {
        const b = body<ProfileBody>(d);
        return (
          (name === undefined || (b.name ?? '').toLowerCase().includes(name)) &&
          (filter.namespace === undefined || b.namespace === filter.namespace) &&
          (filter.enforcementMode === undefined || b.enforcement_mode === filter.enforcementMode) &&
          (filter.visibilityLevel === undefined || b.visibility_level === filter.visibilityLevel) &&
          (filter.managed === undefined || b.managed === filter.managed) &&
          // no Kubelink reports namespaces here: no profile is linked
          filter.linked !== true
        );
      })
      .sort(byCreation);
    const value = await this.labelValues(orgId);
    return { items: all.slice(0, maxResults).map((d) => profileToJson(orgId, d, value)), total: all.length };
  }

  async getProfileJson(orgId: number, clusterId: string, profileId: string) {
    const doc = await this.profile(orgId, clusterId, profileId);
    return profileToJson(orgId, doc, await this.labelValues(orgId));
  }

  async createProfile(actor: Actor, clusterId: string, raw: unknown) {
    const input = parseInput(createProfileSchema, raw);
    const labels = await this.deps.labels.list(actor.orgId);
    const now = this.now();
    const doc: StoredDocument = { id: profileDocId(clusterId, randomUUID()), createdAt: now, updatedAt: now, body: asDocBody(this.profileBody(null, input, actor, null, labels)) };
    const b = body<ProfileBody>(doc);
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        await this.cluster(actor.orgId, clusterId, true);
        await this.deps.documents.put(actor.orgId, { next: doc, expectedUpdatedAt: null, ...(b.namespace !== null ? { claim: [`NS#${clusterId}#${b.namespace}`] } : {}) }, fence);
      },
      PROFILE_TOKENS,
    );
    return profileToJson(actor.orgId, doc, valueOf(labels));
  }

  async updateProfile(actor: Actor, clusterId: string, profileId: string, raw: unknown): Promise<void> {
    const input = parseInput(updateProfileSchema, raw);
    const labels = await this.deps.labels.list(actor.orgId);
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        const current = await this.profile(actor.orgId, clusterId, profileId, true);
        const was = body<ProfileBody>(current);
        const nextBody = this.profileBody(was, input, actor, null, labels);
        const claims = nextBody.namespace !== was.namespace ? { ...(nextBody.namespace !== null ? { claim: [`NS#${clusterId}#${nextBody.namespace}`] } : {}), ...(was.namespace !== null ? { release: [`NS#${clusterId}#${was.namespace}`] } : {}) } : {};
        await this.deps.documents.put(actor.orgId, { next: { ...current, updatedAt: Math.max(this.now(), current.updatedAt + 1), body: asDocBody(nextBody) }, expectedUpdatedAt: current.updatedAt, ...claims }, fence);
      },
      PROFILE_TOKENS,
    );
  }

  async deleteProfile(actor: Actor, clusterId: string, profileId: string): Promise<void> {
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        const current = await this.profile(actor.orgId, clusterId, profileId, true);
        const ns = body<ProfileBody>(current).namespace;
        await this.deps.documents.delete(actor.orgId, current, fence, ns !== null ? [`NS#${clusterId}#${ns}`] : []);
      },
      PROFILE_TOKENS,
    );
  }

  // ---- helpers ----

  private async cluster(orgId: number, id: string, consistent = false): Promise<StoredDocument> {
    const doc = await this.deps.documents.get(orgId, id, { consistent });
    if (!doc) throw notFound(`container cluster ${id}`);
    return doc;
  }

  private async profile(orgId: number, clusterId: string, profileId: string, consistent = false): Promise<StoredDocument> {
    const doc = await this.deps.documents.get(orgId, profileDocId(clusterId, profileId), { consistent });
    if (!doc) throw notFound(`container workload profile ${profileId} of container cluster ${clusterId}`);
    return doc;
  }

  private async labelValues(orgId: number): Promise<(id: number) => string | undefined> {
    return valueOf(await this.deps.labels.list(orgId));
  }

  /** The profile an input makes (over `current` for an update); 406 naming each bad label reference. */
  private profileBody(current: ProfileBody | null, input: ProfileInput, actor: Actor, defaultName: string | null, labels: readonly Label[] = []): ProfileBody {
    const errors: ErrorEntry[] = [];
    const byId = new Map(labels.map((l) => [l.id, l]));
    const labelRef = (href: string, field: string, key?: string): number | undefined => {
      const ref = labelIdFromHref(href);
      const label = ref && ref.orgId === actor.orgId ? byId.get(ref.id) : undefined;
      if (!label) errors.push({ token: 'invalid_label', message: `${field}: ${href} is not a label of org ${actor.orgId}` });
      else if (key !== undefined && label.key !== key) errors.push({ token: 'label_key_mismatch', message: `${field}: ${href} is a ${label.key} label, not ${key}` });
      return label?.id;
    };
    const assign = input.assign_labels === undefined ? (current?.assign_labels ?? []) : (input.assign_labels ?? []).map((r, i) => labelRef(r.href, `assign_labels[${i}].href`)).filter((id): id is number => id !== undefined);
    const rules: ProfileLabelRule[] =
      input.labels === undefined
        ? [...(current?.labels ?? [])]
        : (input.labels ?? []).flatMap((l, i): ProfileLabelRule[] => {
            if ((l.assignment === undefined) === (l.restriction === undefined || l.restriction.length === 0)) {
              errors.push({ token: 'input_validation_error', message: `labels[${i}]: give exactly one of assignment and restriction` });
              return [];
            }
            if (l.assignment !== undefined) {
              const id = labelRef(l.assignment.href, `labels[${i}].assignment.href`, l.key);
              return id === undefined ? [] : [{ key: l.key, assignment: id }];
            }
            const ids = (l.restriction ?? []).map((r, j) => labelRef(r.href, `labels[${i}].restriction[${j}].href`, l.key)).filter((id): id is number => id !== undefined);
            return [{ key: l.key, restriction: ids }];
          });
    if (assign.length > 0 && rules.length > 0) errors.push({ token: 'input_validation_error', message: 'give assign_labels or labels, not both' });
    if (errors.length > 0) throw new ValidationError(errors);
    return {
      name: input.name === undefined ? (current?.name ?? defaultName) : input.name,
      namespace: input.namespace === undefined ? (current?.namespace ?? null) : input.namespace,
      description: input.description === undefined ? (current?.description ?? '') : (input.description ?? ''),
      enforcement_mode: input.enforcement_mode ?? current?.enforcement_mode ?? 'idle',
      visibility_level: input.visibility_level ?? current?.visibility_level ?? 'flow_summary',
      managed: input.managed ?? current?.managed ?? (defaultName !== null),
      assign_labels: assign,
      labels: rules,
      created_by: current?.created_by ?? actor.userId,
      updated_by: actor.userId,
    };
  }
}

function valueOf(labels: readonly Label[]): (id: number) => string | undefined {
  const byId = new Map(labels.map((l) => [l.id, l.value]));
  return (id) => byId.get(id);
}
