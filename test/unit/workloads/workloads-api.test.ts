/** The workload and job routes through the whole API handler (auth, leader gate, errors) with in-memory fakes. */
import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { NotFoundError } from '../../../shared/api/errors.ts';
import type { Workload } from '../../../shared/workloads/workload.ts';
import { compiledPolicyRoutes } from '../../../lambdas/api/routes/compiled-policy.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import { WorkloadService, type BulkItemResult } from '../../../shared/workloads/workload-service.ts';
import { testConfig } from '../../helpers/config.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeApiKeyStore, FakeDirectory, FakeLabelStore, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from '../../helpers/fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from '../../helpers/workload-fakes.ts';

const config = testConfig();
const [us, eu] = config.pces;
const BASE = '/api/v2/orgs/1/workloads';

interface Env {
  leaderStore: FakeLeaderStore;
  labels: FakeLabelStore;
  workloads: FakeWorkloadStore;
  jobs: FakeJobStore;
  keys: FakeApiKeyStore;
  clock: { now: number };
}

function pceApi(region: string, env: Env, leaderCacheMs = 0) {
  const pce = config.pces.find((p) => p.region === region);
  if (!pce) throw new Error(region);
  const leader = new LeaderView(env.leaderStore, region, leaderCacheMs);
  const now = () => env.clock.now;
  const handler = createApiHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    apiKeys: env.keys,
    leader,
    directory: new FakeDirectory(),
    labels: new LabelService({ labels: env.labels, leader, now }),
    workloads: new WorkloadService({ workloads: env.workloads, labels: env.labels, leader, pceFqdns: config.pces.map((p) => p.fqdn), now }),
    jobs: new JobService({ jobs: env.jobs, now }),
    supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
  });
  return (event: ReturnType<typeof httpEvent>) => handler(event, lambdaContext());
}

const body = <T = unknown>(res: { body?: string }): T => JSON.parse(res.body ?? '') as T;
type Errors = { token: string; message: string }[];

describe('workloads API (fakes)', () => {
  let env: Env;
  let onLeader: ReturnType<typeof pceApi>;
  let onMember: ReturnType<typeof pceApi>;
  let auth: { username: string; secret: string };
  let label: Record<string, string>;

  const post = (b: unknown) => onLeader(httpEvent('POST', BASE, { auth, body: b }));
  const createdHref = async (b: unknown) => {
    const res = await post(b);
    expect(res.statusCode).toBe(201);
    return body<{ href: string }>(res).href;
  };

  beforeEach(async () => {
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: us?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    env = { leaderStore, labels: new FakeLabelStore(leaderStore), workloads: new FakeWorkloadStore(leaderStore), jobs: new FakeJobStore(), keys: new FakeApiKeyStore(), clock: { now: Date.UTC(2025, 0, 1) } };
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await env.keys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    onLeader = pceApi('us-east-1', env);
    onMember = pceApi('eu-west-1', env);
    label = {};
    for (const [key2, value] of [['role', 'web'], ['role', 'db'], ['env', 'prod'], ['app', 'shop']] as const) {
      const res = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: key2, value } }));
      label[value] = body<{ href: string }>(res).href;
    }
  });

  it('creates an unmanaged workload on the leader (201), reads it everywhere, updates (204) and deletes (204)', async () => {
    const res = await post({
      name: 'web-1',
      hostname: 'web-1.example.com',
      labels: [{ href: label.web }, { href: label.prod }],
      interfaces: [{ name: 'eth0', address: '10.0.0.5', cidr_block: 24, default_gateway_address: '10.0.0.1', link_state: 'up' }],
      enforcement_mode: 'visibility_only',
      managing_pce_fqdn: eu?.fqdn,
    });
    expect(res.statusCode).toBe(201);
    const created = body<Record<string, unknown> & { href: string }>(res);
    expect(created).toMatchObject({
      href: expect.stringMatching(/^\/orgs\/1\/workloads\/[0-9a-f-]{36}$/),
      name: 'web-1',
      labels: [{ href: label.web }, { href: label.prod }],
      interfaces: [{ name: 'eth0', address: '10.0.0.5', cidr_block: 24, default_gateway_address: '10.0.0.1', link_state: 'up' }],
      public_ip: null,
      online: true,
      enforcement_mode: 'visibility_only',
      managing_pce_fqdn: eu?.fqdn,
      external_data_set: null,
      agent: null,
      ven: null,
    });
    const path = `/api/v2${created.href}`;
    expect(body(await onMember(httpEvent('GET', path, { auth })))).toEqual(created);

    env.clock.now += 1_000;
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { description: 'front', labels: [{ href: label.db }], online: false } }))).statusCode).toBe(204);
    const updated = body<Record<string, unknown>>(await onLeader(httpEvent('GET', path, { auth })));
    expect(updated).toMatchObject({ name: 'web-1', description: 'front', labels: [{ href: label.db }], online: false, interfaces: created.interfaces, managing_pce_fqdn: eu?.fqdn });
    expect(updated.updated_at).not.toBe(created.updated_at);
    expect(updated.created_at).toBe(created.created_at);

    expect((await onLeader(httpEvent('DELETE', path, { auth }))).statusCode).toBe(204);
    expect((await onLeader(httpEvent('GET', path, { auth }))).statusCode).toBe(404);
    expect((await onLeader(httpEvent('DELETE', path, { auth }))).statusCode).toBe(404);
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { name: 'x' } }))).statusCode).toBe(404);
    expect((await onLeader(httpEvent('GET', `${BASE}/not-a-uuid`, { auth }))).statusCode).toBe(404);
  });

  it('refuses every workload write on a member with 403 naming the leader, and writes nothing', async () => {
    const href = await createdHref({ name: 'a' });
    const attempts = [
      httpEvent('POST', BASE, { auth, body: { name: 'b' } }),
      httpEvent('PUT', `/api/v2${href}`, { auth, body: { name: 'c' } }),
      httpEvent('DELETE', `/api/v2${href}`, { auth }),
      httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: [{ name: 'd' }] }),
      httpEvent('PUT', `${BASE}/bulk_update`, { auth, body: [{ href, name: 'e' }] }),
      httpEvent('PUT', `${BASE}/bulk_delete`, { auth, body: [{ href }] }),
    ];
    for (const event of attempts) {
      const res = await onMember(event);
      expect(res.statusCode).toBe(403);
      expect(body<Errors>(res)[0]).toMatchObject({ token: 'supercluster_member_read_only', message: expect.stringContaining(us?.fqdn ?? '?') });
    }
    expect(body<{ name: string }[]>(await onMember(httpEvent('GET', BASE, { auth }))).map((w) => w.name)).toEqual(['a']);
  });

  it('answers 406 with a token per bad field', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'x', labels: [{ href: '/orgs/1/labels/999' }] }, 'label_not_found'],
      [{ name: 'x', labels: [{ href: label.web }, { href: label.db }] }, 'duplicate_label_key'],
      [{ name: 'x', interfaces: [{ name: 'eth0', address: '999.1.1.1' }] }, 'invalid_ip_address'],
      [{ name: 'x', enforcement_mode: 'enforced' }, 'invalid_enforcement_mode'],
      [{ name: 'x', managing_pce_fqdn: 'pce.elsewhere.example.com' }, 'unknown_managing_pce_fqdn'],
      [{ name: 'x', agent: {} }, 'unexpected_property'],
    ];
    for (const [input, token] of cases) {
      const res = await post(input);
      expect(res.statusCode, token).toBe(406);
      expect(body<Errors>(res).map((e) => e.token)).toEqual([token]);
    }
    const href = await createdHref({ name: 'ok' });
    const res = await onLeader(httpEvent('PUT', `/api/v2${href}`, { auth, body: { labels: [{ href: label.prod }, { href: '/orgs/1/labels/12345' }], enforcement_mode: 'on' } }));
    expect(res.statusCode).toBe(406);
    expect(body<Errors>(res).map((e) => e.token)).toEqual(['invalid_enforcement_mode']);
    const res2 = await onLeader(httpEvent('PUT', `/api/v2${href}`, { auth, body: { labels: [{ href: label.prod }, { href: '/orgs/1/labels/12345' }] } }));
    expect(body<Errors>(res2).map((e) => e.token)).toEqual(['label_not_found']);
    expect((await onLeader(httpEvent('GET', `${BASE}?labels=[[`, { auth }))).statusCode).toBe(406);
    expect(env.workloads.workloads.size).toBe(1);
  });

  it('lists with filters, max_results and X-Total-Count', async () => {
    await createdHref({ name: 'web-1', labels: [{ href: label.web }, { href: label.prod }], interfaces: [{ name: 'eth0', address: '10.0.1.1' }] });
    env.clock.now += 1;
    await createdHref({ name: 'web-2', labels: [{ href: label.web }], interfaces: [{ name: 'eth0', address: '10.0.2.1' }], online: false });
    env.clock.now += 1;
    await createdHref({ name: 'db-1', labels: [{ href: label.db }, { href: label.prod }], enforcement_mode: 'full', external_data_set: 'cmdb' });
    const names = async (query: string) => {
      const res = await onMember(httpEvent('GET', `${BASE}${query}`, { auth }));
      expect(res.statusCode).toBe(200);
      return { names: body<{ name: string }[]>(res).map((w) => w.name), total: res.headers?.['x-total-count'] };
    };
    const labels = (groups: string[][]) => `labels=${encodeURIComponent(JSON.stringify(groups))}`;
    expect(await names('')).toEqual({ names: ['web-1', 'web-2', 'db-1'], total: '3' });
    expect(await names('?name=WEB')).toEqual({ names: ['web-1', 'web-2'], total: '2' });
    expect(await names(`?${labels([[label.web ?? '', label.prod ?? '']])}`)).toEqual({ names: ['web-1'], total: '1' });
    expect(await names(`?${labels([[label.web ?? '', label.prod ?? ''], [label.db ?? '']])}`)).toEqual({ names: ['web-1', 'db-1'], total: '2' });
    expect(await names('?ip_address=10.0.2')).toEqual({ names: ['web-2'], total: '1' });
    expect(await names('?online=false')).toEqual({ names: ['web-2'], total: '1' });
    expect(await names('?managed=true')).toEqual({ names: [], total: '0' });
    expect(await names('?enforcement_mode=full&external_data_set=cmdb')).toEqual({ names: ['db-1'], total: '1' });
    expect(await names('?max_results=0')).toEqual({ names: [], total: '3' });
    expect(await names('?max_results=2')).toEqual({ names: ['web-1', 'web-2'], total: '3' });
  });

  it('runs an async collection: 202 + Location, job done, result holds every match (no 500 cap)', async () => {
    const created = await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: Array.from({ length: 600 }, (_, i) => ({ name: `w-${i}`, enforcement_mode: i % 2 ? 'full' : 'idle' })) }));
    expect(body<BulkItemResult[]>(created).every((r) => r.status === 'created')).toBe(true);

    const res = await onMember(httpEvent('GET', `${BASE}?enforcement_mode=full`, { auth, headers: { Prefer: 'respond-async' } }));
    expect(res.statusCode).toBe(202);
    const location = res.headers?.location ?? '';
    expect(location).toMatch(/^\/orgs\/1\/jobs\/[0-9a-f-]{36}$/);
    expect(res.headers?.['retry-after']).toBe('1');
    expect(body(res)).toEqual({ href: location });

    const job = await onMember(httpEvent('GET', `/api/v2${location}`, { auth }));
    expect(job.statusCode).toBe(200);
    const jobJson = body<{ status: string; job_type: string; result: { href: string }; requested_at: string; terminated_at: string }>(job);
    expect(jobJson).toMatchObject({ href: location, job_type: 'workloads:get', status: 'done', result: { href: expect.stringMatching(/^\/orgs\/1\/datafiles\/[0-9a-f-]{36}$/) } });
    expect(jobJson.terminated_at).toEqual(expect.any(String));

    const result = await onMember(httpEvent('GET', `/api/v2${jobJson.result.href}`, { auth }));
    expect(result.statusCode).toBe(200);
    const all = body<{ enforcement_mode: string }[]>(result);
    expect(all).toHaveLength(300);
    expect(all.every((w) => w.enforcement_mode === 'full')).toBe(true);

    // the job lives on the PCE that ran it (its local table) and expires after a day
    env.clock.now += 24 * 3600 * 1000 + 1;
    expect((await onMember(httpEvent('GET', `/api/v2${location}`, { auth }))).statusCode).toBe(404);
    expect((await onMember(httpEvent('GET', `/api/v2${jobJson.result.href}`, { auth }))).statusCode).toBe(404);
  });

  it('validates async filters before creating a job, and scopes jobs to the org', async () => {
    const bad = await onLeader(httpEvent('GET', `${BASE}?labels=nope`, { auth, headers: { prefer: 'respond-async' } }));
    expect(bad.statusCode).toBe(406);
    expect(env.jobs.jobs.size).toBe(0);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/jobs/00000000-0000-0000-0000-000000000000', { auth }))).statusCode).toBe(404);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/2/jobs/00000000-0000-0000-0000-000000000000', { auth }))).statusCode).toBe(403);
    // a plain GET without the preference stays synchronous
    expect((await onLeader(httpEvent('GET', BASE, { auth, headers: { prefer: 'return=minimal' } }))).statusCode).toBe(200);
  });

  it('a job and its datafile are readable only by the API key that started them, in their org: anyone else gets 404 (ids cannot be probed)', async () => {
    await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: [{ name: 'secret-app' }] }));
    const started = await onMember(httpEvent('GET', BASE, { auth, headers: { Prefer: 'respond-async' } }));
    const jobPath = `/api/v2${started.headers?.location ?? '?'}`;
    const job = body<{ result: { href: string }; requested_by: { href: string } }>(await onMember(httpEvent('GET', jobPath, { auth })));
    const filePath = `/api/v2${job.result.href}`;
    expect((await onMember(httpEvent('GET', filePath, { auth }))).statusCode).toBe(200);

    // another key of the same org (and the same user) gets 404 for both, as for an id that does not exist
    const other = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await env.keys.put(other.record);
    const otherAuth = { username: other.record.authUsername, secret: other.secret };
    for (const path of [jobPath, filePath]) {
      const res = await onMember(httpEvent('GET', path, { auth: otherAuth }));
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('secret-app');
      expect(body<Errors>(res)[0]?.token).toBe('not_found');
    }
    // a key of another org: the same ids under its own org are unknown (404); the first org's paths are refused like any other org route (403, whatever the id)
    const stranger = generateApiKey({ userId: 2, orgId: 2, now: 0 });
    await env.keys.put(stranger.record);
    const strangerAuth = { username: stranger.record.authUsername, secret: stranger.secret };
    for (const path of [jobPath, filePath]) {
      expect((await onMember(httpEvent('GET', path.replace('/orgs/1/', '/orgs/2/'), { auth: strangerAuth }))).statusCode).toBe(404);
      expect((await onMember(httpEvent('GET', path, { auth: strangerAuth }))).statusCode).toBe(403);
    }
    // the stored job and datafile name the key that started them
    expect([...env.jobs.jobs.values()][0]?.requestedByKey).toBe(auth.username);
    expect([...env.jobs.files.values()][0]?.requestedByKey).toBe(auth.username);
  });

  it('bulk: per-item results, bad items do not stop good ones, at most 1000 items', async () => {
    const res = await onLeader(
      httpEvent('PUT', `${BASE}/bulk_create`, {
        auth,
        body: [{ name: 'a' }, { name: 'b', enforcement_mode: 'nope' }, { name: 'c', labels: [{ href: label.web }] }, 'not an object', { name: 'e', labels: [{ href: '/orgs/1/labels/4242' }] }],
      }),
    );
    expect(res.statusCode).toBe(200);
    const created = body<BulkItemResult[]>(res);
    expect(created.map((r) => r.status)).toEqual(['created', 'validation_failure', 'created', 'validation_failure', 'validation_failure']);
    expect(created[1]?.errors?.map((e) => e.token)).toEqual(['invalid_enforcement_mode']);
    expect(created[4]?.errors?.map((e) => e.token)).toEqual(['label_not_found']);
    expect(env.workloads.applyCalls).toBe(1);
    const [a, , c] = created;
    const missing = '/orgs/1/workloads/00000000-0000-4000-8000-000000000000';

    const upd = body<BulkItemResult[]>(
      await onLeader(
        httpEvent('PUT', `${BASE}/bulk_update`, {
          auth,
          body: [{ href: a?.href, description: 'A' }, { href: missing, name: 'x' }, { href: c?.href, managing_pce_fqdn: 'nope.example.com' }, { name: 'no href' }, { href: a?.href, name: 'twice' }],
        }),
      ),
    );
    expect(upd.map((r) => r.status)).toEqual(['updated', 'not_found', 'validation_failure', 'validation_failure', 'validation_failure']);
    expect(upd[2]?.errors?.map((e) => e.token)).toEqual(['unknown_managing_pce_fqdn']);
    expect(upd[4]?.errors?.map((e) => e.token)).toEqual(['duplicate_href']);
    expect(body(await onLeader(httpEvent('GET', `/api/v2${a?.href}`, { auth })))).toMatchObject({ description: 'A', name: 'a' });

    const del = body<BulkItemResult[]>(await onLeader(httpEvent('PUT', `${BASE}/bulk_delete`, { auth, body: [{ href: a?.href }, { href: missing }, { href: 'garbage' }] })));
    expect(del.map((r) => r.status)).toEqual(['deleted', 'not_found', 'validation_failure']);
    expect(del[2]?.errors?.map((e) => e.token)).toEqual(['invalid_uri']);

    const tooMany = await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: Array.from({ length: 1001 }, (_, i) => ({ name: `n${i}` })) }));
    expect(tooMany.statusCode).toBe(406);
    expect(body<Errors>(tooMany)[0]?.token).toBe('too_many_items');
    expect((await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: { name: 'not a list' } }))).statusCode).toBe(406);
  });

  it('shows labels as {href, key, value} everywhere, and takes them back that way (GET → PUT round trip)', async () => {
    const href = await createdHref({ name: 'web-1', labels: [{ href: label.web }, { href: label.prod }], os_detail: 'Ubuntu 22.04.4 LTS' });
    const expected = [
      { href: label.web, key: 'role', value: 'web' },
      { href: label.prod, key: 'env', value: 'prod' },
    ];
    const path = `/api/v2${href}`;
    const read = body<{ labels: unknown[]; os_detail: string; deleted: boolean }>(await onMember(httpEvent('GET', path, { auth })));
    expect(read).toMatchObject({ labels: expected, os_detail: 'Ubuntu 22.04.4 LTS', deleted: false });
    expect(body<{ labels: unknown[] }[]>(await onMember(httpEvent('GET', BASE, { auth })))[0]?.labels).toEqual(expected);
    const job = body<{ result: { href: string } }>(await onMember(httpEvent('GET', `/api/v2${(await onMember(httpEvent('GET', BASE, { auth, headers: { Prefer: 'respond-async' } }))).headers?.location}`, { auth })));
    expect(body<{ labels: unknown[] }[]>(await onMember(httpEvent('GET', `/api/v2${job.result.href}`, { auth })))[0]?.labels).toEqual(expected);

    // a client puts back the labels it read (the Python SDK sends whole Label objects), swapping one of them
    const swapped = [...read.labels.slice(1), { href: label.db, key: 'role', value: 'db', created_by: { href: '/users/1' } }];
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { labels: swapped } }))).statusCode).toBe(204);
    expect(body<{ labels: unknown[] }>(await onLeader(httpEvent('GET', path, { auth }))).labels).toEqual([expected[1], { href: label.db, key: 'role', value: 'db' }]);
    const res = await post({ name: 'created', labels: [{ href: label.shop }] });
    expect(body(res)).toMatchObject({ labels: [{ href: label.shop, key: 'app', value: 'shop' }] });
  });

  it('takes "labels": null as no labels (Terraform provider), on create and update', async () => {
    const res = await post({ name: 'tf', labels: null });
    expect(res.statusCode).toBe(201);
    const created = body<{ href: string; labels: unknown[] }>(res);
    expect(created.labels).toEqual([]);
    const path = `/api/v2${created.href}`;
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { labels: [{ href: label.web }] } }))).statusCode).toBe(204);
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { labels: null } }))).statusCode).toBe(204);
    expect(body<{ labels: unknown[] }>(await onLeader(httpEvent('GET', path, { auth }))).labels).toEqual([]);
  });

  it('keeps a name or a hostname: an update may not clear both (single and bulk)', async () => {
    const href = await createdHref({ name: 'only-name' });
    const path = `/api/v2${href}`;
    const res = await onLeader(httpEvent('PUT', path, { auth, body: { name: null } }));
    expect(res.statusCode).toBe(406);
    expect(body<Errors>(res).map((e) => e.token)).toEqual(['name_or_hostname_required']);
    const bulk = body<BulkItemResult[]>(await onLeader(httpEvent('PUT', `${BASE}/bulk_update`, { auth, body: [{ href, name: ' ', hostname: null }] })));
    expect(bulk).toEqual([{ href, status: 'validation_failure', token: 'name_or_hostname_required', message: expect.any(String), errors: [{ token: 'name_or_hostname_required', message: expect.any(String) }] }]);
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { name: null, hostname: 'h.example.com' } }))).statusCode).toBe(204);
    expect(body(await onLeader(httpEvent('GET', path, { auth })))).toMatchObject({ name: null, hostname: 'h.example.com' });
  });

  it('answers 404 for a PUT on an id that cannot name a workload (e.g. .../workloads/unpair), whatever the body', async () => {
    for (const b of [{ workloads: [], ip_table_restore: 'default' }, {}]) {
      const res = await onLeader(httpEvent('PUT', `${BASE}/unpair`, { auth, body: b }));
      expect(res.statusCode).toBe(404);
      expect(body<Errors>(res)[0]?.token).toBe('not_found');
    }
  });

  it('bulk: every failed item carries errors and its first token/message, a missing workload included', async () => {
    const missing = '/orgs/1/workloads/00000000-0000-4000-8000-000000000000';
    const del = body<BulkItemResult[]>(await onLeader(httpEvent('PUT', `${BASE}/bulk_delete`, { auth, body: [{ href: missing }] })));
    // the Python SDK's bulk_delete reports an item as failed only when it has errors
    expect(del).toEqual([{ href: missing, status: 'not_found', token: 'not_found', message: expect.stringContaining(missing), errors: [{ token: 'not_found', message: expect.stringContaining(missing) }] }]);
    const upd = body<BulkItemResult[]>(await onLeader(httpEvent('PUT', `${BASE}/bulk_update`, { auth, body: [{ href: missing, name: 'x' }] })));
    expect(upd[0]).toMatchObject({ status: 'not_found', token: 'not_found', errors: [{ token: 'not_found' }] });
    const created = body<BulkItemResult[]>(await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: [{ name: 'ok' }, { name: 'bad', enforcement_mode: 'on', public_ip: 'x' }] })));
    expect(created[0]).toEqual({ href: expect.stringMatching(/^\/orgs\/1\/workloads\//), status: 'created' });
    expect(created[1]).toEqual({
      href: null,
      status: 'validation_failure',
      token: created[1]?.errors?.[0]?.token,
      message: created[1]?.errors?.[0]?.message,
      errors: [expect.objectContaining({ token: expect.any(String) }), expect.objectContaining({ token: expect.any(String) })],
    });
    expect(created[1]?.errors?.map((e) => e.token).sort()).toEqual(['invalid_enforcement_mode', 'invalid_ip_address']);
  });

  const demote = () => {
    env.leaderStore.record = { leaderRegion: 'eu-west-1', leaderFqdn: eu?.fqdn ?? '', epoch: 2, assignedAt: 1, previousLeaderFqdn: us?.fqdn ?? null };
  };

  it('a leader demoted between the gate and the write is refused by the fence (single and bulk)', async () => {
    const href = await createdHref({ name: 'before' });
    for (const event of [
      httpEvent('POST', BASE, { auth, body: { name: 'after' } }),
      httpEvent('PUT', `/api/v2${href}`, { auth, body: { name: 'after' } }),
      httpEvent('DELETE', `/api/v2${href}`, { auth }),
      httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: [{ name: 'after' }] }),
      httpEvent('PUT', `${BASE}/bulk_delete`, { auth, body: [{ href }] }),
    ]) {
      env.leaderStore.record = { leaderRegion: 'us-east-1', leaderFqdn: us?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null };
      const stale = pceApi('us-east-1', env, 60_000); // its cached view still says it leads: the gate lets the write through
      expect((await stale(httpEvent('GET', '/api/v2/supercluster/leader'))).statusCode).toBe(202);
      demote();
      const res = await stale(event);
      expect(res.statusCode).toBe(403);
      expect(body<Errors>(res)[0]?.token).toBe('supercluster_member_read_only');
      expect(res.body).toContain(eu?.fqdn);
    }
    expect([...env.workloads.workloads.values()].map((w) => w.meta.name)).toEqual(['before']);
  });

  it('a bulk request interrupted by a demotion reports what was written and what was refused', async () => {
    env.workloads.beforeChange = (i) => {
      if (i === 2) demote();
    };
    const res = await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] }));
    expect(res.statusCode).toBe(200);
    const results = body<BulkItemResult[]>(res);
    expect(results.map((r) => r.status)).toEqual(['created', 'created', 'validation_failure', 'validation_failure']);
    expect(results[2]).toMatchObject({ href: null, errors: [{ token: 'supercluster_member_read_only', message: expect.stringContaining(eu?.fqdn ?? '?') }] });
    expect(env.workloads.workloads.size).toBe(2);
  });

  it('bulk: a storage error in one transaction fails only its items (200, token storage_error, no stack); the others keep their outcome', async () => {
    // the store's second transaction (items 2 and 3) fails with an unexpected error
    env.workloads.failChange = (i) => i === 2 || i === 3;
    const res = await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }, { nope: 1 }] }));
    expect(res.statusCode).toBe(200);
    const results = body<BulkItemResult[]>(res);
    expect(results.map((r) => r.status)).toEqual(['created', 'created', 'failure', 'failure', 'created', 'validation_failure']);
    expect(results[2]).toEqual({ href: null, status: 'failure', token: 'storage_error', message: expect.stringMatching(/not written.*retry/), errors: [{ token: 'storage_error', message: expect.any(String) }] });
    expect(res.body).not.toMatch(/simulated|at .*\.ts/);
    expect(env.workloads.workloads.size).toBe(3);

    // a retry of the same bulk_update is idempotent: every item updated again, nothing else changes
    const hrefs = results.flatMap((r) => (r.href ? [r.href] : []));
    env.workloads.failChange = null;
    const update = hrefs.map((href) => ({ href, description: 'same' }));
    for (let i = 0; i < 2; i++) {
      const again = await onLeader(httpEvent('PUT', `${BASE}/bulk_update`, { auth, body: update }));
      expect(body<BulkItemResult[]>(again).map((r) => r.status)).toEqual(['updated', 'updated', 'updated']);
    }
    expect(env.workloads.workloads.size).toBe(3);
  });

  it('bulk: a store that throws outright answers 200 with every pending item failed (its outcome unknown), never a 500', async () => {
    const created = await onLeader(httpEvent('PUT', `${BASE}/bulk_create`, { auth, body: [{ name: 'a' }, { name: 'b' }] }));
    const hrefs = body<BulkItemResult[]>(created).map((r) => r.href);
    env.workloads.apply = async () => {
      throw new Error('simulated: connection reset at Socket.read (node:net)');
    };
    for (const [route, items] of [
      ['bulk_create', [{ name: 'c' }, { bad: true }]],
      ['bulk_update', [{ href: hrefs[0], description: 'x' }, { href: '/orgs/1/workloads/00000000-0000-4000-8000-000000000000', name: 'ghost' }]],
      ['bulk_delete', [{ href: hrefs[1] }, { href: 'nope' }]],
    ] as const) {
      const res = await onLeader(httpEvent('PUT', `${BASE}/${route}`, { auth, body: items }));
      expect(res.statusCode).toBe(200);
      const results = body<BulkItemResult[]>(res);
      expect(results[0]).toMatchObject({ status: 'failure', token: 'storage_error' });
      expect(results[1]?.status).not.toBe('failure');
      expect(res.body).not.toContain('simulated');
    }
  });
});

/** A workload lookup that knows the given ids per org (404 otherwise, like WorkloadService.get). */
function workloadsOf(ids: Record<number, string[]>) {
  return {
    get: async (orgId: number, id: string) => {
      if (!(ids[orgId] ?? []).includes(id)) throw new NotFoundError([{ token: 'not_found', message: `workload ${id} not found` }]);
      return { id, orgId } as unknown as Workload;
    },
  };
}

describe('compiled policy route', () => {
  it('answers 404 for an id that cannot name a workload, like GET .../workloads/{id}', async () => {
    const reads: string[] = [];
    const compiled = {
      getPolicy: async (orgId: number, id: string) => {
        reads.push(`${orgId}/${id}`);
        return null;
      },
      getIpSets: async () => [],
    };
    const route = compiledPolicyRoutes({ compiled, workloads: workloadsOf({ 1: ['00000000-0000-4000-8000-000000000000'] }), pceFqdn: 'pce-us.example.com' })[0];
    if (!route) throw new Error('no route');
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    const call = (id: string) => route.handler({ ...httpEvent('GET', `${BASE}/${id}/compiled_policy`), pathParameters: { org: '1', id } }, { ...lambdaContext(), principal: key.record });
    await expect(call('bad%20id')).rejects.toMatchObject({ statusCode: 404, errors: [{ token: 'invalid_uri' }] });
    await expect(call('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ statusCode: 404, errors: [{ token: 'compiled_policy_not_found' }] });
    expect(reads).toEqual(['1/00000000-0000-4000-8000-000000000000']);
  });

  it('answers only for a workload of the org: a compiled policy left for a workload the org does not have is 404, like the workload', async () => {
    const id = '11111111-1111-4111-8111-111111111111';
    const compiled = {
      getPolicy: async (orgId: number, workloadId: string) => ({
        policy: { workloadId, policyVersion: 3, enforcementMode: 'full', enforced: true, defaultDeny: true, rulesHash: 'h', inbound: [], outbound: [], ipSetIds: [] },
        computedAt: orgId,
      }),
      getIpSets: async () => [],
    } as unknown as Parameters<typeof compiledPolicyRoutes>[0]['compiled'];
    const route = compiledPolicyRoutes({ compiled, workloads: workloadsOf({ 2: [id] }), pceFqdn: 'pce-us.example.com' })[0];
    if (!route) throw new Error('no route');
    const call = (orgId: number) =>
      route.handler({ ...httpEvent('GET', `/api/v2/orgs/${orgId}/workloads/${id}/compiled_policy`), pathParameters: { org: String(orgId), id } }, { ...lambdaContext(), principal: generateApiKey({ userId: 1, orgId, now: 0 }).record });
    await expect(call(1)).rejects.toMatchObject({ statusCode: 404, errors: [{ token: 'not_found' }] });
    expect((await call(2)).statusCode).toBe(200);
  });
});
