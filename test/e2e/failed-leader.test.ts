/**
 * The seed's "Assign New Leader When Leader Has Failed", then its return as a member and a connected handover
 * back, on a local supercluster driven with pce-ctl (docs/failed-leader.md): the leader's region goes down,
 * the survivors go to runlevel 2, a survivor drops it (waiting out its lease), EU is assigned leader (failed
 * mode: after the old lease is provably over, with the report of what may be missing) and takes writes at
 * runlevel 5 while AP keeps serving; the old leader comes back read-only at runlevel 2 until it is rejoined,
 * and a connected assign makes it the leader again. A short lease (6 s) and 1 s probes keep it quick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCtl, runCtlJson, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type ErrorBody = { token: string; message: string }[];
interface HealthEntry {
  fqdn: string;
  status: string;
  runlevel: number | null;
  dropped: boolean;
  type: string;
  notifications: { token: string }[];
}

const US = 'pce-us.supercluster.example.com';
const EU = 'pce-eu.supercluster.example.com';
const AP = 'pce-ap.supercluster.example.com';

describe('failed leader: drop, assign a new leader, rejoin, and hand back', () => {
  let cluster: RunningCluster;
  const ctl = (...args: string[]) => runCtl(args, cluster.stateFile);
  const ctlJson = <T>(...args: string[]): Promise<T> => runCtlJson<T>(args, cluster.stateFile);
  const label = (i: number, value: string) => cluster.api(i, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value });

  beforeAll(async () => {
    cluster = await startCluster({
      firstAddress: '127.0.35.11',
      port: 19035,
      config: { probe_interval_seconds: 1, leader_lease: { duration_seconds: 6, clock_skew_seconds: 1 }, gslb: { ttl_seconds: 2, failure_threshold: 1 } },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs the failed-leader procedure and brings the old leader back as a member, then leader', async () => {
    expect((await eventually(async () => ((await label(0, 'before-failure')).status === 201 ? true : null), 20_000, 'a write on the leader')) === true).toBe(true);

    // the leader fails
    expect((await ctl('local', 'region-down', 'us-east-1')).code).toBe(0);

    // 1. every survivor to runlevel 2: writes 503 naming the runlevel, reads still served
    for (const pce of [EU, AP]) expect(await ctlJson<{ runlevel: number; served: boolean }>('set-runlevel', '2', '--pce', pce)).toMatchObject({ runlevel: 2, served: true });
    const refused = await label(1, 'at-runlevel-2');
    expect(refused.status).toBe(503);
    expect((refused.json as ErrorBody)[0]).toMatchObject({ token: 'runlevel_restricted' });
    expect((refused.json as ErrorBody)[0]?.message).toContain('runlevel 2');
    expect((await cluster.api(2, 'GET', '/api/v2/orgs/1/labels')).status).toBe(200);
    expect(await ctlJson<{ status: string; runlevel: number }>('cluster-status', '--pce', AP)).toMatchObject({ status: 'RUNNING', runlevel: 2 });

    // refusals: the PCE it runs on, an unknown FQDN (exit 2, listing the PCEs)
    const self = await ctl('supercluster-drop', EU, '--pce', EU);
    expect(self.code).toBe(2);
    const unknown = await ctl('supercluster-drop', 'pce-xx.supercluster.example.com');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(US);

    // 2. drop the failed leader on the new leader: recorded, its clients sent to its buddy, its lease waited out
    const dropped = await ctlJson<{ was_leader: boolean; written_in_region: string; gslb: { failed_over: boolean; clients_sent_to: string }; lease: { over_at: string } | null }>('supercluster-drop', US, '--pce', EU);
    expect(dropped).toMatchObject({ was_leader: true, written_in_region: 'eu-west-1', gslb: { failed_over: true, clients_sent_to: EU } });
    if (dropped.lease) expect(Date.parse(dropped.lease.over_at)).toBeLessThan(Date.now());

    // 3. assign the new leader: failed mode, with what may be missing
    const assigned = await ctlJson<{ mode: string; current: { leaderFqdn: string; epoch: number }; missing_writes: { message: string; old_leader_fqdn: string }; lease: { epoch: number } }>('supercluster-assign-leader', EU);
    expect(assigned).toMatchObject({ mode: 'failed', current: { leaderFqdn: EU, epoch: 2 }, missing_writes: { old_leader_fqdn: US }, lease: { epoch: 2 } });
    expect(assigned.missing_writes.message).toMatch(/may not have reached this region yet|no write it acknowledged is missing/);

    // 4. runlevel 5 on the new leader and the member: EU takes writes, AP serves as before
    for (const pce of [EU, AP]) expect((await ctlJson<{ runlevel: number }>('set-runlevel', '5', '--pce', pce)).runlevel).toBe(5);
    const created = await eventually(async () => {
      const res = await label(1, 'on-the-new-leader');
      return res.status === 201 ? res : null;
    }, 20_000, 'a write on the new leader');
    expect(created.status).toBe(201);
    expect((await cluster.api(1, 'GET', '/api/v2/supercluster/leader', undefined, null)).status).toBe(202);
    // a member refuses writes (403); a 503 says "retry after Retry-After" (e.g. request_timeout under load), so it is retried
    const onMember = await eventually(async () => {
      const res = await label(2, 'on-a-member');
      return res.status === 503 ? null : res;
    }, 20_000, 'a member answering a write');
    expect(onMember.status).toBe(403);
    expect((onMember.json as ErrorBody)[0]).toMatchObject({ token: 'supercluster_member_read_only' });
    const apHealth = await eventually(async () => {
      const entries = (await cluster.api(2, 'GET', '/api/v2/health')).json as HealthEntry[];
      const ap = entries.find((e) => e.fqdn === AP);
      return ap?.status === 'normal' ? entries : null;
    }, 20_000, 'AP healthy');
    expect(apHealth.find((e) => e.fqdn === US)).toMatchObject({ dropped: true });
    expect(apHealth.find((e) => e.fqdn === EU)).toMatchObject({ type: 'leader' });
    expect((await cluster.api(2, 'GET', '/api/v2/node_available', undefined, null)).status).toBe(202);

    // 5. the old leader comes back: read-only, at runlevel 2, until it is rejoined
    expect((await ctl('local', 'region-up', 'us-east-1')).code).toBe(0);
    const status = await eventually(async () => {
      const s = await ctlJson<{ runlevel: number; dropped: boolean; role: string }>('cluster-status', '--pce', US);
      return s.runlevel === 2 ? s : null;
    }, 20_000, 'the old leader at runlevel 2');
    expect(status).toMatchObject({ dropped: true, role: 'member' });
    expect([403, 503]).toContain((await label(0, 'on-the-old-leader')).status);
    expect((await cluster.api(0, 'GET', '/api/v2/supercluster/leader', undefined, null)).status).toBe(404);
    expect((await ctl('set-runlevel', '5', '--pce', US)).code).toBe(2);

    // 6. rejoin it, then hand leadership back with the connected procedure
    expect(await ctlJson<{ runlevel: number; was_dropped: boolean; gslb_restored: boolean; serving: boolean }>('supercluster-rejoin', US)).toMatchObject({ runlevel: 5, was_dropped: true, gslb_restored: true, serving: true });
    const back = await ctlJson<{ mode: string; current: { leaderFqdn: string; epoch: number } }>('supercluster-assign-leader', US);
    expect(back).toMatchObject({ mode: 'connected', current: { leaderFqdn: US, epoch: 3 } });
    const again = await eventually(async () => {
      const res = await label(0, 'back-on-the-old-leader');
      return res.status === 201 ? res : null;
    }, 20_000, 'a write on the old leader, leader again');
    expect(again.status).toBe(201);
  }, 300_000);
});
