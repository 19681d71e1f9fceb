/**
 * Illumio's RBAC as the API serves it, with fakes: users and their keys, roles, permissions, principals;
 * a key's grants (its own role, else its user's permissions); expiry; validation (406 per bad field,
 * 404 unknown ids); who may manage whose keys; members read-only.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../lambdas/api/app.ts';
import { AccessService, apiFencing, ensureOwnerUser, grantsOfUser, GRANT_CACHE_SECONDS } from '../../shared/auth/access-service.ts';
import { generateApiKey, isExpired, verifyApiKey } from '../../shared/auth/api-keys.ts';
import { LeaderView } from '../../shared/supercluster/leader.ts';
import { baseApiDeps } from '../helpers/api-deps.ts';
import { testConfig } from '../helpers/config.ts';
import { httpEvent, lambdaContext } from '../helpers/events.ts';
import { FakeLabelStore, FakeLeaderStore } from '../helpers/fakes.ts';
import { FakeIdentityStore } from '../helpers/identity-fakes.ts';

const config = testConfig();
const [us] = config.pces;
type Auth = { username: string; secret: string };
type Res = { statusCode: number; json: unknown };

describe('grant resolution and expiry', () => {
  it('a user gets the permissions of its user principal, not of others nor of groups', () => {
    const principals = [
      { id: 'p1', orgId: 1, name: 'alice', displayName: 'Alice', type: 'user' as const },
      { id: 'p2', orgId: 1, name: 'alice', displayName: 'a group', type: 'group' as const },
      { id: 'p3', orgId: 1, name: 'bob', displayName: 'Bob', type: 'user' as const },
    ];
    const permissions = [
      { id: 'a', orgId: 1, role: 'ruleset_manager' as const, scope: ['/orgs/1/labels/1'], principalId: 'p1' },
      { id: 'b', orgId: 1, role: 'owner' as const, scope: [], principalId: 'p2' },
      { id: 'c', orgId: 1, role: 'admin' as const, scope: [], principalId: 'p3' },
    ];
    expect(grantsOfUser({ username: 'alice' }, principals, permissions)).toEqual([{ role: 'ruleset_manager', scope: ['/orgs/1/labels/1'] }]);
    expect(grantsOfUser({ username: 'carol' }, principals, permissions)).toEqual([]);
  });

  it('an expired key authenticates nobody; a key without expiry never expires', async () => {
    const store = new FakeIdentityStore();
    const key = generateApiKey({ userId: 1, orgId: 1, now: 1_000, expiresAt: 5_000 });
    await store.put(key.record);
    const credentials = { username: key.record.authUsername, secret: key.secret };
    expect(await verifyApiKey(store, credentials, 4_999)).toMatchObject({ ok: true });
    expect(await verifyApiKey(store, credentials, 5_000)).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyApiKey(store, { ...credentials, secret: 'x' }, 0)).toEqual({ ok: false, reason: 'unknown' });
    expect(isExpired(generateApiKey({ userId: 1, orgId: 1, now: 0 }).record, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('access API (fakes)', () => {
  let leaderStore: FakeLeaderStore;
  let identity: FakeIdentityStore;
  let labels: FakeLabelStore;
  let clock: { now: number };
  let onLeader: (method: string, path: string, auth: Auth | null, body?: unknown) => Promise<Res>;
  let onMember: typeof onLeader;
  let owner: Auth;

  function pceApi(region: string) {
    const handler = createApiHandler(baseApiDeps({ config, region, leaderStore, identity, labels, now: () => clock.now }));
    return async (method: string, path: string, auth: Auth | null, body?: unknown): Promise<Res> => {
      const res = (await handler(httpEvent(method, path, { auth, ...(body !== undefined ? { body } : {}) }), lambdaContext())) as { statusCode: number; body?: string };
      return { statusCode: res.statusCode, json: res.body ? JSON.parse(res.body) : null };
    };
  }

  beforeEach(async () => {
    clock = { now: Date.now() };
    leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: us?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    identity = new FakeIdentityStore(leaderStore);
    labels = new FakeLabelStore(leaderStore);
    await ensureOwnerUser(identity, { region: 'us-east-1', epoch: 1 }, { id: 1, orgId: 1, username: 'admin', fullName: 'Admin', createdAt: 0 });
    // the bootstrap key has no role of its own: it acts with user 1's owner permission
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await identity.put(key.record);
    owner = { username: key.record.authUsername, secret: key.secret };
    onLeader = pceApi('us-east-1');
    onMember = pceApi('eu-west-1');
  });

  async function userWithRole(username: string, role: string, scope: string[] = []): Promise<{ id: number; auth: Auth }> {
    const user = (await onLeader('POST', '/api/v2/users', owner, { username })).json as { href: string };
    const principal = (await onLeader('POST', '/api/v2/orgs/1/auth_security_principals', owner, { name: username, type: 'user' })).json as { href: string };
    const perm = await onLeader('POST', '/api/v2/orgs/1/permissions', owner, { role: { href: `/orgs/1/roles/${role}` }, scope: scope.map((href) => ({ label: { href } })), auth_security_principal: { href: principal.href } });
    expect(perm.statusCode).toBe(201);
    const id = Number(user.href.split('/').pop());
    const key = (await onLeader('POST', `/api/v2/users/${id}/api_keys`, owner, { name: `${username} key` })).json as { auth_username: string; secret: string };
    return { id, auth: { username: key.auth_username, secret: key.secret } };
  }

  it("creates users and keys in Illumio's shapes; the secret is shown once", async () => {
    const created = await onLeader('POST', '/api/v2/users', owner, { username: 'alice@example.com', full_name: 'Alice' });
    expect(created).toMatchObject({ statusCode: 201, json: { href: '/users/2', username: 'alice@example.com', full_name: 'Alice', type: 'local' } });
    const key = await onLeader('POST', '/api/v2/users/2/api_keys', owner, { name: 'ci', description: 'pipeline', expires_in_seconds: 3600 });
    expect(key).toMatchObject({ statusCode: 201, json: { href: expect.stringMatching(/^\/users\/2\/api_keys\/[0-9a-f]{16}$/), key_id: expect.any(String), auth_username: expect.stringMatching(/^api_[0-9a-f]{16}$/), secret: expect.stringMatching(/^[0-9a-f]{64}$/), name: 'ci', expires_at: new Date(clock.now + 3_600_000).toISOString() } });
    const k = key.json as { href: string; secret: string };
    const listed = await onLeader('GET', '/api/v2/users/2/api_keys', owner);
    expect(listed.json).toEqual([expect.objectContaining({ href: k.href, name: 'ci', description: 'pipeline' })]);
    expect(JSON.stringify(listed.json)).not.toContain(k.secret);
    expect((await onLeader('GET', `/api/v2${k.href}`, owner)).json).toMatchObject({ href: k.href });
    expect((await onLeader('GET', '/api/v2/users', owner)).json).toEqual([expect.objectContaining({ href: '/users/1', username: 'admin' }), expect.objectContaining({ href: '/users/2' })]);
    expect((await onLeader('GET', '/api/v2/orgs/1/roles', owner)).json).toHaveLength(7);
    expect((await onLeader('GET', '/api/v2/orgs/1/roles/ruleset_manager', owner)).json).toMatchObject({ href: '/orgs/1/roles/ruleset_manager', permissions: ['read', 'ruleset_write'] });
  });

  it('validates each field with a 406 and answers unknown ids with 404, writing nothing', async () => {
    const before = JSON.stringify([...identity.users.values(), ...identity.permissions.values(), ...identity.principals.values()]);
    expect((await onLeader('POST', '/api/v2/users', owner, { username: 'has space', extra: 1 })).json).toEqual([expect.objectContaining({ token: 'input_validation_error' }), expect.objectContaining({ token: 'unexpected_property' })]);
    expect((await onLeader('POST', '/api/v2/users', owner, { username: 'ADMIN' })).json).toEqual([expect.objectContaining({ token: 'username_taken' })]);
    for (const body of [{}, { name: 'k', expires_in_seconds: 0 }, { name: 'k', expires_in_seconds: 'never' }, { name: 'k', role: 'owner' }]) expect((await onLeader('POST', '/api/v2/users/1/api_keys', owner, body)).statusCode, JSON.stringify(body)).toBe(406);
    const bad = await onLeader('POST', '/api/v2/orgs/1/permissions', owner, { role: { href: '/orgs/1/roles/god' }, scope: [{ label: { href: '/orgs/1/labels/404' } }], auth_security_principal: { href: '/orgs/1/auth_security_principals/nope' } });
    expect(bad).toMatchObject({ statusCode: 406, json: [{ token: 'invalid_role' }, { token: 'invalid_scope' }, { token: 'invalid_auth_security_principal' }] });
    const principal = (await onLeader('POST', '/api/v2/orgs/1/auth_security_principals', owner, { name: 'x', type: 'user' })).json as { href: string };
    const label = (await onLeader('POST', '/api/v2/orgs/1/labels', owner, { key: 'app', value: 'pay' })).json as { href: string };
    expect((await onLeader('POST', '/api/v2/orgs/1/permissions', owner, { role: { href: '/orgs/1/roles/admin' }, scope: [{ label: { href: label.href } }], auth_security_principal: { href: principal.href } })).json).toEqual([expect.objectContaining({ token: 'invalid_scope' })]);
    expect((await onLeader('POST', '/api/v2/orgs/1/auth_security_principals', owner, { name: 'X', type: 'user' })).json).toEqual([expect.objectContaining({ token: 'auth_security_principal_name_taken' })]);
    expect((await onLeader('POST', '/api/v2/orgs/1/auth_security_principals', owner, { name: 'y', type: 'robot' })).statusCode).toBe(406);
    for (const path of ['/api/v2/users/99', '/api/v2/users/99/api_keys', '/api/v2/users/1/api_keys/0123456789abcdef', '/api/v2/orgs/1/permissions/nope', '/api/v2/orgs/1/auth_security_principals/nope', '/api/v2/orgs/1/roles/god']) expect((await onLeader('GET', path, owner)).statusCode, path).toBe(404);
    expect((await onLeader('DELETE', '/api/v2/users/1/api_keys/0123456789abcdef', owner)).statusCode).toBe(404);
    expect((await onLeader('DELETE', '/api/v2/users/1', owner)).json).toEqual([expect.objectContaining({ token: 'cannot_delete_self' })]);
    expect(JSON.stringify([...identity.users.values(), ...identity.permissions.values(), ...[...identity.principals.values()].filter((p) => p.name !== 'x')])).toBe(before);
  });

  it('a read-only user reads everywhere and gets 403 for every write; it manages only its own keys', async () => {
    const ro = await userWithRole('viewer', 'read_only');
    expect((await onLeader('GET', '/api/v2/orgs/1/labels', ro.auth)).statusCode).toBe(200);
    expect((await onMember('GET', '/api/v2/users', ro.auth)).statusCode).toBe(200);
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', ro.auth, { key: 'app', value: 'x' })).json).toEqual([{ token: 'forbidden', message: expect.stringContaining('global_object_write') }]);
    expect((await onLeader('POST', '/api/v2/users', ro.auth, { username: 'mallory' })).statusCode).toBe(403);
    expect((await onLeader('GET', '/api/v2/users/1/api_keys', ro.auth)).statusCode).toBe(403);
    expect((await onLeader('POST', '/api/v2/users/1/api_keys', ro.auth, { name: 'steal' })).statusCode).toBe(403);
    const own = await onLeader('POST', `/api/v2/users/${ro.id}/api_keys`, ro.auth, { name: 'second' });
    expect(own.statusCode).toBe(201);
    const second = own.json as { auth_username: string; secret: string; href: string };
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', { username: second.auth_username, secret: second.secret }, { key: 'app', value: 'x' })).statusCode).toBe(403);
    // a member is read-only for everyone, the owner included, and for its own keys
    expect((await onMember('POST', `/api/v2/users/${ro.id}/api_keys`, ro.auth, { name: 'third' })).json).toEqual([expect.objectContaining({ token: 'supercluster_member_read_only' })]);
    expect((await onMember('POST', '/api/v2/orgs/1/permissions', owner, {})).statusCode).toBe(403);
    expect((await onLeader('DELETE', `/api/v2${second.href}`, ro.auth)).statusCode).toBe(204);
    expect((await onLeader('GET', '/api/v2/orgs/1/labels', { username: second.auth_username, secret: second.secret })).statusCode).toBe(401);
  });

  it('a key with its own role acts with it, and the keys it makes for itself inherit it', async () => {
    const roleKey = await new AccessService({ identity, apiKeys: identity, labels, fencing: apiFencing(new LeaderView(leaderStore, 'us-east-1', 0)) }).createRoleKey({ orgId: 1, userId: 1, role: 'read_only', scope: [] });
    const auth = { username: roleKey.record.authUsername, secret: roleKey.secret };
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', auth, { key: 'app', value: 'x' })).statusCode).toBe(403);
    const made = (await onLeader('POST', '/api/v2/users/1/api_keys', auth, { name: 'child' })).json as { auth_username: string; secret: string; role: { href: string } };
    expect(made.role).toEqual({ href: '/orgs/1/roles/read_only' });
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', { username: made.auth_username, secret: made.secret }, { key: 'app', value: 'x' })).statusCode).toBe(403);
    await expect(new AccessService({ identity, apiKeys: identity, labels, fencing: apiFencing(new LeaderView(leaderStore, 'us-east-1', 0)) }).createRoleKey({ orgId: 1, userId: 1, role: 'admin', scope: ['/orgs/1/labels/1'] })).rejects.toMatchObject({ statusCode: 406 });
  });

  it('a scoped ruleset manager writes rule sets inside its scope only', async () => {
    const app = (await onLeader('POST', '/api/v2/orgs/1/labels', owner, { key: 'app', value: 'payments' })).json as { href: string };
    const env = (await onLeader('POST', '/api/v2/orgs/1/labels', owner, { key: 'env', value: 'prod' })).json as { href: string };
    const rm = await userWithRole('payments-team', 'ruleset_manager', [app.href, env.href]);
    // authorization decides from the body before the route: this fake API has no policy routes, so a rule set inside the scope gets the router's 404
    expect((await onLeader('POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', rm.auth, { name: 'x', scopes: [[{ label: { href: app.href } }]] })).statusCode).toBe(403);
    expect((await onLeader('POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', rm.auth, { name: 'x', scopes: [[{ label: { href: app.href } }, { label: { href: env.href } }]] })).statusCode).toBe(404);
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', rm.auth, { key: 'app', value: 'y' })).statusCode).toBe(403);
  });

  it('grants a key without a role from its user permissions, read again after the cache time', async () => {
    const dev = await userWithRole('dev', 'read_only');
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', dev.auth, { key: 'app', value: 'a' })).statusCode).toBe(403);
    // a permission changed on another PCE: this one sees it once its cache is older than GRANT_CACHE_SECONDS
    const principal = [...identity.principals.values()].find((p) => p.name === 'dev');
    identity.permissions.set('direct', { id: 'direct', orgId: 1, role: 'admin', scope: [], principalId: principal?.id ?? '' });
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', dev.auth, { key: 'app', value: 'b' })).statusCode).toBe(403);
    clock.now += GRANT_CACHE_SECONDS * 1000;
    expect((await onLeader('POST', '/api/v2/orgs/1/labels', dev.auth, { key: 'app', value: 'c' })).statusCode).toBe(201);
  });

  it('answers an expired key 401, and a user with no permission 403', async () => {
    const expired = generateApiKey({ userId: 1, orgId: 1, now: 0, expiresAt: Date.now() - 1 });
    await identity.put(expired.record);
    const auth = { username: expired.record.authUsername, secret: expired.secret };
    expect((await onLeader('GET', '/api/v2/orgs/1/labels', auth)).json).toEqual([{ token: 'authentication_failed', message: expect.stringContaining('expired') }]);
    await onLeader('POST', '/api/v2/users', owner, { username: 'nobody' });
    const nobodyKey = (await onLeader('POST', '/api/v2/users/2/api_keys', owner, { name: 'k' })).json as { auth_username: string; secret: string };
    expect((await onLeader('GET', '/api/v2/orgs/1/labels', { username: nobodyKey.auth_username, secret: nobodyKey.secret })).statusCode).toBe(403);
  });

  it('deletes a user with its keys', async () => {
    const dev = await userWithRole('dev', 'read_only');
    expect((await onLeader('DELETE', `/api/v2/users/${dev.id}`, owner)).statusCode).toBe(204);
    expect((await onLeader('GET', '/api/v2/orgs/1/labels', dev.auth)).statusCode).toBe(401);
    expect((await onLeader('GET', `/api/v2/users/${dev.id}`, owner)).statusCode).toBe(404);
  });
});
