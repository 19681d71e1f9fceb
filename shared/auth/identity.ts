/**
 * Illumio's access model, as data: local users, their API keys (non-secret metadata), auth security
 * principals (a user or a group, by name) and permissions (a role over a label scope, granted to a
 * principal). The store port (IdentityStore) and the JSON shapes of the REST API live here; the use cases in
 * access-service.ts. Every item is leader-written (global table, `AUTH#...` partitions; API key items
 * `APIKEY#<auth_username>`), stamped with its origin region.
 */
import { z } from 'zod';
import type { WriteFence } from '../supercluster/leader.ts';
import type { ApiKeyRecord } from './api-keys.ts';
import { ROLES, type Role } from './permissions.ts';

export interface User {
  readonly id: number;
  readonly orgId: number;
  readonly username: string;
  readonly fullName: string;
  readonly createdAt: number;
}

export const PRINCIPAL_TYPES = ['user', 'group'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface Principal {
  readonly id: string;
  readonly orgId: number;
  /** a user principal's name is the user's username; a group's, the group's name (as an identity provider sends it) */
  readonly name: string;
  readonly displayName: string;
  readonly type: PrincipalType;
}

export interface AccessPermission {
  readonly id: string;
  readonly orgId: number;
  readonly role: Role;
  /** label hrefs (`/orgs/1/labels/7`); empty = the whole org */
  readonly scope: readonly string[];
  readonly principalId: string;
}

/** The index entry of an API key under its user (everything but the secret hash). */
export type ApiKeyMeta = Omit<ApiKeyRecord, 'secretHash'>;

/** A user with this username exists (usernames are unique, case-insensitive). */
export class DuplicateUsernameError extends Error {
  override readonly name = 'DuplicateUsernameError';
}

/** A principal of this type and name exists in the org. */
export class DuplicatePrincipalError extends Error {
  override readonly name = 'DuplicatePrincipalError';
}

/** The identity items, in this region's replica of the global table. Writes are fenced by the leader record. */
export interface IdentityStore {
  listUsers(): Promise<User[]>;
  getUser(id: number): Promise<User | null>;
  /** Allocates the user's id and stores it with its username claim; DuplicateUsernameError when taken. */
  createUser(input: { orgId: number; username: string; fullName: string; now: number }, fence: WriteFence): Promise<User>;
  /** The bootstrap user (id 1): stored unless present. */
  putUserIfAbsent(user: User, fence: WriteFence): Promise<void>;
  /** Deletes the user, its username claim, and each of its API keys with its index entry. */
  deleteUser(user: User, fence: WriteFence): Promise<void>;
  /** The user's keys, from its key index (one Query, no secret hashes). */
  listUserKeys(userId: number): Promise<ApiKeyMeta[]>;
  /** Deletes the key item and its index entry in one transaction (a revocation); false when it was gone. */
  deleteKey(userId: number, keyId: string, fence: WriteFence): Promise<boolean>;
  listPrincipals(orgId: number): Promise<Principal[]>;
  /** Stores a new principal; DuplicatePrincipalError when its type and name are taken. */
  createPrincipal(principal: Principal, fence: WriteFence, now: number): Promise<void>;
  updatePrincipal(current: Principal, next: Principal, fence: WriteFence, now: number): Promise<void>;
  deletePrincipal(principal: Principal, fence: WriteFence): Promise<void>;
  listPermissions(orgId: number): Promise<AccessPermission[]>;
  /** Creates or replaces a permission. */
  putPermission(permission: AccessPermission, fence: WriteFence, now: number): Promise<void>;
  deletePermission(permission: AccessPermission, fence: WriteFence): Promise<void>;
}

// --- hrefs ---

export const userHref = (id: number): string => `/users/${id}`;
export const apiKeyHref = (userId: number, keyId: string): string => `/users/${userId}/api_keys/${keyId}`;
export const roleHref = (orgId: number, role: Role): string => `/orgs/${orgId}/roles/${role}`;
export const permissionHref = (orgId: number, id: string): string => `/orgs/${orgId}/permissions/${id}`;
export const principalHref = (orgId: number, id: string): string => `/orgs/${orgId}/auth_security_principals/${id}`;
export const labelHrefPattern = (orgId: number): RegExp => new RegExp(`^/orgs/${orgId}/labels/([0-9]{1,15})$`);

// --- JSON (Illumio's shapes) ---

const iso = (ms: number): string => new Date(ms).toISOString();

export function userToJson(user: User) {
  return { href: userHref(user.id), username: user.username, full_name: user.fullName, type: 'local', created_at: iso(user.createdAt), effective_groups: [] as string[] };
}

export function apiKeyToJson(key: ApiKeyMeta) {
  return {
    href: apiKeyHref(key.userId, key.keyId),
    key_id: key.keyId,
    auth_username: key.authUsername,
    name: key.name ?? null,
    description: key.description ?? null,
    created_at: iso(key.createdAt),
    expires_at: key.expiresAt != null ? iso(key.expiresAt) : null,
    // an extension: the key's own role (pce-ctl api-key create --role), when it has one
    ...(key.role ? { role: { href: roleHref(key.orgId, key.role) }, scope: (key.scope ?? []).map((href) => ({ label: { href } })) } : {}),
  };
}

export function roleToJson(orgId: number, role: Role, grants: readonly string[]) {
  return { href: roleHref(orgId, role), name: role, permissions: [...grants] };
}

export function permissionToJson(p: AccessPermission) {
  return {
    href: permissionHref(p.orgId, p.id),
    role: { href: roleHref(p.orgId, p.role) },
    scope: p.scope.map((href) => ({ label: { href } })),
    auth_security_principal: { href: principalHref(p.orgId, p.principalId) },
  };
}

export function principalToJson(p: Principal) {
  return { href: principalHref(p.orgId, p.id), name: p.name, display_name: p.displayName, type: p.type };
}

// --- input ---

const hrefRef = z.strictObject({ href: z.string().min(1).max(255) });

export const createUserSchema = z.strictObject({
  username: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\s:]+$/, 'must not contain spaces or colons'),
  full_name: z.string().max(255).optional(),
  type: z.literal('local').optional(),
});

/** Illumio's `expires_in_seconds`: "default" or -1 (never; this PCE has no org-wide default), else 1..2^31-1 seconds. */
export const expiresInSecondsSchema = z.union([z.literal('default'), z.literal(-1), z.number().int().min(1).max(2_147_483_647)]);

export const createApiKeySchema = z.strictObject({
  name: z.string().min(1).max(255),
  description: z.string().max(1024).optional(),
  expires_in_seconds: expiresInSecondsSchema.optional(),
});

export const permissionSchema = z.strictObject({
  role: hrefRef,
  scope: z.array(z.strictObject({ label: hrefRef })).max(16).optional(),
  auth_security_principal: hrefRef,
});

export const createPrincipalSchema = z.strictObject({
  name: z.string().min(1).max(255),
  display_name: z.string().max(255).optional(),
  type: z.enum(PRINCIPAL_TYPES),
});

export const updatePrincipalSchema = z.strictObject({
  name: z.string().min(1).max(255).optional(),
  display_name: z.string().max(255).optional(),
});

/** The role a `/orgs/{org}/roles/<name>` href (or a bare name) names; null when it is none of Illumio's. */
export function roleOf(orgId: number, hrefOrName: string): Role | null {
  const match = new RegExp(`^(?:/orgs/${orgId}/roles/)?([a-z_]+)$`).exec(hrefOrName);
  const name = match?.[1];
  return name && (ROLES as readonly string[]).includes(name) ? (name as Role) : null;
}

/** The ms the key expires at, from `expires_in_seconds` (null: never). */
export function expiresAtOf(expiresInSeconds: z.infer<typeof expiresInSecondsSchema> | undefined, now: number): number | null {
  if (expiresInSeconds === undefined || expiresInSeconds === 'default' || expiresInSeconds === -1) return null;
  return now + expiresInSeconds * 1000;
}
