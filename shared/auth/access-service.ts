/**
 * Access use cases (Illumio's RBAC), independent of HTTP and DynamoDB: users, API keys per user, roles,
 * permissions and auth security principals, and the effective grants of an API key. The REST API (leader
 * writes, fenced by the leader record) and pce-ctl (the operator's credentials, in the leader's region)
 * both go through this service, so both validate the same way.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError, notFound, type ErrorEntry } from '../api/errors.ts';
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../api/leader-fence.ts';
import { parseInput } from '../api/validation.ts';
import type { LabelStore } from '../labels/label.ts';
import { FenceFailedError, type LeaderView, type WriteFence } from '../supercluster/leader.ts';
import { generateApiKey, type ApiKeyRecord, type ApiKeyStore, type NewApiKey } from './api-keys.ts';
import {
  createApiKeySchema,
  createPrincipalSchema,
  createUserSchema,
  DuplicatePrincipalError,
  DuplicateUsernameError,
  expiresAtOf,
  labelHrefPattern,
  permissionSchema,
  roleOf,
  updatePrincipalSchema,
  type AccessPermission,
  type ApiKeyMeta,
  type IdentityStore,
  type Principal,
  type User,
} from './identity.ts';
import { ROLES, SCOPABLE_ROLES, type Grant, type Role } from './permissions.ts';

/** The authenticated caller of a use case: its key (role, scope, user, org). */
export type Caller = Pick<ApiKeyRecord, 'userId' | 'orgId' | 'role' | 'scope'>;

/** How writes are fenced: the leader view (API) or the leader record read in the leader's region (pce-ctl). */
export interface LeaderFencing {
  fence(): Promise<WriteFence>;
  /** the error to answer when a fenced write found the leader changed */
  failed(cause: unknown): Promise<Error>;
}

export function apiFencing(leader: LeaderView): LeaderFencing {
  return { fence: () => requireLeaderFence(leader), failed: (cause) => notLeaderAfterFenceFailure(leader, cause) };
}

/** Seconds a PCE process may use resolved grants of a key without a role (a user's permissions) before reading them again. */
export const GRANT_CACHE_SECONDS = 5;

export interface AccessServiceDeps {
  readonly identity: IdentityStore;
  readonly apiKeys: ApiKeyStore;
  readonly labels: Pick<LabelStore, 'get'>;
  readonly fencing: LeaderFencing;
  readonly now?: () => number;
  readonly newId?: () => string;
}

/** Grants of a user from the org's permissions: those of the `user` principal named as its username (groups: no membership is modelled yet). */
export function grantsOfUser(user: Pick<User, 'username'>, principals: readonly Principal[], permissions: readonly AccessPermission[]): Grant[] {
  const ids = new Set(principals.filter((p) => p.type === 'user' && p.name === user.username).map((p) => p.id));
  return permissions.filter((p) => ids.has(p.principalId)).map((p) => ({ role: p.role, scope: [...p.scope] }));
}

/** The grants of an API key: its own role and scope (pce-ctl api-key create --role), else its user's permissions. */
export function grantsOfKey(key: Caller, userGrants: () => Promise<Grant[]>): Promise<Grant[]> {
  return key.role ? Promise.resolve([{ role: key.role, scope: [...(key.scope ?? [])] }]) : userGrants();
}

/**
 * The bootstrap user (re-runnable): the user, its `user` principal and an owner permission for it, each
 * created only when missing.
 */
export async function ensureOwnerUser(identity: IdentityStore, fence: WriteFence, user: User, newId: () => string = randomUUID): Promise<void> {
  await identity.putUserIfAbsent(user, fence);
  let principal = (await identity.listPrincipals(user.orgId)).find((p) => p.type === 'user' && p.name === user.username);
  if (!principal) {
    principal = { id: newId(), orgId: user.orgId, name: user.username, displayName: user.fullName || user.username, type: 'user' };
    await identity.createPrincipal(principal, fence, user.createdAt);
  }
  const principalId = principal.id;
  const permissions = await identity.listPermissions(user.orgId);
  if (!permissions.some((p) => p.principalId === principalId && p.role === 'owner' && p.scope.length === 0)) await identity.putPermission({ id: newId(), orgId: user.orgId, role: 'owner', scope: [], principalId }, fence, user.createdAt);
}

const invalid = (token: string, message: string): ValidationError => new ValidationError([{ token, message }]);

export class AccessService {
  private readonly now: () => number;
  private readonly newId: () => string;
  /** per process: userId -> grants and when they were read (GRANT_CACHE_SECONDS) */
  private readonly grantCache = new Map<string, { at: number; grants: Promise<Grant[]> }>();

  constructor(private readonly deps: AccessServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomUUID;
  }

  // --- effective grants ---

  /** The grants a request with this key is decided with (a key without a role: its user's permissions, cached a few seconds). */
  grantsOf(key: Caller): Promise<Grant[]> {
    return grantsOfKey(key, () => this.userGrants(key.orgId, key.userId));
  }

  private userGrants(orgId: number, userId: number): Promise<Grant[]> {
    const cacheKey = `${orgId}:${userId}`;
    const now = this.now();
    const hit = this.grantCache.get(cacheKey);
    if (hit && now - hit.at < GRANT_CACHE_SECONDS * 1000) return hit.grants;
    const grants = (async () => {
      const [user, principals, permissions] = await Promise.all([this.deps.identity.getUser(userId), this.deps.identity.listPrincipals(orgId), this.deps.identity.listPermissions(orgId)]);
      return user && user.orgId === orgId ? grantsOfUser(user, principals, permissions) : [];
    })();
    this.grantCache.set(cacheKey, { at: now, grants });
    grants.catch(() => this.grantCache.delete(cacheKey));
    return grants;
  }

  // --- users ---

  async listUsers(orgId: number): Promise<User[]> {
    return (await this.deps.identity.listUsers()).filter((u) => u.orgId === orgId).sort((a, b) => a.id - b.id);
  }

  async getUser(orgId: number, id: number): Promise<User> {
    const user = await this.deps.identity.getUser(id);
    if (!user || user.orgId !== orgId) throw notFound(`user ${id}`);
    return user;
  }

  async createUser(orgId: number, body: unknown): Promise<User> {
    const input = parseInput(createUserSchema, body);
    try {
      return await this.fenced((fence) => this.deps.identity.createUser({ orgId, username: input.username, fullName: input.full_name ?? '', now: this.now() }, fence));
    } catch (err) {
      if (err instanceof DuplicateUsernameError) throw invalid('username_taken', `a user named ${input.username} exists`);
      throw err;
    }
  }

  async deleteUser(caller: Caller, id: number): Promise<void> {
    const user = await this.getUser(caller.orgId, id);
    if (user.id === caller.userId) throw invalid('cannot_delete_self', 'a user cannot delete itself: use another user_admin');
    await this.fenced((fence) => this.deps.identity.deleteUser(user, fence));
    this.grantCache.clear();
  }

  // --- API keys ---

  async listKeys(orgId: number, userId: number): Promise<ApiKeyMeta[]> {
    await this.getUser(orgId, userId);
    return (await this.deps.identity.listUserKeys(userId)).sort((a, b) => a.createdAt - b.createdAt);
  }

  async getKey(orgId: number, userId: number, keyId: string): Promise<ApiKeyMeta> {
    const key = (await this.listKeys(orgId, userId)).find((k) => k.keyId === keyId);
    if (!key) throw notFound(`API key ${keyId} of user ${userId}`);
    return key;
  }

  /**
   * POST /users/{id}/api_keys: a key of that user. A key never grants more than the key that made it: made
   * for the caller's own user by a key with its own role, it carries that role and scope; otherwise it has
   * no role and acts with its user's permissions.
   */
  async createKey(caller: Caller, userId: number, body: unknown): Promise<NewApiKey> {
    const input = parseInput(createApiKeySchema, body);
    await this.getUser(caller.orgId, userId);
    const now = this.now();
    const inherit = userId === caller.userId && caller.role ? { role: caller.role, scope: caller.scope ?? [] } : {};
    return this.storeKey(generateApiKey({ userId, orgId: caller.orgId, now, name: input.name, ...(input.description !== undefined ? { description: input.description } : {}), expiresAt: expiresAtOf(input.expires_in_seconds, now), ...inherit }));
  }

  /** pce-ctl api-key create: a key with its own role and scope (validated: an Illumio role, existing labels of the org, a scopable role). */
  async createRoleKey(input: { orgId: number; userId: number; role: string; scope: readonly string[]; name?: string; expiresInSeconds?: number }): Promise<NewApiKey> {
    const now = this.now();
    const errors: ErrorEntry[] = [];
    const role = this.checkRole(input.orgId, input.role, input.scope, errors);
    const scope = await this.checkScope(input.orgId, input.scope, errors);
    if (input.expiresInSeconds !== undefined && !(Number.isInteger(input.expiresInSeconds) && input.expiresInSeconds >= 1 && input.expiresInSeconds <= 2_147_483_647))
      errors.push({ token: 'input_validation_error', message: `expires_in_seconds must be an integer from 1 to 2147483647, got ${input.expiresInSeconds}` });
    if (errors.length > 0 || !role) throw new ValidationError(errors);
    await this.getUser(input.orgId, input.userId);
    return this.storeKey(generateApiKey({ userId: input.userId, orgId: input.orgId, now, role, scope, name: input.name ?? `${role} key`, expiresAt: input.expiresInSeconds ? now + input.expiresInSeconds * 1000 : null }));
  }

  /** 406 unless `role` is an Illumio role, `scope` existing labels of the org, and the role scopable when scoped. */
  async validateGrant(orgId: number, role: string, scope: readonly string[]): Promise<void> {
    const errors: ErrorEntry[] = [];
    this.checkRole(orgId, role, scope, errors);
    await this.checkScope(orgId, scope, errors);
    if (errors.length > 0) throw new ValidationError(errors);
  }

  private async storeKey(key: NewApiKey): Promise<NewApiKey> {
    const stored = await this.fenced((fence) => this.deps.apiKeys.put(key.record, fence));
    if (!stored) throw new Error('API key id collision'); // 64 random bits: never in practice
    return key;
  }

  /** Revokes a key: the key item goes (every PCE answers 401 once the deletion replicated) with its index entry. */
  async deleteKey(orgId: number, userId: number, keyId: string): Promise<void> {
    await this.getUser(orgId, userId);
    const deleted = await this.fenced((fence) => this.deps.identity.deleteKey(userId, keyId, fence));
    if (!deleted) throw notFound(`API key ${keyId} of user ${userId}`);
  }

  // --- roles ---

  listRoles(): Role[] {
    return [...ROLES];
  }

  getRole(orgId: number, name: string): Role {
    const role = roleOf(orgId, name);
    if (!role) throw notFound(`role ${name}`);
    return role;
  }

  // --- principals ---

  async listPrincipals(orgId: number): Promise<Principal[]> {
    return (await this.deps.identity.listPrincipals(orgId)).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  async getPrincipal(orgId: number, id: string): Promise<Principal> {
    const principal = (await this.deps.identity.listPrincipals(orgId)).find((p) => p.id === id);
    if (!principal) throw notFound(`auth security principal ${id}`);
    return principal;
  }

  async createPrincipal(orgId: number, body: unknown): Promise<Principal> {
    const input = parseInput(createPrincipalSchema, body);
    const principal: Principal = { id: this.newId(), orgId, name: input.name, displayName: input.display_name ?? input.name, type: input.type };
    await this.writePrincipal(() => this.fenced((fence) => this.deps.identity.createPrincipal(principal, fence, this.now())), principal);
    return principal;
  }

  async updatePrincipal(orgId: number, id: string, body: unknown): Promise<void> {
    const input = parseInput(updatePrincipalSchema, body);
    const current = await this.getPrincipal(orgId, id);
    const next: Principal = { ...current, ...(input.name !== undefined ? { name: input.name } : {}), ...(input.display_name !== undefined ? { displayName: input.display_name } : {}) };
    await this.writePrincipal(() => this.fenced((fence) => this.deps.identity.updatePrincipal(current, next, fence, this.now())), next);
  }

  async deletePrincipal(orgId: number, id: string): Promise<void> {
    const principal = await this.getPrincipal(orgId, id);
    const uses = (await this.deps.identity.listPermissions(orgId)).filter((p) => p.principalId === id);
    if (uses.length > 0) throw invalid('auth_security_principal_in_use', `auth security principal ${id} is granted ${uses.length} permission(s): delete them first`);
    await this.fenced((fence) => this.deps.identity.deletePrincipal(principal, fence));
  }

  private async writePrincipal(write: () => Promise<void>, principal: Principal): Promise<void> {
    try {
      await write();
      this.grantCache.clear();
    } catch (err) {
      if (err instanceof DuplicatePrincipalError) throw invalid('auth_security_principal_name_taken', `an auth security principal of type ${principal.type} named ${principal.name} exists`);
      throw err;
    }
  }

  /** The principal of type `user` for this username, created when missing (pce-ctl users create --role, the bootstrap). */
  async ensureUserPrincipal(orgId: number, username: string): Promise<Principal> {
    const existing = (await this.deps.identity.listPrincipals(orgId)).find((p) => p.type === 'user' && p.name === username);
    if (existing) return existing;
    const principal: Principal = { id: this.newId(), orgId, name: username, displayName: username, type: 'user' };
    await this.fenced((fence) => this.deps.identity.createPrincipal(principal, fence, this.now()));
    return principal;
  }

  // --- permissions ---

  async listPermissions(orgId: number): Promise<AccessPermission[]> {
    return (await this.deps.identity.listPermissions(orgId)).sort((a, b) => a.id.localeCompare(b.id));
  }

  async getPermission(orgId: number, id: string): Promise<AccessPermission> {
    const permission = (await this.deps.identity.listPermissions(orgId)).find((p) => p.id === id);
    if (!permission) throw notFound(`permission ${id}`);
    return permission;
  }

  async createPermission(orgId: number, body: unknown): Promise<AccessPermission> {
    const permission = await this.permissionFrom(orgId, this.newId(), body);
    await this.fenced((fence) => this.deps.identity.putPermission(permission, fence, this.now()));
    this.grantCache.clear();
    return permission;
  }

  async updatePermission(orgId: number, id: string, body: unknown): Promise<void> {
    await this.getPermission(orgId, id);
    const permission = await this.permissionFrom(orgId, id, body);
    await this.fenced((fence) => this.deps.identity.putPermission(permission, fence, this.now()));
    this.grantCache.clear();
  }

  async deletePermission(orgId: number, id: string): Promise<void> {
    const permission = await this.getPermission(orgId, id);
    await this.fenced((fence) => this.deps.identity.deletePermission(permission, fence));
    this.grantCache.clear();
  }

  /** pce-ctl users create --role: grants the role (over the scope) to the user's principal. */
  async grantRole(orgId: number, username: string, role: string, scope: readonly string[]): Promise<AccessPermission> {
    const principal = await this.ensureUserPrincipal(orgId, username);
    return this.createPermission(orgId, { role: { href: `/orgs/${orgId}/roles/${role}` }, scope: scope.map((href) => ({ label: { href } })), auth_security_principal: { href: `/orgs/${orgId}/auth_security_principals/${principal.id}` } });
  }

  private async permissionFrom(orgId: number, id: string, body: unknown): Promise<AccessPermission> {
    const input = parseInput(permissionSchema, body);
    const errors: ErrorEntry[] = [];
    const scopeHrefs = (input.scope ?? []).map((s) => s.label.href);
    const role = this.checkRole(orgId, input.role.href, scopeHrefs, errors);
    const scope = await this.checkScope(orgId, scopeHrefs, errors);
    const principalId = new RegExp(`^/orgs/${orgId}/auth_security_principals/([^/]+)$`).exec(input.auth_security_principal.href)?.[1];
    const principal = principalId ? (await this.deps.identity.listPrincipals(orgId)).find((p) => p.id === principalId) : undefined;
    if (!principal) errors.push({ token: 'invalid_auth_security_principal', message: `auth_security_principal.href: no auth security principal ${input.auth_security_principal.href} in org ${orgId}` });
    if (errors.length > 0 || !role || !principal) throw new ValidationError(errors);
    return { id, orgId, role, scope, principalId: principal.id };
  }

  private checkRole(orgId: number, hrefOrName: string, scope: readonly string[], errors: ErrorEntry[]): Role | null {
    const role = roleOf(orgId, hrefOrName);
    if (!role) errors.push({ token: 'invalid_role', message: `role ${hrefOrName} is not one of ${ROLES.join(', ')}` });
    else if (scope.length > 0 && !SCOPABLE_ROLES.has(role)) errors.push({ token: 'invalid_scope', message: `role ${role} cannot be scoped (scopable roles: ${[...SCOPABLE_ROLES].join(', ')})` });
    return role;
  }

  /** Label hrefs of the org that exist; an error entry per one that does not. */
  private async checkScope(orgId: number, hrefs: readonly string[], errors: ErrorEntry[]): Promise<string[]> {
    const pattern = labelHrefPattern(orgId);
    const found = await Promise.all(
      hrefs.map(async (href) => {
        const id = pattern.exec(href)?.[1];
        return id !== undefined && (await this.deps.labels.get(orgId, Number(id))) !== null;
      }),
    );
    hrefs.forEach((href, i) => {
      if (!found[i]) errors.push({ token: 'invalid_scope', message: `scope: ${href} is not a label of org ${orgId} (a scope lists labels as /orgs/${orgId}/labels/<id>)` });
    });
    if (new Set(hrefs).size !== hrefs.length) errors.push({ token: 'invalid_scope', message: 'scope: a label is listed twice' });
    return [...hrefs];
  }

  private async fenced<T>(write: (fence: WriteFence) => Promise<T>): Promise<T> {
    const fence = await this.deps.fencing.fence();
    try {
      return await write(fence);
    } catch (err) {
      if (err instanceof FenceFailedError) throw await this.deps.fencing.failed(err);
      throw err;
    }
  }
}
