import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { switchPath } from '../../../shared/supercluster/gslb.ts';
import { GslbSwitchService } from '../../../shared/supercluster/gslb-switch.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { testConfig } from '../../helpers/config.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeApiKeyStore, FakeDirectory, FakeLabelStore, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from '../../helpers/fakes.ts';
import { FakeSwitchTable } from '../../helpers/gslb-fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from '../../helpers/workload-fakes.ts';

const config = testConfig();
const pceAt = (i: number) => {
  const pce = config.pces[i];
  if (!pce) throw new Error(`test config: no PCE ${i}`);
  return pce;
};
const us = pceAt(0);
const eu = pceAt(1);

function api(table: FakeSwitchTable) {
  const leaderStore = new FakeLeaderStore({ leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
  const leader = new LeaderView(leaderStore, eu.region, 0);
  const labels = new FakeLabelStore(leaderStore);
  const switches = new GslbSwitchService({ pceFqdns: config.pces.map((p) => p.fqdn), store: table.store(eu.region), cacheMs: 0 });
  const handler = createApiHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    apiKeys: new FakeApiKeyStore(),
    leader,
    directory: new FakeDirectory(),
    labels: new LabelService({ labels, leader }),
    workloads: new WorkloadService({ workloads: new FakeWorkloadStore(leaderStore), labels, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
    jobs: new JobService({ jobs: new FakeJobStore() }),
    supercluster: new SuperclusterService({ config, pce: eu, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
    gslb: { switches, pceFqdn: eu.fqdn },
  });
  return async (path: string, method = 'GET') => {
    const res = await handler(httpEvent(method, path), lambdaContext());
    return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(String(res.body)) as unknown };
  };
}

describe('GET /api/v2/gslb/switches/{pce_fqdn} (no API key, as a health check calls it)', () => {
  it('answers 200 with failed_over false while the PCE is not failed over', async () => {
    const res = await api(new FakeSwitchTable())(switchPath(us.fqdn));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ pce_fqdn: us.fqdn, failed_over: false, changed_at: null, changed_by: null, changed_in_region: null, served_by: eu.fqdn });
  });

  it('answers 503 with the same shape once failed over (in any region), and 200 again after a newer restore', async () => {
    const table = new FakeSwitchTable();
    const get = api(table);
    await table.store('ap-southeast-1').put({ pceFqdn: us.fqdn, failedOver: true, changedAt: 10, changedBy: 'ops' });
    const failed = await get(switchPath(us.fqdn));
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ pce_fqdn: us.fqdn, failed_over: true, changed_by: 'ops', changed_in_region: 'ap-southeast-1', served_by: eu.fqdn });
    await table.store('eu-west-1').put({ pceFqdn: us.fqdn, failedOver: false, changedAt: 11, changedBy: 'ops' });
    expect((await get(switchPath(us.fqdn))).status).toBe(200);
  });

  it('answers 404 Illumio-style for an FQDN that is not a PCE', async () => {
    const res = await api(new FakeSwitchTable())(switchPath('pce-xx.sc.example.com'));
    expect(res.status).toBe(404);
    expect(res.body).toEqual([{ token: 'pce_not_found', message: expect.stringContaining(us.fqdn) as string }]);
  });

  it('is GET only, and its prefix makes no other path public', async () => {
    const get = api(new FakeSwitchTable());
    // a write on a member: the leader gate refuses it before any route (as for node_available)
    expect((await get(switchPath(us.fqdn), 'POST')).status).toBe(403);
    expect((await get(`${switchPath(us.fqdn)}/x`)).status).toBe(401);
    expect((await get('/api/v2/gslb/switches')).status).toBe(401);
  });
});
