/**
 * Container clusters (`/orgs/{org}/container_clusters`) and their container workload profiles
 * (`{cluster}/container_workload_profiles`): leader-written org documents (shared/documents). A cluster's
 * token (what Kubelink pairs with) is returned once, in the POST answer as `container_cluster_token`, and
 * stored only as its SHA-256. A new cluster gets its "Default Profile" (no namespace), as Illumio does.
 * No Kubelink talks to this PCE yet: clusters stay offline, with no nodes, and profiles are not linked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ENFORCEMENT_MODES } from '../policy/model.ts';
import { VISIBILITY_LEVELS } from '../pairing/pairing-profile.ts';
import type { StoredDocument } from '../documents/document-store.ts';

const nameField = z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters');
const descriptionField = z.string().max(4096, 'must be at most 4096 characters').nullable();
const hrefRef = z.object({ href: z.string().max(255) });

export const createClusterSchema = z.strictObject({ name: nameField, description: descriptionField.optional() });
export const updateClusterSchema = z
  .strictObject({ name: nameField.optional(), description: descriptionField.optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one of name, description' });

const profileLabel = z.strictObject({
  key: z.string().min(1).max(64),
  assignment: hrefRef.optional(),
  restriction: z.array(hrefRef).max(1000).optional(),
});

const profileFields = {
  name: z.string().trim().max(255, 'must be at most 255 characters').nullable(),
  namespace: z.string().trim().max(255, 'must be at most 255 characters').nullable(),
  description: descriptionField,
  enforcement_mode: z.enum(ENFORCEMENT_MODES, { error: `must be one of ${ENFORCEMENT_MODES.join(', ')}` }),
  visibility_level: z.enum(VISIBILITY_LEVELS, { error: `must be one of ${VISIBILITY_LEVELS.join(', ')}` }),
  managed: z.boolean(),
  assign_labels: z.array(hrefRef).max(64),
  labels: z.array(profileLabel).max(64),
};

export const createProfileSchema = z.strictObject({
  name: profileFields.name.optional(),
  namespace: profileFields.namespace.optional(),
  description: profileFields.description.optional(),
  enforcement_mode: profileFields.enforcement_mode.optional(),
  visibility_level: profileFields.visibility_level.optional(),
  managed: profileFields.managed.optional(),
  assign_labels: profileFields.assign_labels.nullable().optional(),
  labels: profileFields.labels.nullable().optional(),
});

export const updateProfileSchema = createProfileSchema.refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change' });

export type ProfileInput = z.infer<typeof createProfileSchema>;

export interface ClusterBody {
  readonly name: string;
  readonly description: string;
  /** SHA-256 (hex) of the cluster token; the token itself is never stored */
  readonly token_hash: string;
  readonly created_by: number;
  readonly updated_by: number;
}

/** A profile's label rule: assign one label of a key, or restrict the key to some labels. */
export interface ProfileLabelRule {
  readonly key: string;
  readonly assignment?: number;
  readonly restriction?: readonly number[];
}

export interface ProfileBody {
  readonly name: string | null;
  readonly namespace: string | null;
  readonly description: string;
  readonly enforcement_mode: (typeof ENFORCEMENT_MODES)[number];
  readonly visibility_level: (typeof VISIBILITY_LEVELS)[number];
  readonly managed: boolean;
  readonly assign_labels: readonly number[];
  readonly labels: readonly ProfileLabelRule[];
  readonly created_by: number;
  readonly updated_by: number;
}

export const DEFAULT_PROFILE_NAME = 'Default Profile';

/** A new cluster token: shown once, stored hashed. */
export function newClusterToken(): { token: string; hash: string } {
  const token = `${randomBytes(4).toString('hex')}_${randomBytes(32).toString('hex')}`;
  return { token, hash: hashClusterToken(token) };
}

export function hashClusterToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Profile document ids are `<cluster id>/<profile id>`, so a cluster's profiles list by prefix. */
export const profileDocId = (clusterId: string, profileId: string) => `${clusterId}/${profileId}`;
export const isClusterDoc = (doc: StoredDocument) => !doc.id.includes('/');

export const clusterHref = (orgId: number, clusterId: string) => `/orgs/${orgId}/container_clusters/${clusterId}`;
export const profileHref = (orgId: number, docId: string) => {
  const [clusterId, profileId] = docId.split('/');
  return `${clusterHref(orgId, clusterId ?? '')}/container_workload_profiles/${profileId ?? ''}`;
};

const iso = (ms: number) => new Date(ms).toISOString();

export function clusterToJson(orgId: number, doc: StoredDocument) {
  const b = doc.body as unknown as ClusterBody;
  return {
    href: clusterHref(orgId, doc.id),
    pce_fqdn: null,
    name: b.name,
    description: b.description,
    manager_type: null,
    last_connected: null,
    kubelink_version: null,
    online: false,
    nodes: [],
    container_runtime: null,
    errors: [],
    caps: ['write'],
    created_at: iso(doc.createdAt),
    updated_at: iso(doc.updatedAt),
    created_by: { href: `/users/${b.created_by}` },
    updated_by: { href: `/users/${b.updated_by}` },
  };
}

/** `labelValue`: the value of a label id (for the `value` next to each href, as Illumio shows it). */
export function profileToJson(orgId: number, doc: StoredDocument, labelValue: (id: number) => string | undefined) {
  const b = doc.body as unknown as ProfileBody;
  const ref = (id: number) => ({ href: `/orgs/${orgId}/labels/${id}`, ...(labelValue(id) !== undefined ? { value: labelValue(id) } : {}) });
  return {
    href: profileHref(orgId, doc.id),
    name: b.name,
    namespace: b.namespace,
    description: b.description,
    enforcement_mode: b.enforcement_mode,
    visibility_level: b.visibility_level,
    managed: b.managed,
    linked: false,
    assign_labels: b.assign_labels.map((id) => ({ href: `/orgs/${orgId}/labels/${id}` })),
    labels: b.labels.map((l) => ({ key: l.key, ...(l.assignment !== undefined ? { assignment: ref(l.assignment) } : {}), ...(l.restriction !== undefined ? { restriction: l.restriction.map(ref) } : {}) })),
    created_at: iso(doc.createdAt),
    updated_at: iso(doc.updatedAt),
    created_by: { href: `/users/${b.created_by}` },
    updated_by: { href: `/users/${b.updated_by}` },
  };
}
