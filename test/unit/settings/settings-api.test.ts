/** GET|PUT /api/v2/orgs/{org}/settings/workloads through the API handler, with fakes of the ports. */
import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { NotLeaderError } from '../../../shared/api/errors.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { WorkloadSettingsChangedError, type StoredWorkloadSettings } from '../../../shared/settings/workload-settings.ts';
import { WorkloadSettingsService } from '../../../shared/settings/workload-settings-service.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { testConfig } from '../../helpers/config.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeApiKeyStore, FakeDirectory, FakeLabelStore, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore, FakeWorkloadSettingsStore } from '../../helpers/fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from '../../helpers/workload-fakes.ts';

const config = testConfig();
const PATH = '/api/v2/orgs/1/settings/workloads';
type ErrorBody = { token: string; message: string }[];

interface World {
  leaderStore: FakeLeaderStore;
  labels: FakeLabelStore;
  settings: FakeWorkloadSettingsStore;
  keys: FakeApiKeyStore;
}

function pceApi(region: string, world: World) {
  const pce = config.pces.find((p) => p.region === region);
  if (!pce) throw new Error(region);
  const leader = new LeaderView(world.leaderStore, region, 0);
  const handler = createApiHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    apiKeys: world.keys,
    leader,
    directory: new FakeDirectory(),
    labels: new LabelService({ labels: world.labels, leader }),
    workloads: new WorkloadService({ workloads: new FakeWorkloadStore(world.leaderStore), labels: world.labels, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
    jobs: new JobService({ jobs: new FakeJobStore() }),
    settings: new WorkloadSettingsService({ settings: world.settings, labels: world.labels, leader }),
    supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
  });
  return (event: ReturnType<typeof httpEvent>) => handler(event, lambdaContext());
}

describe('workload settings API (fakes)', () => {
  let world: World;
  let onLeader: ReturnType<typeof pceApi>;
  let onMember: ReturnType<typeof pceApi>;
  let auth: { username: string; secret: string };
  const body = (res: { body?: string }) => JSON.parse(res.body ?? '') as unknown;

  beforeEach(async () => {
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: config.pces[0]?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    world = { leaderStore, labels: new FakeLabelStore(leaderStore), settings: new FakeWorkloadSettingsStore(leaderStore), keys: new FakeApiKeyStore() };
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await world.keys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    onLeader = pceApi('us-east-1', world);
    onMember = pceApi('eu-west-1', world);
  });

  async function createLabel(key: string, value: string): Promise<string> {
    const res = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key, value } }));
    return (body(res) as { href: string }).href;
  }

  it('answers GET on the leader and on members with the defaults (what illumio-py check_connection calls)', async () => {
    for (const api of [onLeader, onMember]) {
      const res = await api(httpEvent('GET', PATH, { auth }));
      expect(res.statusCode).toBe(200);
      expect(body(res)).toEqual({
        href: '/orgs/1/settings/workloads',
        workload_disconnected_timeout_seconds: [{ scope: [], value: 3600 }],
        workload_goodbye_timeout_seconds: [{ scope: [], value: 900 }],
      });
    }
  });

  it('treats the org id like every org route: 401 without a key, 403 for another org, 406 for a non-numeric one; other settings paths 404', async () => {
    expect((await onLeader(httpEvent('GET', PATH))).statusCode).toBe(401);
    const other = await onMember(httpEvent('GET', '/api/v2/orgs/2/settings/workloads', { auth }));
    expect(other.statusCode).toBe(403);
    expect((body(other) as ErrorBody)[0]?.token).toBe('org_access_denied');
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/x/settings/workloads', { auth }))).statusCode).toBe(406);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/settings/nothing', { auth }))).statusCode).toBe(404);
  });

  it('PUT is a partial update on the leader: 204, the other timer kept, replicated reads see it', async () => {
    const web = await createLabel('role', 'web');
    const put = await onLeader(
      httpEvent('PUT', PATH, {
        auth,
        body: { workload_disconnected_timeout_seconds: [{ scope: [], value: 7200 }, { scope: [{ href: web }], value: -1, ven_type: 'server' }] },
      }),
    );
    expect(put.statusCode).toBe(204);
    expect(put.body).toBe('');
    const seen = body(await onMember(httpEvent('GET', PATH, { auth })));
    expect(seen).toEqual({
      href: '/orgs/1/settings/workloads',
      workload_disconnected_timeout_seconds: [{ scope: [], value: 7200 }, { scope: [{ href: web }], value: -1, ven_type: 'server' }],
      workload_goodbye_timeout_seconds: [{ scope: [], value: 900 }],
    });
    expect((await onLeader(httpEvent('PUT', PATH, { auth, body: { workload_goodbye_timeout_seconds: [{ scope: null, value: 300, ven_type: null }] } }))).statusCode).toBe(204);
    expect(body(await onLeader(httpEvent('GET', PATH, { auth })))).toMatchObject({
      workload_disconnected_timeout_seconds: [{ scope: [], value: 7200 }, { scope: [{ href: web }], value: -1, ven_type: 'server' }],
      workload_goodbye_timeout_seconds: [{ scope: [], value: 300 }],
    });
    const stored = world.settings.items.get(1);
    expect(stored).toMatchObject({ updatedBy: 1, updatedAt: expect.any(Number) });
  });

  it('a member refuses PUT with 403 naming the leader and writes nothing', async () => {
    const res = await onMember(httpEvent('PUT', PATH, { auth, body: { workload_goodbye_timeout_seconds: [{ scope: [], value: 60 }] } }));
    expect(res.statusCode).toBe(403);
    expect((body(res) as ErrorBody)[0]).toMatchObject({ token: 'supercluster_member_read_only', message: expect.stringContaining(config.pces[0]?.fqdn ?? '?') });
    expect(world.settings.puts).toBe(0);
  });

  it('answers 406 with one entry per problem and writes nothing', async () => {
    const web = await createLabel('role', 'web');
    const res = await onLeader(
      httpEvent('PUT', PATH, {
        auth,
        body: {
          workload_disconnected_timeout_seconds: [
            { scope: [], value: 3600 },
            { scope: [], value: 60 },
            { scope: [{ href: web }], value: 10 },
            { scope: [{ href: web }], value: 20 },
            { scope: [{ href: '/orgs/1/labels/424242' }], value: 30 },
            { scope: [{ href: '/orgs/9/labels/1' }], value: 30 },
          ],
        },
      }),
    );
    expect(res.statusCode).toBe(406);
    expect((body(res) as ErrorBody).map((e) => e.token)).toEqual(['duplicate_default_scope', 'duplicate_scope', 'invalid_label_href', 'label_not_found']);
    expect((body(res) as ErrorBody).find((e) => e.token === 'label_not_found')?.message).toBe('workload_disconnected_timeout_seconds[4].scope[0].href: label /orgs/1/labels/424242 does not exist');

    for (const bad of [{ workload_goodbye_timeout_seconds: [{ scope: [], value: 1.5 }] }, { workload_goodbye_timeout_seconds: [{ scope: [], value: -2 }] }, { workload_goodbye_timeout_seconds: [{ value: 5 }], colour: 'red' }, {}]) {
      const refused = await onLeader(httpEvent('PUT', PATH, { auth, body: bad }));
      expect(refused.statusCode).toBe(406);
      expect(body(refused)).toEqual(expect.arrayContaining([{ token: expect.any(String), message: expect.any(String) }]));
    }
    expect((await onLeader(httpEvent('PUT', PATH, { auth, body: '{"workload_goodbye' }))).statusCode).toBe(400);
    expect(world.settings.puts).toBe(0);
    expect(body(await onLeader(httpEvent('GET', PATH, { auth })))).toMatchObject({ workload_disconnected_timeout_seconds: [{ scope: [], value: 3600 }] });
  });

  it('answers 405 naming GET and PUT for other methods', async () => {
    const res = await onLeader(httpEvent('DELETE', PATH, { auth }));
    expect(res.statusCode).toBe(405);
    expect((body(res) as ErrorBody)[0]?.message).toContain('(allowed: GET, PUT)');
  });
});

describe('WorkloadSettingsService', () => {
  const leaderRecord = { leaderRegion: 'us-east-1', leaderFqdn: 'pce-us', epoch: 1, assignedAt: 0, previousLeaderFqdn: null };

  it('retries on a fresh read when another write lands between read and write, keeping that write', async () => {
    const leaderStore = new FakeLeaderStore(leaderRecord);
    const store = new FakeWorkloadSettingsStore(leaderStore);
    const labels = new FakeLabelStore(leaderStore);
    const service = new WorkloadSettingsService({ settings: store, labels, leader: new LeaderView(leaderStore, 'us-east-1', 0), now: () => 1_000 });
    const concurrent: StoredWorkloadSettings = {
      orgId: 1,
      timeouts: { workload_disconnected_timeout_seconds: [{ scope: [], value: 100, venType: null }], workload_goodbye_timeout_seconds: [{ scope: [], value: 900, venType: null }] },
      updatedAt: 5_000,
      updatedBy: 2,
    };
    const put = store.put.bind(store);
    let interfered = false;
    store.put = async (next, seen, fence) => {
      if (!interfered) {
        interfered = true;
        store.items.set(1, concurrent); // another request's write
      }
      return put(next, seen, fence);
    };
    await service.update({ orgId: 1, userId: 1 }, { workload_goodbye_timeout_seconds: [{ value: 60 }] });
    expect(store.puts).toBe(2);
    expect(store.items.get(1)).toMatchObject({
      timeouts: { workload_disconnected_timeout_seconds: [{ value: 100 }], workload_goodbye_timeout_seconds: [{ value: 60 }] },
      updatedAt: 5_001, // always later than what it replaces
    });
  });

  it('gives up after a few conflicts with 406, and a demoted leader gets 403 from the fence', async () => {
    const leaderStore = new FakeLeaderStore(leaderRecord);
    const store = new FakeWorkloadSettingsStore(leaderStore);
    const service = new WorkloadSettingsService({ settings: store, labels: new FakeLabelStore(leaderStore), leader: new LeaderView(leaderStore, 'us-east-1', 60_000) });
    store.put = async () => {
      throw new WorkloadSettingsChangedError('changed');
    };
    await expect(service.update({ orgId: 1, userId: 1 }, { workload_goodbye_timeout_seconds: [{ value: 60 }] })).rejects.toMatchObject({ statusCode: 406, errors: [{ token: 'workload_settings_conflict' }] });

    // a view that cached "leader", then the leadership moves underneath it
    const fenced = new FakeWorkloadSettingsStore(leaderStore);
    const view = new LeaderView(leaderStore, 'us-east-1', 60_000);
    const demoted = new WorkloadSettingsService({ settings: fenced, labels: new FakeLabelStore(leaderStore), leader: view });
    await view.current();
    leaderStore.record = { leaderRegion: 'eu-west-1', leaderFqdn: 'pce-eu', epoch: 2, assignedAt: 1, previousLeaderFqdn: 'pce-us' };
    const refused = demoted.update({ orgId: 1, userId: 1 }, { workload_goodbye_timeout_seconds: [{ value: 60 }] });
    await expect(refused).rejects.toBeInstanceOf(NotLeaderError);
    await expect(refused).rejects.toMatchObject({ leaderFqdn: 'pce-eu' });
    expect(fenced.items.size).toBe(0);
  });

  it('knows when a label is used by a timer scope (so it is not deleted from under the settings)', async () => {
    const leaderStore = new FakeLeaderStore(leaderRecord);
    const labels = new FakeLabelStore(leaderStore);
    const store = new FakeWorkloadSettingsStore(leaderStore);
    const service = new WorkloadSettingsService({ settings: store, labels, leader: new LeaderView(leaderStore, 'us-east-1', 0) });
    const label = await labels.create({ orgId: 1, key: 'env', value: 'prod', externalDataSet: null, externalDataReference: null, userId: 1, now: 0 }, { region: 'us-east-1', epoch: 1 });
    expect(await service.usesLabel(1, label.id)).toBe(false);
    await service.update({ orgId: 1, userId: 1 }, { workload_disconnected_timeout_seconds: [{ value: 3600 }, { scope: [{ href: `/orgs/1/labels/${label.id}` }], value: 60 }] });
    expect(await service.usesLabel(1, label.id)).toBe(true);
  });

  it('looks the scope labels up in one batched read of the distinct ids, not one read per scope label', async () => {
    const leaderStore = new FakeLeaderStore(leaderRecord);
    const labels = new FakeLabelStore(leaderStore);
    const service = new WorkloadSettingsService({ settings: new FakeWorkloadSettingsStore(leaderStore), labels, leader: new LeaderView(leaderStore, 'us-east-1', 0) });
    const ids: number[] = [];
    for (const value of ['a', 'b', 'c']) {
      ids.push((await labels.create({ orgId: 1, key: 'app', value, externalDataSet: null, externalDataReference: null, userId: 1, now: 0 }, { region: 'us-east-1', epoch: 1 })).id);
    }
    const reads: (readonly number[])[] = [];
    const getMany = labels.getMany.bind(labels);
    labels.getMany = async (orgId, wanted, options) => {
      reads.push(wanted);
      return getMany(orgId, wanted, options);
    };
    labels.get = async () => {
      throw new Error('one read per label');
    };
    const href = (id: number) => ({ href: `/orgs/1/labels/${id}` });
    const [a, b, c] = ids as [number, number, number];
    await service.update(
      { orgId: 1, userId: 1 },
      {
        workload_disconnected_timeout_seconds: [{ value: 3600 }, { scope: [href(a), href(b)], value: 60 }, { scope: [href(a)], value: 61 }],
        workload_goodbye_timeout_seconds: [{ value: 900 }, { scope: [href(b), href(c)], value: 60 }, { scope: [href(c), href(a + 100)], value: 1 }],
      },
    ).catch((err: unknown) => err);
    expect(reads).toHaveLength(1);
    expect([...(reads[0] ?? [])].sort((x, y) => x - y)).toEqual([a, b, c, a + 100]);
  });
});
