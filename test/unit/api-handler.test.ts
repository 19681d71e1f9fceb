import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../lambdas/api/app.ts';
import { isMemberWriteExempt } from '../../lambdas/api/middleware/leader-gate.ts';
import { generateApiKey } from '../../shared/auth/api-keys.ts';
import { JobService } from '../../shared/jobs/job-service.ts';
import { LabelService } from '../../shared/labels/label-service.ts';
import { LeaderView } from '../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../shared/workloads/workload-service.ts';
import { testConfig } from '../helpers/config.ts';
import { httpEvent, lambdaContext } from '../helpers/events.ts';
import { FakeApiKeyStore, FakeDirectory, FakeLabelStore, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from '../helpers/fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from '../helpers/workload-fakes.ts';

const config = testConfig();
const [us, eu] = config.pces;

function pceApi(region: string, leaderStore: FakeLeaderStore, labelStore: FakeLabelStore, apiKeys: FakeApiKeyStore) {
  const pce = config.pces.find((p) => p.region === region);
  if (!pce) throw new Error(region);
  const leader = new LeaderView(leaderStore, region, 0);
  const handler = createApiHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    apiKeys,
    leader,
    directory: new FakeDirectory(),
    labels: new LabelService({ labels: labelStore, leader }),
    workloads: new WorkloadService({ workloads: new FakeWorkloadStore(leaderStore), labels: labelStore, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
    jobs: new JobService({ jobs: new FakeJobStore() }),
    supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
  });
  return (event: ReturnType<typeof httpEvent>) => handler(event, lambdaContext());
}

describe('API handler (fakes)', () => {
  let leaderStore: FakeLeaderStore;
  let onLeader: ReturnType<typeof pceApi>;
  let onMember: ReturnType<typeof pceApi>;
  let auth: { username: string; secret: string };

  beforeEach(async () => {
    leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: us?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const labels = new FakeLabelStore(leaderStore);
    const keys = new FakeApiKeyStore();
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await keys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    onLeader = pceApi('us-east-1', leaderStore, labels, keys);
    onMember = pceApi('eu-west-1', leaderStore, labels, keys);
  });

  it('answers the health checks without a key: 202 leader / 404 member', async () => {
    expect((await onLeader(httpEvent('GET', '/api/v2/supercluster/leader'))).statusCode).toBe(202);
    expect((await onMember(httpEvent('GET', '/api/v2/supercluster/leader'))).statusCode).toBe(404);
    expect((await onMember(httpEvent('GET', '/api/v2/node_available'))).statusCode).toBe(202);
  });

  it('requires a key everywhere else: 401 with an Illumio-style body', async () => {
    const res = await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels'));
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body ?? '')).toEqual([{ token: 'authentication_failed', message: expect.any(String) }]);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { auth: { ...auth, secret: 'nope' } }))).statusCode).toBe(401);
  });

  it('creates on the leader, reads with filters and X-Total-Count', async () => {
    for (const value of ['web', 'db', 'web-proxy']) {
      const res = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value } }));
      expect(res.statusCode).toBe(201);
      expect(JSON.parse(res.body ?? '')).toMatchObject({ key: 'role', value, href: expect.stringMatching(/^\/orgs\/1\/labels\/\d+$/) });
    }
    const list = await onMember(httpEvent('GET', '/api/v2/orgs/1/labels?value=web&max_results=1', { auth }));
    expect(list.statusCode).toBe(200);
    expect(list.headers?.['x-total-count']).toBe('2');
    expect(JSON.parse(list.body ?? '')).toHaveLength(1);
  });

  it('refuses writes on a member with 403 naming the leader, and writes nothing', async () => {
    const res = await onMember(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value: 'web' } }));
    expect(res.statusCode).toBe(403);
    const body = JSON.parse(res.body ?? '') as { token: string; message: string }[];
    expect(body[0]?.token).toBe('supercluster_member_read_only');
    expect(body[0]?.message).toContain(us?.fqdn);
    const list = await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { auth }));
    expect(list.headers?.['x-total-count']).toBe('0');
  });

  it('answers 406 per bad field and 400 for malformed JSON', async () => {
    const res = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'colour', value: '', extra: 1 } }));
    expect(res.statusCode).toBe(406);
    const tokens = (JSON.parse(res.body ?? '') as { token: string; message: string }[]).map((e) => e.message);
    expect(tokens.some((m) => m.startsWith('key:'))).toBe(true);
    expect(tokens.some((m) => m.startsWith('value:'))).toBe(true);
    expect(tokens.some((m) => m.includes('extra'))).toBe(true);
    expect((await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: '{"key":' }))).statusCode).toBe(400);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels?max_results=-3', { auth }))).statusCode).toBe(406);
  });

  it('rejects duplicates with 406, updates with 204, deletes with 204 then 404', async () => {
    const created = JSON.parse((await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'env', value: 'prod' } }))).body ?? '') as { href: string };
    expect((await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'env', value: 'PROD' } }))).statusCode).toBe(406);
    const path = `/api/v2${created.href}`;
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { value: 'production' } }))).statusCode).toBe(204);
    expect(JSON.parse((await onMember(httpEvent('GET', path, { auth }))).body ?? '')).toMatchObject({ value: 'production' });
    expect((await onLeader(httpEvent('PUT', path, { auth, body: { key: 'role' } }))).statusCode).toBe(406);
    expect((await onLeader(httpEvent('DELETE', path, { auth }))).statusCode).toBe(204);
    expect((await onLeader(httpEvent('GET', path, { auth }))).statusCode).toBe(404);
  });

  it('a leader demoted between the gate and the write is refused by the fence', async () => {
    leaderStore.record = { leaderRegion: 'eu-west-1', leaderFqdn: eu?.fqdn ?? '', epoch: 2, assignedAt: 1, previousLeaderFqdn: us?.fqdn ?? null };
    const res = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value: 'x' } }));
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain(eu?.fqdn);
    expect((await onMember(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value: 'x' } }))).statusCode).toBe(201);
  });

  it('answers login with pce_cluster_type, 404 on unknown routes, 405 on wrong methods, 403 on another org', async () => {
    expect(JSON.parse((await onMember(httpEvent('GET', '/api/v2/users/login', { auth }))).body ?? '')).toMatchObject({ pce_cluster_type: 'member', auth_username: auth.username });
    expect(JSON.parse((await onLeader(httpEvent('GET', '/api/v2/users/login', { auth }))).body ?? '')).toMatchObject({ pce_cluster_type: 'leader' });
    expect((await onLeader(httpEvent('GET', '/api/v2/nothing', { auth }))).statusCode).toBe(404);
    expect((await onLeader(httpEvent('PATCH', '/api/v2/orgs/1/labels', { auth }))).statusCode).toBe(405);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/2/labels', { auth }))).statusCode).toBe(403);
    // a malformed escape in the path is bad input, not a server error
    const malformed = await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels/%E0', { auth }));
    expect(malformed.statusCode).toBe(404);
    expect(JSON.parse(malformed.body ?? '')).toEqual([{ token: 'invalid_uri', message: expect.any(String) }]);
  });

  it('names each allowed method once in a 405, in route order, when several routes match the path', async () => {
    // `.../workloads/bulk_update` is its own route (PUT) and matches `.../workloads/{uuid}` (GET, PUT, DELETE)
    const res = await onLeader(httpEvent('PATCH', '/api/v2/orgs/1/workloads/bulk_update', { auth }));
    expect(res.statusCode).toBe(405);
    expect(JSON.parse(res.body ?? '')).toEqual([{ token: 'method_not_allowed', message: 'PATCH is not allowed on /api/v2/orgs/1/workloads/bulk_update (allowed: PUT, GET, DELETE)' }]);
  });

  it('exempts the seed-listed member operations from the leader gate', () => {
    expect(isMemberWriteExempt('POST', '/api/v2/orgs/1/pairing_profiles/7/pairing_key')).toBe(true);
    expect(isMemberWriteExempt('DELETE', '/api/v2/orgs/1/blocked_traffic/3')).toBe(true);
    expect(isMemberWriteExempt('POST', '/api/v2/ven/heartbeat')).toBe(true);
    expect(isMemberWriteExempt('POST', '/api/v2/orgs/1/labels')).toBe(false);
    expect(isMemberWriteExempt('POST', '/api/v2/orgs/1/pairing_profiles')).toBe(false);
  });
});
