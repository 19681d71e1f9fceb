/** In-memory IdentityStore and ApiKeyStore that share their keys (as the key item and its index entry do), fenced like the DynamoDB adapters. */
import type { ApiKeyRecord, ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { DuplicatePrincipalError, DuplicateUsernameError, type AccessPermission, type ApiKeyMeta, type IdentityStore, type Principal, type User } from '../../shared/auth/identity.ts';
import type { WriteFence } from '../../shared/supercluster/leader.ts';
import type { FakeLeaderStore } from './fakes.ts';

export class FakeIdentityStore implements IdentityStore, ApiKeyStore {
  readonly users = new Map<number, User>();
  readonly keys = new Map<string, ApiKeyRecord>();
  readonly principals = new Map<string, Principal>();
  readonly permissions = new Map<string, AccessPermission>();
  private nextUser = 1;
  constructor(private readonly leader?: FakeLeaderStore) {}

  private check(fence?: WriteFence) {
    if (fence) this.leader?.checkFence(fence);
  }
  async get(authUsername: string) {
    return this.keys.get(authUsername) ?? null;
  }
  async put(record: ApiKeyRecord, fence?: WriteFence) {
    this.check(fence);
    if (this.keys.has(record.authUsername)) return false;
    this.keys.set(record.authUsername, record);
    return true;
  }
  async putBootstrap(record: ApiKeyRecord) {
    return this.put(record);
  }
  async listUsers() {
    return [...this.users.values()];
  }
  async getUser(id: number) {
    return this.users.get(id) ?? null;
  }
  async createUser(input: { orgId: number; username: string; fullName: string; now: number }, fence: WriteFence) {
    this.check(fence);
    if ([...this.users.values()].some((u) => u.username.toLowerCase() === input.username.toLowerCase())) throw new DuplicateUsernameError('taken');
    const user: User = { id: ++this.nextUser, orgId: input.orgId, username: input.username, fullName: input.fullName, createdAt: input.now };
    this.users.set(user.id, user);
    return user;
  }
  async putUserIfAbsent(user: User, fence: WriteFence) {
    this.check(fence);
    if (!this.users.has(user.id)) this.users.set(user.id, user);
  }
  async deleteUser(user: User, fence: WriteFence) {
    this.check(fence);
    for (const [u, k] of this.keys) if (k.userId === user.id) this.keys.delete(u);
    this.users.delete(user.id);
  }
  async listUserKeys(userId: number): Promise<ApiKeyMeta[]> {
    return [...this.keys.values()].filter((k) => k.userId === userId).map(({ secretHash: _s, ...meta }) => meta);
  }
  async deleteKey(userId: number, keyId: string, fence: WriteFence) {
    this.check(fence);
    const key = [...this.keys.values()].find((k) => k.userId === userId && k.keyId === keyId);
    if (!key) return false;
    this.keys.delete(key.authUsername);
    return true;
  }
  async listPrincipals(orgId: number) {
    return [...this.principals.values()].filter((p) => p.orgId === orgId);
  }
  async createPrincipal(p: Principal, fence: WriteFence) {
    this.check(fence);
    if ([...this.principals.values()].some((q) => q.orgId === p.orgId && q.type === p.type && q.name.toLowerCase() === p.name.toLowerCase())) throw new DuplicatePrincipalError('taken');
    this.principals.set(p.id, p);
  }
  async updatePrincipal(current: Principal, next: Principal, fence: WriteFence) {
    this.check(fence);
    if ([...this.principals.values()].some((q) => q.id !== current.id && q.orgId === next.orgId && q.type === next.type && q.name.toLowerCase() === next.name.toLowerCase())) throw new DuplicatePrincipalError('taken');
    this.principals.set(next.id, next);
  }
  async deletePrincipal(p: Principal, fence: WriteFence) {
    this.check(fence);
    this.principals.delete(p.id);
  }
  async listPermissions(orgId: number) {
    return [...this.permissions.values()].filter((p) => p.orgId === orgId);
  }
  async putPermission(p: AccessPermission, fence: WriteFence) {
    this.check(fence);
    this.permissions.set(p.id, p);
  }
  async deletePermission(p: AccessPermission, fence: WriteFence) {
    this.check(fence);
    this.permissions.delete(p.id);
  }
}
