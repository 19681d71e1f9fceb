import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { SuperclusterUsageError } from '../../../shared/supercluster/errors.ts';
import { holdPolicyBelowRunlevel5, RunlevelView, runlevelServes, setRunlevel } from '../../../shared/supercluster/runlevel.ts';
import { testConfig, pceAt as pceOf } from '../../helpers/config.ts';
import { FakeDropTable } from '../../helpers/drop-fakes.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeApiKeyStore, FakeLabelStore, FakeLeaderStore, FakeRuntimeState } from '../../helpers/fakes.ts';
import { FakeClock } from '../../helpers/lease-fakes.ts';
import { coreApiDeps } from '../../helpers/api-deps.ts';

const config = testConfig();
const pceAt = (i: number) => pceOf(config, i);
const us = pceAt(0);
const eu = pceAt(1);

describe('runlevel gate rule', () => {
  it('serves everything at 5', () => {
    for (const [m, p] of [['POST', '/api/v2/orgs/1/labels'], ['DELETE', '/api/v2/orgs/1/labels/1'], ['GET', '/api/v2/orgs/1/labels']] as const) expect(runlevelServes(5, m, p)).toBe(true);
  });

  it('at 2: reads, health checks and the VEN protocol, but no REST API write', () => {
    expect(runlevelServes(2, 'GET', '/api/v2/orgs/1/labels')).toBe(true);
    expect(runlevelServes(2, 'POST', '/api/v2/ven/v1/heartbeat')).toBe(true);
    expect(runlevelServes(2, 'POST', '/api/v2/orgs/1/labels')).toBe(false);
    expect(runlevelServes(2, 'PUT', '/api/v2/orgs/1/workloads/abc')).toBe(false);
    // the member exemptions (pairing keys) are writes too
    expect(runlevelServes(2, 'POST', '/api/v2/orgs/1/pairing_profiles/1/pairing_key')).toBe(false);
  });

  it('at 1: only the health checks', () => {
    for (const p of ['/api/v2/node_available', '/api/v2/health', '/api/v2/supercluster/leader', '/api/v2/gslb/switches/pce-us.sc.example.com']) expect(runlevelServes(1, 'GET', p)).toBe(true);
    expect(runlevelServes(1, 'GET', '/api/v2/orgs/1/labels')).toBe(false);
    expect(runlevelServes(1, 'POST', '/api/v2/ven/v1/heartbeat')).toBe(false);
  });
});

describe('RunlevelView', () => {
  it('caches the local table briefly and keeps the last reading when the table fails', async () => {
    const clock = new FakeClock();
    const store = new FakeRuntimeState();
    let reads = 0;
    const counting = { getOrCreate: async (i: Parameters<FakeRuntimeState['getOrCreate']>[0]) => (reads++, store.getOrCreate(i)), setRunlevel: (r: number) => store.setRunlevel(r) };
    const view = new RunlevelView(counting, 1_000, clock.now);
    expect(await view.current()).toBe(5);
    await store.setRunlevel(2);
    expect(await view.current()).toBe(5);
    clock.advance(1_000);
    expect(await view.current()).toBe(2);
    expect(reads).toBe(2);
    counting.getOrCreate = () => Promise.reject(new Error('table down'));
    clock.advance(1_000);
    expect(await view.current()).toBe(2);
  });

  it('holds policy back below runlevel 5, as listen-only mode does', async () => {
    let level = 5;
    let listenOnly: { enabledAt: number } | null = null;
    const held = holdPolicyBelowRunlevel5({ get: async () => listenOnly, enable: async () => undefined, disable: async () => undefined }, { current: async () => level }, () => 7);
    expect(await held.get()).toBeNull();
    level = 2;
    expect(await held.get()).toEqual({ enabledAt: 7 });
    level = 5;
    listenOnly = { enabledAt: 3 };
    expect(await held.get()).toEqual({ enabledAt: 3 });
  });
});

describe('API at runlevels 2 and 1', () => {
  let runtime: FakeRuntimeState;
  let call: (e: ReturnType<typeof httpEvent>) => Promise<{ statusCode?: number; body?: string }>;
  let auth: { username: string; secret: string };

  beforeEach(async () => {
    const leaderStore = new FakeLeaderStore({ leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const labels = new FakeLabelStore(leaderStore);
    const keys = new FakeApiKeyStore();
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await keys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    runtime = new FakeRuntimeState();
    const handler = createApiHandler({
      ...coreApiDeps({ config, region: us.region, leaderStore, apiKeys: keys, labels, supercluster: { runtime } }),
      runlevel: { view: new RunlevelView(runtime, 0), pceFqdn: us.fqdn },
    });
    call = (e) => handler(e, lambdaContext());
  });

  it('answers a write on the leader 503 naming runlevel 2, and still serves reads and the health checks', async () => {
    await runtime.getOrCreate({ startedAt: 0, runlevel: 5 });
    expect((await call(httpEvent('POST', '/api/v2/orgs/1/labels', { body: { key: 'role', value: 'web' }, auth }))).statusCode).toBe(201);
    await runtime.setRunlevel(2);
    const refused = await call(httpEvent('POST', '/api/v2/orgs/1/labels', { body: { key: 'role', value: 'db' }, auth }));
    expect(refused.statusCode).toBe(503);
    const body = JSON.parse(refused.body ?? '[]') as { token: string; message: string }[];
    expect(body[0]?.token).toBe('runlevel_restricted');
    expect(body[0]?.message).toContain('runlevel 2');
    expect((await call(httpEvent('GET', '/api/v2/orgs/1/labels', { auth }))).statusCode).toBe(200);
    expect((await call(httpEvent('GET', '/api/v2/node_available'))).statusCode).toBe(404);
    const health = JSON.parse((await call(httpEvent('GET', '/api/v2/health', { auth }))).body ?? '[]') as { fqdn: string; runlevel: number }[];
    expect(health.find((h) => h.fqdn === us.fqdn)?.runlevel).toBe(2);
  });

  it('answers everything but the health checks 503 at runlevel 1', async () => {
    await runtime.getOrCreate({ startedAt: 0, runlevel: 1 });
    expect((await call(httpEvent('GET', '/api/v2/orgs/1/labels', { auth }))).statusCode).toBe(503);
    expect((await call(httpEvent('GET', '/api/v2/health', { auth }))).statusCode).toBe(200);
    expect((await call(httpEvent('GET', '/api/v2/supercluster/leader'))).statusCode).toBe(202);
  });
});

describe('setRunlevel (pce-ctl set-runlevel)', () => {
  it('sets the local table and waits until node_available serves it', async () => {
    const runtime = new FakeRuntimeState();
    await runtime.getOrCreate({ startedAt: 0, runlevel: 5 });
    const clock = new FakeClock();
    let probes = 0;
    const drops = new FakeDropTable();
    const result = await setRunlevel(
      { pce: eu, runtime, drops: drops.store(eu.region), leaderRecord: new FakeLeaderStore(null), probe: async () => (++probes < 3 ? 202 : runtime.state?.runlevel === 5 ? 202 : 404), now: clock.now, sleep: clock.sleep },
      2,
      { timeoutMs: 10_000 },
    );
    expect(result).toMatchObject({ pce_fqdn: eu.fqdn, runlevel: 2, previous_runlevel: 5, served: true, status: 'RUNNING' });
  });

  it('refuses runlevel 5 for a dropped PCE (supercluster-rejoin sets it)', async () => {
    const runtime = new FakeRuntimeState();
    await runtime.getOrCreate({ startedAt: 0, runlevel: 2 });
    const drops = new FakeDropTable();
    await drops.store(eu.region).put({ pceFqdn: us.fqdn, dropped: true, changedAt: 1, changedBy: 'op', wasLeader: true });
    await expect(setRunlevel({ pce: us, runtime, drops: drops.store(us.region), leaderRecord: new FakeLeaderStore(null), probe: async () => 404 }, 5, { timeoutMs: 1_000 })).rejects.toThrow(SuperclusterUsageError);
    expect(runtime.state?.runlevel).toBe(2);
  });
});
