/**
 * Issue 10's "Done when" for RBAC, tried as a new user would on a local supercluster, with keys made by
 * `pce-ctl users create` / `pce-ctl api-key create` and the REST API: a read-only key reads everything on every
 * PCE and every write gets 403; a scoped ruleset manager writes rule sets inside its scope only; an admin key
 * cannot write on a member; a revoked key gets 401 on every PCE (once the deletion replicated); an expired key
 * gets 401; GET /orgs/1/events on the leader shows each attempt, with no secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCtl, runCtlJson, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type Auth = { username: string; secret: string };
type Key = { href: string; key_id: string; auth_username: string; secret: string };
type Event = { event_type: string; pce_fqdn: string; status: string; created_by: { user?: { username: string } }; action: { http_status_code: number; api_method: string; api_endpoint: string; errors?: { token: string }[] } };

describe('RBAC (local supercluster)', () => {
  let cluster: RunningCluster;
  const ctl = (...args: string[]) => runCtl(args, cluster.stateFile);
  const ctlJson = <T>(...args: string[]): Promise<T> => runCtlJson<T>(args, cluster.stateFile);
  const authOf = (k: Key): Auth => ({ username: k.auth_username, secret: k.secret });
  const pces = [0, 1, 2];
  /** every PCE knows the key (its item replicated) */
  const statuses = (auth: Auth) => Promise.all(pces.map(async (i) => (await cluster.api(i, 'GET', '/api/v2/orgs/1/labels', undefined, auth)).status));
  const everywhere = async (auth: Auth, what: string) => {
    let last: number[] = [];
    await eventually(async () => (last = await statuses(auth)).every((s) => s === 200) || null, 20_000, what).catch((err: Error) => {
      throw new Error(`${err.message} (last answers ${last.join(', ')})`);
    });
  };

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.45.11', port: 19445 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('enforces roles, scopes, members, revocation and expiry, and records every attempt with no secret', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const [leaderFqdn] = cluster.state.pces.map((p) => p.fqdn);
    const app = await cluster.create(0, '/orgs/1/labels', { key: 'app', value: 'payments' });
    const env = await cluster.create(0, '/orgs/1/labels', { key: 'env', value: 'prod' });
    const other = await cluster.create(0, '/orgs/1/labels', { key: 'app', value: 'billing' });

    // pce-ctl: invalid roles and scopes are refused with exit 2, nothing written
    expect((await ctl('api-key', 'create', '--role', 'superuser', '--json')).code).toBe(2);
    const badScope = await ctl('api-key', 'create', '--role', 'ruleset_manager', '--scope', '/orgs/1/labels/999999', '--json');
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('/orgs/1/labels/999999');
    expect((await ctl('users', 'create', 'x', '--role', 'admin', '--scope', app.href)).code).toBe(2);

    // keys: read-only, admin and short-lived from pce-ctl (a role of their own); a scoped ruleset manager as a user with a permission, its key from the API
    const ro = await ctlJson<Key>('api-key', 'create', '--role', 'read_only', '--name', 'monitoring');
    expect(ro).toMatchObject({ href: expect.stringMatching(/^\/users\/1\/api_keys\/[0-9a-f]{16}$/), key_id: expect.any(String), auth_username: expect.stringMatching(/^api_/), secret: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const admin = await ctlJson<Key>('api-key', 'create', '--role', 'admin');
    const expiring = await ctlJson<Key>('api-key', 'create', '--role', 'read_only', '--expires-in', '2');
    const team = await ctlJson<{ href: string; permissions: unknown[] }>('users', 'create', 'payments-team', '--full-name', 'Payments team', '--role', 'ruleset_manager', '--scope', `${app.href},${env.href}`);
    expect(team.permissions).toHaveLength(1);
    const rm = (await cluster.create(0, `${team.href}/api_keys`, { name: 'payments ci' })) as unknown as Key;
    const listed = await ctlJson<{ auth_username: string }[]>('api-key', 'list');
    expect(listed.map((k) => k.auth_username)).toEqual(expect.arrayContaining([ro.auth_username, admin.auth_username, rm.auth_username]));
    expect(JSON.stringify(listed)).not.toContain(ro.secret);
    for (const k of [ro, admin, rm]) await everywhere(authOf(k), `${k.auth_username} on every PCE`);

    // a read-only key reads everything on every PCE, and every write gets 403 (members: read-only too)
    const reads = ['/api/v2/orgs/1/labels', '/api/v2/orgs/1/sec_policy/draft/rule_sets', '/api/v2/orgs/1/workloads', '/api/v2/orgs/1/settings/workloads', '/api/v2/orgs/1/pairing_profiles', '/api/v2/orgs/1/events?max_results=1', '/api/v2/users', '/api/v2/orgs/1/roles', '/api/v2/orgs/1/permissions', '/api/v2/health', '/api/v2/users/login'];
    const writes: [string, string, unknown][] = [
      ['POST', '/api/v2/orgs/1/labels', { key: 'app', value: 'ro-attempt' }],
      ['POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', { name: 'ro-attempt', scopes: [[{ label: { href: app.href } }]] }],
      ['POST', '/api/v2/orgs/1/sec_policy', { update_description: 'ro-attempt' }],
      ['POST', '/api/v2/orgs/1/workloads', { name: 'ro-attempt' }],
      ['PUT', '/api/v2/orgs/1/settings/workloads', {}],
      ['POST', '/api/v2/users', { username: 'ro-attempt' }],
      ['POST', '/api/v2/orgs/1/permissions', {}],
      ['DELETE', `/api/v2${app.href}`, undefined],
    ];
    for (const i of pces) {
      for (const path of reads) expect((await cluster.api(i, 'GET', path, undefined, authOf(ro))).status, `read-only GET ${path} on PCE ${i}`).toBe(200);
      for (const [method, path, body] of writes) expect((await cluster.api(i, method, path, body, authOf(ro))).status, `read-only ${method} ${path} on PCE ${i}`).toBe(403);
    }

    // a scoped ruleset manager: rule sets inside app=payments, env=prod only, on the leader only
    const inside = { name: 'payments-prod', scopes: [[{ label: { href: app.href } }, { label: { href: env.href } }]] };
    expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', inside, authOf(rm))).status).toBe(201);
    for (const scopes of [[[{ label: { href: app.href } }]], [[{ label: { href: other.href } }, { label: { href: env.href } }]], []]) expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', { name: 'outside', scopes }, authOf(rm))).status).toBe(403);
    expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'app', value: 'rm-attempt' }, authOf(rm))).status).toBe(403);
    expect((await cluster.api(1, 'POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', { ...inside, name: 'on-member' }, authOf(rm))).status).toBe(403);

    // an admin key writes on the leader, never on a member
    expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'app', value: 'by-admin' }, authOf(admin))).status).toBe(201);
    for (const i of [1, 2]) {
      const refused = await cluster.api(i, 'POST', '/api/v2/orgs/1/labels', { key: 'app', value: 'admin-on-member' }, authOf(admin));
      expect(refused.status).toBe(403);
      expect((refused.json as { token: string }[])[0]?.token).toBe('supercluster_member_read_only');
    }
    // and cannot manage users (user_admin is the owner's)
    expect((await cluster.api(0, 'POST', '/api/v2/users', { username: 'admin-attempt' }, authOf(admin))).status).toBe(403);

    // revocation: 401 on every PCE once the deletion replicated (authentication reads the key item on every request, uncached)
    const revoke = await ctl('api-key', 'revoke', rm.key_id);
    expect(revoke.code, revoke.stderr).toBe(0);
    await eventually(async () => (await Promise.all(pces.map(async (i) => (await cluster.api(i, 'GET', '/api/v2/orgs/1/labels', undefined, authOf(rm))).status === 401))).every(Boolean) || null, 20_000, 'the revoked key refused on every PCE');
    // a key revoked through the API likewise
    const own = (await cluster.create(0, '/users/1/api_keys', { name: 'short-lived' })) as unknown as Key;
    await everywhere(authOf(own), 'the API-made key on every PCE');
    expect((await cluster.api(0, 'DELETE', `/api/v2${own.href}`)).status).toBe(204);
    await eventually(async () => (await Promise.all(pces.map(async (i) => (await cluster.api(i, 'GET', '/api/v2/orgs/1/labels', undefined, authOf(own))).status === 401))).every(Boolean) || null, 20_000, 'the API-revoked key refused on every PCE');

    // expiry: 401 everywhere after expires_at
    await eventually(async () => (await Promise.all(pces.map(async (i) => (await cluster.api(i, 'GET', '/api/v2/orgs/1/labels', undefined, authOf(expiring))).status === 401))).every(Boolean) || null, 20_000, 'the expired key refused on every PCE');
    const expired = await cluster.api(0, 'GET', '/api/v2/orgs/1/labels', undefined, authOf(expiring));
    expect((expired.json as { message: string }[])[0]?.message).toContain('expired');

    // the leader's events show each attempt (every PCE's, once replicated), with no secret
    const events = await eventually(
      async () => {
        const res = await cluster.api(0, 'GET', `/api/v2/orgs/1/events?timestamp[gte]=${since}&max_results=10000`);
        const list = res.json as Event[];
        const by = (username: string, status: number, pce?: string) => list.some((e) => e.created_by.user?.username === username && e.action.http_status_code === status && (!pce || e.pce_fqdn === pce));
        const memberFqdns = cluster.state.pces.slice(1).map((p) => p.fqdn);
        const complete =
          memberFqdns.every((f) => by(ro.auth_username, 403, f)) &&
          by(ro.auth_username, 403, leaderFqdn) &&
          by(rm.auth_username, 201) &&
          by(rm.auth_username, 403) &&
          memberFqdns.every((f) => by(admin.auth_username, 403, f)) &&
          memberFqdns.every((f) => by(rm.auth_username, 401, f)) &&
          by(expiring.auth_username, 401) &&
          list.some((e) => e.event_type === 'api_key.delete');
        return complete ? { list, raw: JSON.stringify(list) } : null;
      },
      30_000,
      'every attempt in the leader events',
    );
    expect(events.list.find((e) => e.created_by.user?.username === rm.auth_username && e.action.http_status_code === 201)).toMatchObject({ event_type: 'rule_set.create', status: 'success' });
    expect(events.list.find((e) => e.created_by.user?.username === admin.auth_username && e.action.http_status_code === 403 && e.pce_fqdn !== leaderFqdn)).toMatchObject({ event_type: 'request.authorization_failed', action: { errors: [{ token: 'supercluster_member_read_only' }] } });
    for (const k of [ro, admin, expiring, rm, own]) expect(events.raw).not.toContain(k.secret);
    expect(events.raw).not.toContain(cluster.state.api_key.secret);
  }, 360_000);
});
