/** /api/v2/orgs/{org}/pairing_profiles and .../pairing_key through the API handler, with fakes of the ports. */
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { toApiError } from '../../../lambdas/api/middleware/domain-errors.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import {
  PairingKeyExpiredError,
  PairingKeyOriginUnreachableError,
  PairingKeyUnknownError,
  PairingKeyUsedUpError,
  PairingProfileDisabledError,
} from '../../../shared/pairing/errors.ts';
import { PairingProfileService } from '../../../shared/pairing/pairing-profile-service.ts';
import { PairingService } from '../../../shared/pairing/pairing-service.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { testConfig } from '../../helpers/config.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeApiKeyStore, FakeDirectory, FakeLabelStore, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from '../../helpers/fakes.ts';
import { FakeKeyReplicas, FakePairingProfileStore, FakePairingUses } from '../../helpers/pairing-fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from '../../helpers/workload-fakes.ts';

const config = testConfig();
const BASE = '/api/v2/orgs/1/pairing_profiles';
type ErrorBody = { token: string; message: string }[];

interface World {
  leaderStore: FakeLeaderStore;
  labels: FakeLabelStore;
  profiles: FakePairingProfileStore;
  uses: FakePairingUses;
  replicas: FakeKeyReplicas;
  keys: FakeApiKeyStore;
}

function pceApi(region: string, world: World) {
  const pce = config.pces.find((p) => p.region === region);
  if (!pce) throw new Error(region);
  const leader = new LeaderView(world.leaderStore, region, 0);
  const pairing = new PairingService({
    pces: config.pces,
    region,
    managementServer: { superclusterFqdn: config.supercluster_fqdn, port: 8443 },
    profiles: world.profiles,
    keys: world.replicas.store(region),
    uses: world.uses.store(region),
  });
  const handler = createApiHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    apiKeys: world.keys,
    leader,
    directory: new FakeDirectory(),
    labels: new LabelService({ labels: world.labels, leader }),
    workloads: new WorkloadService({ workloads: new FakeWorkloadStore(world.leaderStore), labels: world.labels, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
    jobs: new JobService({ jobs: new FakeJobStore() }),
    pairingProfiles: new PairingProfileService({ profiles: world.profiles, uses: world.uses.store(region), labels: world.labels, leader }),
    pairing,
    supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
  });
  return { pairing, call: (event: ReturnType<typeof httpEvent>) => handler(event, lambdaContext()) };
}

describe('pairing API (fakes)', () => {
  let world: World;
  let onLeader: ReturnType<typeof pceApi>;
  let onMember: ReturnType<typeof pceApi>;
  let auth: { username: string; secret: string };
  const body = <T = unknown>(res: { body?: string }) => JSON.parse(res.body ?? '') as T;

  beforeEach(async () => {
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: 'pce-us.sc.example.com', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    world = {
      leaderStore,
      labels: new FakeLabelStore(leaderStore),
      profiles: new FakePairingProfileStore(leaderStore),
      uses: new FakePairingUses(),
      replicas: new FakeKeyReplicas(config.pces.map((p) => p.region)),
      keys: new FakeApiKeyStore(),
    };
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await world.keys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    onLeader = pceApi('us-east-1', world);
    onMember = pceApi('eu-west-1', world);
  });

  const create = async (profile: Record<string, unknown>) => {
    const res = await onLeader.call(httpEvent('POST', BASE, { auth, body: profile }));
    expect(res.statusCode).toBe(201);
    return body<{ href: string }>(res).href;
  };

  it('creates on the leader (201), reads on every PCE, updates (204) and deletes (204)', async () => {
    const label = body<{ href: string }>(await onLeader.call(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'env', value: 'prod' } })));
    const href = await create({ name: 'PP-PROD', labels: [{ href: label.href }], allowed_uses_per_key: 10, key_lifespan: 'unlimited' });
    const read = await onMember.call(httpEvent('GET', `/api/v2${href}`, { auth }));
    expect(read.statusCode).toBe(200);
    expect(body(read)).toMatchObject({ href, name: 'PP-PROD', labels: [{ href: label.href, key: 'env', value: 'prod' }], allowed_uses_per_key: 10, key_lifespan: 'unlimited', total_use_count: 0 });
    expect((await onLeader.call(httpEvent('PUT', `/api/v2${href}`, { auth, body: { description: 'prod VENs' } }))).statusCode).toBe(204);
    expect(body(await onMember.call(httpEvent('GET', `/api/v2${href}`, { auth })))).toMatchObject({ description: 'prod VENs', allowed_uses_per_key: 10 });
    expect((await onLeader.call(httpEvent('DELETE', `/api/v2${href}`, { auth }))).statusCode).toBe(204);
    expect((await onMember.call(httpEvent('GET', `/api/v2${href}`, { auth }))).statusCode).toBe(404);
  });

  it('lists with name, external data and max_results filters and X-Total-Count', async () => {
    await create({ name: 'PP-WEB-1', external_data_set: 'tf', external_data_reference: 'a' });
    await create({ name: 'pp-web-2', external_data_set: 'tf', external_data_reference: 'b' });
    await create({ name: 'PP-DB' });
    const list = async (query: string) => {
      const res = await onMember.call(httpEvent('GET', `${BASE}${query}`, { auth }));
      expect(res.statusCode).toBe(200);
      return { names: body<{ name: string }[]>(res).map((p) => p.name), total: res.headers?.['x-total-count'] };
    };
    expect(await list('')).toEqual({ names: ['PP-WEB-1', 'pp-web-2', 'PP-DB'], total: '3' });
    expect(await list('?name=WEB')).toEqual({ names: ['PP-WEB-1', 'pp-web-2'], total: '2' });
    expect(await list('?external_data_set=tf&external_data_reference=b')).toEqual({ names: ['pp-web-2'], total: '1' });
    expect(await list('?max_results=0')).toEqual({ names: [], total: '3' });
    expect(await list('?max_results=1')).toEqual({ names: ['PP-WEB-1'], total: '3' });
  });

  it('answers every profile write on a member with 403 from the leader gate, writing nothing', async () => {
    const href = await create({ name: 'PP' });
    const writes = world.profiles.writes;
    for (const [method, path, payload] of [
      ['POST', BASE, { name: 'PP-2' }],
      ['PUT', `/api/v2${href}`, { enabled: false }],
      ['DELETE', `/api/v2${href}`, undefined],
    ] as const) {
      const res = await onMember.call(httpEvent(method, path, { auth, body: payload }));
      expect(res.statusCode).toBe(403);
      expect(body<ErrorBody>(res)[0]).toMatchObject({ token: 'supercluster_member_read_only' });
      expect(body<ErrorBody>(res)[0]?.message).toContain('pce-us.sc.example.com');
    }
    expect(world.profiles.writes).toBe(writes);
  });

  it('answers 406 with one entry per bad field and writes nothing', async () => {
    const res = await onLeader.call(httpEvent('POST', BASE, { auth, body: { name: 'PP', enforcement_mode: 'on', allowed_uses_per_key: 0, labels: [{ href: '/orgs/1/labels/77' }] } }));
    expect(res.statusCode).toBe(406);
    expect(body<ErrorBody>(res).map((e) => e.message.split(':')[0])).toEqual(['enforcement_mode', 'allowed_uses_per_key']);
    const missing = await onLeader.call(httpEvent('POST', BASE, { auth, body: { name: 'PP', labels: [{ href: '/orgs/1/labels/77' }] } }));
    expect(missing.statusCode).toBe(406);
    expect(body<ErrorBody>(missing)).toEqual([{ token: 'label_not_found', message: 'labels[0].href: label /orgs/1/labels/77 does not exist' }]);
    expect(world.profiles.profiles.size).toBe(0);
  });

  it('generates pairing keys on the leader and on members (201), with the pairing command', async () => {
    const href = await create({ name: 'PP' });
    for (const [api, prefix] of [[onLeader, '00'], [onMember, '01']] as const) {
      const res = await api.call(httpEvent('POST', `/api/v2${href}/pairing_key`, { auth, body: {} }));
      expect(res.statusCode).toBe(201);
      const { activation_code, pairing_command } = body<{ activation_code: string; pairing_command: string }>(res);
      expect(activation_code).toMatch(new RegExp(`^${prefix}[0-9a-f]{46}$`));
      expect(pairing_command).toBe(`pair.sh --management-server pce.sc.example.com:8443 --activation-code ${activation_code}`);
    }
    // an empty body is {} too
    expect((await onMember.call(httpEvent('POST', `/api/v2${href}/pairing_key`, { auth }))).statusCode).toBe(201);
  });

  it('refuses a key of a disabled profile (406 pairing_profile_disabled) and of an unknown one (404)', async () => {
    const href = await create({ name: 'PP', enabled: false });
    const res = await onMember.call(httpEvent('POST', `/api/v2${href}/pairing_key`, { auth, body: {} }));
    expect(res.statusCode).toBe(406);
    expect(body<ErrorBody>(res)).toEqual([{ token: 'pairing_profile_disabled', message: expect.stringContaining('is disabled') }]);
    expect((await onMember.call(httpEvent('POST', `${BASE}/12345/pairing_key`, { auth, body: {} }))).statusCode).toBe(404);
  });

  it('shows the pairings of every PCE in total_use_count and last_pairing_at', async () => {
    const href = await create({ name: 'PP' });
    const code = body<{ activation_code: string }>(await onMember.call(httpEvent('POST', `/api/v2${href}/pairing_key`, { auth, body: {} }))).activation_code;
    await onLeader.pairing.redeem({ activationCode: code, now: Date.UTC(2025, 0, 1) });
    await onMember.pairing.redeem({ activationCode: code, now: Date.UTC(2025, 0, 2) });
    const [listed] = body<Record<string, unknown>[]>(await onLeader.call(httpEvent('GET', BASE, { auth })));
    expect(listed).toMatchObject({ total_use_count: 2, last_pairing_at: '2025-01-02T00:00:00.000Z' });
  });
});

describe('pairing errors at the edge', () => {
  it.each([
    [new PairingKeyUnknownError(), 406, 'pairing_key_unknown'],
    [new PairingKeyExpiredError(0), 406, 'pairing_key_expired'],
    [new PairingKeyUsedUpError(1), 406, 'pairing_key_used_up'],
    [new PairingProfileDisabledError(7), 406, 'pairing_profile_disabled'],
    [new PairingKeyOriginUnreachableError('eu-west-1', 'pce-eu.sc.example.com', 30), 503, 'pairing_key_origin_unreachable'],
  ])('%s is %i %s', (err, status, token) => {
    const api = toApiError(err);
    expect(api?.statusCode).toBe(status);
    expect(api?.errors).toEqual([{ token, message: err.message }]);
    expect(api?.cause).toBe(err);
  });

  it('sends Retry-After with the 503', () => {
    expect(toApiError(new PairingKeyOriginUnreachableError('eu-west-1', 'pce-eu.sc.example.com', 30))?.headers).toEqual({ 'retry-after': '30' });
  });

  it("answers middy's timeout (the function out of time under load) 503 request_timeout with Retry-After, not 500", async () => {
    const handler = middy(() => new Promise(() => undefined), { timeoutEarlyInMillis: 50 });
    const err = await handler({}, { getRemainingTimeInMillis: () => 60 } as never).then(
      () => null,
      (e: unknown) => e,
    );
    const api = toApiError(err);
    expect(api?.statusCode).toBe(503);
    expect(api?.errors[0]?.token).toBe('request_timeout');
    expect(api?.headers).toEqual({ 'retry-after': '5' });
    expect(toApiError(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBeNull();
  });

  it('leaves other errors to the generic 500', () => {
    expect(toApiError(new Error('boom'))).toBeNull();
  });
});
