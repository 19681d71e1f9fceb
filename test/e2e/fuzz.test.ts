/**
 * The API under hostile requests, on a running local supercluster (every PCE), for every route the handler
 * serves (test/helpers/api-routes.ts): property-based (fast-check) paths, query strings, headers and bodies.
 * - no request gets a 5xx, and none hangs (each answers within REQUEST_TIMEOUT_MS);
 * - a write whose body is not what the route takes (not JSON, or JSON of the wrong shape) gets a 4xx with an
 *   Illumio-style `[{token, message}]` body (a bulk operation: 200 with every item refused), and the objects
 *   of the org are exactly as before.
 * - the RBAC matrix: for each of Illumio's roles (a key of that role from `pce-ctl api-key create`), every route of
 *   the declared table (shared/auth/permissions.ts) on the leader and on a member is answered as the table decides:
 *   403 where the role (or a member) may not, never 401/403 where it may; requests name objects that do not exist
 *   and carry bodies no route takes, so nothing is written whatever the outcome.
 * The numbers of requests are printed (FUZZ_RUNS_PER_ROUTE raises them for a longer run).
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, ROLES, ROUTE_PERMISSIONS, type Role } from '../../shared/auth/permissions.ts';
import { everyRoute, type RouteEntry } from '../helpers/api-routes.ts';
import { runCtlJson, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

const REQUEST_TIMEOUT_MS = 10_000;
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS_PER_ROUTE ?? 12);
const WRITE_RUNS_PER_ROUTE = Math.max(4, Math.floor(RUNS_PER_ROUTE / 2));

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

/** A raw HTTP request (no URL normalisation, any bytes in the path and headers node lets through). */
function send(url: string, method: string, path: string, headers: Record<string, string>, body: string | Buffer | undefined): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${method} ${path}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Keeps `%` (broken escapes are part of the test) and escapes what an HTTP request line cannot carry. */
const rawPercent = (v: string) => v.replace(/[^%A-Za-z0-9._~-]/g, (c) => encodeURIComponent(c));
const hostileSegment = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.integer().map(String),
  fc.constantFrom('1', '0', '-1', '..', '%2e%2e', '%00', '%zz', '%', '99999999999999999999999', '1e9', 'null', '__proto__', 'constructor', 'x'.repeat(3000), '%F0%9F%98%80', ';', '%2F', 'a%20b'),
);
const hostileQuery = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('max_results', 'name', 'labels', 'hostname', 'status', 'representation', 'timestamp[gte]', 'external_data_set', 'key', 'port', 'proto', 'ip_address', 'fqdn', 'namespace'), fc.string({ maxLength: 12 })), fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('-1', '0', '1e99', '[[', '{"a":1}', '%zz', 'x'.repeat(5000)))), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v.startsWith('%') ? rawPercent(v) : encodeURIComponent(v)}`).join('&')}`));
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const hostileBody = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.object().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '{', 'null', '[]', '{}', '"x"', '1', '{"name":null}', '{"labels":[{"href":"/orgs/1/labels/999999"}]}', '{"__proto__":{"admin":true}}', deepArray(5_000), deepObject(5_000), `{"name":"${'n'.repeat(600_000)}"}`, '\u0000\uffff'),
);
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=utf-16');

/** `[{token, message}, ...]`: Illumio's error body. */
function isIllumioErrorBody(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as unknown;
    return Array.isArray(parsed) && parsed.length > 0 && parsed.every((e) => typeof (e as { token?: unknown }).token === 'string' && typeof (e as { message?: unknown }).message === 'string');
  } catch {
    return false;
  }
}

/** A bulk answer whose every item was refused (`status` other than created/updated/deleted, with a token). */
function perItemRefusals(body: string): boolean {
  try {
    const items = JSON.parse(body) as { status?: string; token?: string }[];
    return Array.isArray(items) && items.every((i) => typeof i.token === 'string' && !['created', 'updated', 'deleted'].includes(i.status ?? ''));
  } catch {
    return false;
  }
}

function pathOf(route: RouteEntry, segments: readonly string[], org: string): string {
  let i = 0;
  return route.path.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === 'org' ? org : (segments[i++ % segments.length] ?? '1')));
}

describe('the API under hostile requests (fuzz)', () => {
  let cluster: RunningCluster;
  const routes = everyRoute();
  let authHeader = '';

  /** What the org holds: each collection's objects (hrefs), and the settings. */
  const snapshot = async (): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    for (const collection of ['labels', 'label_dimensions', 'sec_policy/draft/label_groups', 'sec_policy/draft/services', 'sec_policy/draft/ip_lists', 'sec_policy/draft/rule_sets', 'workloads', 'pairing_profiles', 'vens', 'container_clusters', 'sec_policy', 'settings/workloads', 'sec_policy/pending']) {
      const res = await cluster.api(0, 'GET', `/api/v2/orgs/1/${collection}?max_results=10000`);
      expect(res.status, collection).toBe(200);
      out[collection] = Array.isArray(res.json) ? (res.json as { href?: string; updated_at?: string }[]).map((o) => `${o.href ?? JSON.stringify(o)}@${o.updated_at ?? ''}`).sort() : res.json;
    }
    return out;
  };

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.43.11', port: 19343 });
    const { username, secret } = cluster.state.api_key;
    authHeader = `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
    // something to point at: a label, a rule set with a rule, a workload, a pairing profile, a label dimension, a container cluster
    const label = await cluster.create(0, '/orgs/1/labels', { key: 'app', value: 'fuzz' });
    const ruleSet = await cluster.create(0, '/orgs/1/sec_policy/draft/rule_sets', { name: 'fuzz', scopes: [[{ label: { href: label.href } }]] });
    await cluster.create(0, `${ruleSet.href.replace(/^\/api\/v2/, '')}/sec_rules`, { providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ port: 22, proto: 6 }], resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] } });
    await cluster.create(0, '/orgs/1/workloads', { name: 'fuzz-w', labels: [{ href: label.href }], interfaces: [{ name: 'eth0', address: '10.9.9.9' }] });
    await cluster.create(0, '/orgs/1/pairing_profiles', { name: 'fuzz-profile', enabled: true });
    await cluster.create(0, '/orgs/1/label_dimensions', { key: 'fuzz', display_name: 'Fuzz' });
    await cluster.create(0, '/orgs/1/container_clusters', { name: 'fuzz-cluster', description: '' });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it(`answers every route, on every PCE, without a 5xx or a hang (${RUNS_PER_ROUTE} hostile requests per route)`, async () => {
    const fiveXx: string[] = [];
    let sent = 0;
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.integer({ min: 0, max: cluster.state.pces.length - 1 }),
        fc.array(hostileSegment, { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.constant('1'), hostileSegment),
        hostileQuery,
        fc.option(hostileBody, { nil: undefined }),
        contentType,
        fc.constantFrom('valid', 'valid', 'valid', 'none', 'garbage', 'wrong-secret', 'bearer'),
        fc.boolean(),
        async (route, pce, segments, org, query, body, type, auth, gzipClaim) => {
          const headers: Record<string, string> = {};
          if (type) headers['content-type'] = type;
          if (gzipClaim && body !== undefined) headers['content-encoding'] = 'gzip';
          if (auth === 'valid') headers.authorization = authHeader;
          else if (auth === 'garbage') headers.authorization = 'Basic !!!not-base64';
          else if (auth === 'wrong-secret') headers.authorization = `Basic ${Buffer.from(`${cluster.state.api_key.username}:wrong`).toString('base64')}`;
          else if (auth === 'bearer') headers.authorization = 'Bearer x.y.z';
          const path = `${pathOf(route, segments, org)}${query}`;
          const answer = await send(cluster.state.pces[pce]?.url ?? '', route.method, path, headers, route.method === 'GET' ? undefined : body);
          sent++;
          slowest = Math.max(slowest, answer.ms);
          if (answer.status >= 500 && answer.status !== 503) fiveXx.push(`${answer.status} ${route.method} ${path.slice(0, 200)} -> ${answer.body.slice(0, 300)}`);
        },
      ),
      { numRuns: routes.length * RUNS_PER_ROUTE, endOnFailure: true },
    );
    console.log(`fuzz: ${sent} hostile requests over ${routes.length} routes, ${fiveXx.length} x 5xx, slowest ${slowest} ms`);
    expect(fiveXx).toEqual([]);
  }, 600_000);

  it(`writes nothing for a write whose body the route does not take, and says why (${WRITE_RUNS_PER_ROUTE} per write route)`, async () => {
    const writes = routes.filter((r) => r.method !== 'GET' && !r.path.startsWith('/api/v2/ven/'));
    const before = await snapshot();
    const wrong: string[] = [];
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...writes),
        fc.integer({ min: 0, max: cluster.state.pces.length - 1 }),
        // objects that do not exist: nothing to change or delete
        fc.array(fc.constantFrom('999999999', 'ffffffff-ffff-4fff-8fff-ffffffffffff', 'nope'), { minLength: 1, maxLength: 2 }),
        fc.oneof(fc.constantFrom('{', 'not json', '[1,2', '{"a":}', '\u0000'), fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 })).map((v) => JSON.stringify(v))),
        async (route, pce, segments, body) => {
          const path = pathOf(route, segments, '1');
          const answer = await send(cluster.state.pces[pce]?.url ?? '', route.method, path, { authorization: authHeader, 'content-type': 'application/json' }, body);
          sent++;
          const illumioBody = isIllumioErrorBody(answer.body);
          // bulk operations answer 200 with one outcome per item (Illumio's shape): every one must be a refusal
          const bulkRefusals = /\/bulk_[a-z]+$/.test(route.path) && answer.status === 200 && perItemRefusals(answer.body);
          if (!bulkRefusals && (answer.status < 400 || answer.status >= 500 || !illumioBody)) wrong.push(`${answer.status} ${route.method} ${path} body ${JSON.stringify(body).slice(0, 60)} -> ${answer.body.slice(0, 200)}`);
        },
      ),
      { numRuns: writes.length * WRITE_RUNS_PER_ROUTE, endOnFailure: true },
    );
    console.log(`fuzz: ${sent} invalid writes over ${writes.length} write routes, ${wrong.length} not refused with an Illumio-style 4xx`);
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 600_000);

  it('answers the RBAC matrix (roles x routes x leader/member) as the declared table decides, and writes nothing', async () => {
    const keys = new Map<Role, string>();
    for (const role of ROLES) {
      const key = await runCtlJson<{ auth_username: string; secret: string }>(['api-key', 'create', '--role', role, '--name', `fuzz-${role}`], cluster.stateFile);
      keys.set(role, `Basic ${Buffer.from(`${key.auth_username}:${key.secret}`).toString('base64')}`);
    }
    // the keys are written on the leader: wait until the member knows every one of them
    const member = 1;
    for (const [role, auth] of keys) {
      const deadline = Date.now() + 20_000;
      while ((await send(cluster.state.pces[member]?.url ?? '', 'GET', '/api/v2/users/login', { authorization: auth }, undefined)).status === 401) {
        if (Date.now() > deadline) throw new Error(`the ${role} key did not reach the member`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const before = await snapshot();
    const entries = ROUTE_PERMISSIONS.filter((e) => e.permission !== 'public' && e.permission !== 'ven');
    const wrong: string[] = [];
    let sent = 0;
    let allowed = 0;
    for (const [pce, isLeader] of [[0, true], [member, false]] as const) {
      for (const role of ROLES) {
        for (const entry of entries) {
          // objects that do not exist and a body no route takes: a permitted request is refused further on (404/400/406), a forbidden one 403
          const path = entry.path.replace('{org}', '1').replace(/\{[^}]+\}/g, '999999999');
          const answer = await send(cluster.state.pces[pce]?.url ?? '', entry.method, path, { authorization: keys.get(role) ?? '', 'content-type': 'application/json' }, entry.method === 'GET' ? undefined : 'not json');
          sent++;
          const decision = decide([{ role, scope: [] }], entry, isLeader, { self: false });
          if (decision.allowed) allowed++;
          const ok = decision.allowed ? answer.status !== 401 && answer.status !== 403 && answer.status < 500 : answer.status === 403 && isIllumioErrorBody(answer.body);
          if (!ok) wrong.push(`${role} ${isLeader ? 'leader' : 'member'} ${entry.method} ${path}: table says ${decision.allowed ? 'allowed' : 'forbidden'}, got ${answer.status} ${answer.body.slice(0, 160)}`);
        }
      }
    }
    console.log(`fuzz: RBAC matrix ${ROLES.length} roles x ${entries.length} routes x leader/member = ${sent} requests (${allowed} allowed by the table), ${wrong.length} answered otherwise`);
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 600_000);
});
