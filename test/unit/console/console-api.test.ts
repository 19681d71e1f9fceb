/**
 * The web console through the API handler (fakes): its page without a key, sign-in setting the session cookie,
 * the session standing in for an API key under the same RBAC and leader gate, CSRF on every write, sign-out.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { AccessService, apiFencing, ensureOwnerUser } from '../../../shared/auth/access-service.ts';
import { ConsoleSessionService, setPassword } from '../../../shared/auth/console-sessions.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { baseApiDeps } from '../../helpers/api-deps.ts';
import { testConfig } from '../../helpers/config.ts';
import { FakeConsoleSessionStore, FakePasswordStore } from '../../helpers/console-fakes.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeLabelStore, FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakeIdentityStore } from '../../helpers/identity-fakes.ts';

const config = testConfig();
const [us, eu, ap] = config.pces.map((p) => p.fqdn) as [string, string, string];
const PASSWORD = 'a long enough password';
const INDEX = { body: '<!doctype html><div id="app"></div>', contentType: 'text/html; charset=utf-8', immutable: false };

type Api = (event: ReturnType<typeof httpEvent>) => ReturnType<ReturnType<typeof createApiHandler>>;

describe('web console API (fakes)', () => {
  let leaderStore: FakeLeaderStore;
  let identity: FakeIdentityStore;
  let passwords: FakePasswordStore;
  let down: Set<string>;
  const build = (region: string, scheme: 'https' | 'http'): Api => {
    const pce = config.pces.find((p) => p.region === region);
    if (!pce) throw new Error(region);
    const labels = new FakeLabelStore(leaderStore);
    const urls = Object.fromEntries(config.pces.map((p) => [p.fqdn, `${scheme}://${p.fqdn}`]));
    const base = baseApiDeps({ config, region, leaderStore, identity, labels });
    const handler = createApiHandler({
      ...base,
      console: {
        sessions: new ConsoleSessionService({ sessions: new FakeConsoleSessionStore(), passwords, users: identity }),
        assets: new Map([['index.html', INDEX]]),
        config,
        pceFqdn: pce.fqdn,
        urls,
        probe: async (url) => (down.has(new URL(url).hostname) ? { error: 'ECONNREFUSED' } : { status: 202 }),
      },
    });
    return (event) => handler(event, lambdaContext());
  };
  let onLeader: Api;
  let onMember: Api;

  beforeEach(async () => {
    down = new Set();
    leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: us, epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    identity = new FakeIdentityStore(leaderStore);
    passwords = new FakePasswordStore(identity, leaderStore);
    const fence = { region: 'us-east-1', epoch: 1 };
    await ensureOwnerUser(identity, fence, { id: 1, orgId: 1, username: 'admin', fullName: 'Admin', createdAt: 0 });
    await setPassword({ passwords, users: identity }, 'admin', PASSWORD, fence, 0);
    onLeader = build('us-east-1', 'https');
    onMember = build('eu-west-1', 'https');
  });

  const signIn = async (api: Api, username = 'admin', password = PASSWORD) => {
    const res = await api(httpEvent('POST', '/api/v2/console/session', { body: { username, password } }));
    const cookie = res.cookies?.[0] ?? '';
    const body = JSON.parse(res.body ?? 'null') as { csrf_token: string } & Record<string, unknown>;
    return { res, cookie, body, header: { cookie: cookie.split(';')[0] ?? '' } };
  };

  it('serves the console page at / without a key, with a strict content security policy', async () => {
    const res = await onMember(httpEvent('GET', '/'));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toMatch(/text\/html/);
    expect(res.headers?.['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.body).toContain('id="app"');
    expect((await onMember(httpEvent('GET', '/console/missing-1.js'))).statusCode).toBe(404);
  });

  it('signs in: an HttpOnly, SameSite=Strict, Secure session cookie and the CSRF token; a wrong password gets 401 and no cookie', async () => {
    const wrong = await onLeader(httpEvent('POST', '/api/v2/console/session', { body: { username: 'admin', password: 'not the password' } }));
    expect(wrong.statusCode).toBe(401);
    expect(JSON.parse(wrong.body ?? '')).toEqual([{ token: 'invalid_credentials', message: expect.any(String) }]);
    expect(wrong.cookies).toBeUndefined();

    const { res, cookie, body } = await signIn(onLeader);
    expect(res.statusCode).toBe(200);
    expect(cookie).toMatch(/^pce_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    expect(body).toMatchObject({ username: 'admin', pce: { fqdn: us, cluster_type: 'leader' }, leader: { fqdn: us, console_url: `https://${us}` }, permissions: expect.arrayContaining(['provision', 'read']) });
    expect(body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.body).not.toContain(cookie.split(';')[0]?.split('=')[1]);
  });

  it('without https (the local cloud) the cookie is not Secure', async () => {
    const { cookie } = await signIn(build('us-east-1', 'http'));
    expect(cookie).not.toContain('Secure');
    expect(cookie).toContain('HttpOnly');
  });

  it('the session calls the REST API: reads freely, writes only with X-CSRF-Token', async () => {
    const { header, body } = await signIn(onLeader);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { headers: header }))).statusCode).toBe(200);
    const noCsrf = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { headers: header, body: { key: 'role', value: 'web' } }));
    expect(noCsrf.statusCode).toBe(403);
    expect(JSON.parse(noCsrf.body ?? '')[0].token).toBe('csrf_token_invalid');
    const wrongCsrf = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { headers: { ...header, 'x-csrf-token': 'x'.repeat(43) }, body: { key: 'role', value: 'web' } }));
    expect(wrongCsrf.statusCode).toBe(403);
    const ok = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { headers: { ...header, 'x-csrf-token': body.csrf_token }, body: { key: 'role', value: 'web' } }));
    expect(ok.statusCode).toBe(201);
  });

  it("a session acts with its user's permissions: a read_only user cannot write", async () => {
    const access = new AccessService({ identity, apiKeys: identity, labels: new FakeLabelStore(leaderStore), fencing: apiFencing(new LeaderView(leaderStore, 'us-east-1', 0)) });
    await access.createUser(1, { username: 'viewer' });
    await access.grantRole(1, 'viewer', 'read_only', []);
    await setPassword({ passwords, users: identity }, 'viewer', PASSWORD, { region: 'us-east-1', epoch: 1 }, 0);
    const { header, body } = await signIn(onLeader, 'viewer');
    expect(body).toMatchObject({ permissions: ['read'] });
    const res = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { headers: { ...header, 'x-csrf-token': body.csrf_token }, body: { key: 'role', value: 'db' } }));
    expect(res.statusCode).toBe(403);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { headers: header }))).statusCode).toBe(200);
  });

  it("signs in on a member, which names the leader's console; its writes get the member's 403", async () => {
    const { res, header, body } = await signIn(onMember);
    expect(res.statusCode).toBe(200);
    expect(body).toMatchObject({ pce: { fqdn: eu, cluster_type: 'member' }, leader: { fqdn: us, console_url: `https://${us}` } });
    const write = await onMember(httpEvent('POST', '/api/v2/orgs/1/labels', { headers: { ...header, 'x-csrf-token': body.csrf_token }, body: { key: 'role', value: 'web' } }));
    expect(write.statusCode).toBe(403);
    expect(JSON.parse(write.body ?? '')[0].token).toBe('supercluster_member_read_only');
  });

  it("a member's session is its own: the leader does not know it", async () => {
    const { header } = await signIn(onMember);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { headers: header }))).statusCode).toBe(401);
  });

  it('signs out with CSRF: the cookie is cleared and the session refused from then on', async () => {
    const { header, body } = await signIn(onLeader);
    expect((await onLeader(httpEvent('DELETE', '/api/v2/console/session', { headers: header }))).statusCode).toBe(403);
    const withBody = await onLeader(httpEvent('DELETE', '/api/v2/console/session', { headers: { ...header, 'x-csrf-token': body.csrf_token }, body: { a: 1 } }));
    expect(withBody.statusCode).toBe(400);
    expect(JSON.parse(withBody.body ?? '')[0].token).toBe('request_body_not_allowed');
    const out = await onLeader(httpEvent('DELETE', '/api/v2/console/session', { headers: { ...header, 'x-csrf-token': body.csrf_token } }));
    expect(out.statusCode).toBe(204);
    expect(out.cookies?.[0]).toMatch(/^pce_session=; .*Max-Age=0/);
    const after = await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { headers: header }));
    expect(after.statusCode).toBe(401);
    expect(JSON.parse(after.body ?? '')[0].token).toBe('session_expired');
    expect((await onLeader(httpEvent('GET', '/api/v2/console/session', { headers: header }))).statusCode).toBe(401);
  });

  it('GET /api/v2/console/pces: each PCE answers node_available or not (a session or a key needed)', async () => {
    expect((await onLeader(httpEvent('GET', '/api/v2/console/pces'))).statusCode).toBe(401);
    const { header } = await signIn(onLeader);
    down.add(ap);
    const res = await onLeader(httpEvent('GET', '/api/v2/console/pces', { headers: header }));
    expect(res.statusCode).toBe(200);
    const list = JSON.parse(res.body ?? '') as { fqdn: string; reachable: boolean; error: string | null }[];
    expect(list.map((p) => [p.fqdn, p.reachable])).toEqual([
      [us, true],
      [eu, true],
      [ap, false],
    ]);
    expect(list[2]?.error).toBe('ECONNREFUSED');
  });
});
