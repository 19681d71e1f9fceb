/**
 * A user's first session: start the supercluster (as `npm start` does), write on the leader, read on the
 * members, get refused on a member, check health, move the leadership with pce-ctl, stop with Ctrl-C.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCtl, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type ErrorBody = { token: string; message: string }[];
type LabelBody = { href: string; key: string; value: string };
type HealthBody = { fqdn: string; type: string; status: string; network: { replication: { value: { lag_seconds: number | null } }[] } }[];

describe('local supercluster, end to end', () => {
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.3.11', port: 18443 });
  });

  afterAll(async () => {
    const stopped = await cluster?.stop();
    // Ctrl-C ends npm start cleanly, without waiting out the SQS library's long-poll timers (took 15 s before)
    expect(stopped?.code).toBe(0);
    expect(stopped?.ms).toBeLessThan(10_000);
  });

  it('writes .local/supercluster.json with the org, key and every PCE', () => {
    const { state } = cluster;
    expect(state.org_id).toBe(1);
    expect(state.api_key.username).toMatch(/^api_[0-9a-f]{16}$/);
    expect(state.pces.map((p) => p.role)).toEqual(['leader', 'member', 'member']);
    expect(state.pces.map((p) => p.url)).toEqual(['http://127.0.3.11:18443', 'http://127.0.3.12:18443', 'http://127.0.3.13:18443']);
    expect(cluster.output()).toMatch(/Supercluster ready in [\d.]+ s/);
  });

  it('answers the health-check endpoints: leader 202, members 404; node_available 202 everywhere', async () => {
    expect((await cluster.api(0, 'GET', '/api/v2/supercluster/leader', undefined, null)).status).toBe(202);
    expect((await cluster.api(1, 'GET', '/api/v2/supercluster/leader', undefined, null)).status).toBe(404);
    expect((await cluster.api(2, 'GET', '/api/v2/supercluster/leader', undefined, null)).status).toBe(404);
    for (const i of [0, 1, 2]) expect((await cluster.api(i, 'GET', '/api/v2/node_available', undefined, null)).status).toBe(202);
  });

  it('replicates a label written on the leader to both members; members refuse writes', async () => {
    const created = await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value: 'e2e-web' });
    expect(created.status).toBe(201);
    const label = created.json as LabelBody;
    for (const member of [1, 2]) {
      const seen = await eventually(async () => {
        const res = await cluster.api(member, 'GET', `/api/v2${label.href}`);
        return res.status === 200 ? (res.json as LabelBody) : null;
      }, 10_000, `label on PCE ${member}`);
      expect(seen).toMatchObject({ key: 'role', value: 'e2e-web', href: label.href });
    }
    const refused = await cluster.api(1, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value: 'e2e-db' });
    expect(refused.status).toBe(403);
    expect((refused.json as ErrorBody)[0]?.token).toBe('supercluster_member_read_only');
    expect((refused.json as ErrorBody)[0]?.message).toContain(cluster.state.pces[0]?.fqdn);
    expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'role' })).status).toBe(406);
    expect((await cluster.api(0, 'GET', '/api/v2/orgs/1/labels', undefined, null)).status).toBe(401);
    const list = await cluster.api(2, 'GET', '/api/v2/orgs/1/labels?key=role&max_results=0');
    expect(list.headers.get('x-total-count')).toBe('1');
  });

  it('answers GET /settings/workloads on every PCE (SDK connection check); members refuse PUT; a leader PUT replicates', async () => {
    for (const i of [0, 1, 2]) {
      const res = await cluster.api(i, 'GET', '/api/v2/orgs/1/settings/workloads');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ href: '/orgs/1/settings/workloads', workload_disconnected_timeout_seconds: [{ scope: [], value: 3600 }] });
    }
    const change = { workload_goodbye_timeout_seconds: [{ scope: [], value: 600 }] };
    const refused = await cluster.api(2, 'PUT', '/api/v2/orgs/1/settings/workloads', change);
    expect(refused.status).toBe(403);
    expect((refused.json as ErrorBody)[0]?.token).toBe('supercluster_member_read_only');
    expect((await cluster.api(0, 'PUT', '/api/v2/orgs/1/settings/workloads', change)).status).toBe(204);
    const seen = await eventually(async () => {
      const res = await cluster.api(1, 'GET', '/api/v2/orgs/1/settings/workloads');
      return (res.json as { workload_goodbye_timeout_seconds: { value: number }[] }).workload_goodbye_timeout_seconds[0]?.value === 600 ? res.json : null;
    }, 10_000, 'workload settings on a member');
    expect(seen).toMatchObject({ workload_disconnected_timeout_seconds: [{ scope: [], value: 3600 }] });
  });

  it('reports every PCE in /health with its type, normal status and a numeric lag', async () => {
    const health = await eventually(async () => {
      const res = await cluster.api(1, 'GET', '/api/v2/health');
      const body = res.json as HealthBody;
      return body.every((p) => p.status === 'normal' && typeof p.network.replication[0]?.value.lag_seconds === 'number') ? body : null;
    }, 30_000, 'normal health everywhere');
    expect(health.map((p) => [p.fqdn, p.type])).toEqual(cluster.state.pces.map((p) => [p.fqdn, p.role]));
  });

  it('moves the leadership with pce-ctl supercluster-assign-leader', async () => {
    const [us, eu] = cluster.state.pces;
    const members = await runCtl(['supercluster-members'], cluster.stateFile);
    expect(members.code).toBe(0);
    expect(members.stdout).toMatch(new RegExp(`${us?.fqdn}\\s+us-east-1\\s+leader`));

    const assigned = await runCtl(['supercluster-assign-leader', eu?.fqdn ?? ''], cluster.stateFile);
    expect(assigned.stderr).toBe('');
    expect(assigned.code).toBe(0);
    expect(assigned.stdout).toContain(`Leader is now ${eu?.fqdn} (epoch 2`);

    await eventually(async () => (await cluster.api(1, 'GET', '/api/v2/supercluster/leader', undefined, null)).status === 202, 5_000, 'new leader 202');
    await eventually(async () => (await cluster.api(0, 'GET', '/api/v2/supercluster/leader', undefined, null)).status === 404, 5_000, 'old leader 404');
    const old = await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'env', value: 'after-handover' });
    expect(old.status).toBe(403);
    expect((old.json as ErrorBody)[0]?.message).toContain(eu?.fqdn);
    const fresh = await cluster.api(1, 'POST', '/api/v2/orgs/1/labels', { key: 'env', value: 'after-handover' });
    expect(fresh.status).toBe(201);
    const login = await cluster.api(1, 'GET', '/api/v2/users/login');
    expect(login.json).toMatchObject({ pce_cluster_type: 'leader' });

    const bad = await runCtl(['supercluster-assign-leader', 'nope.example.com'], cluster.stateFile);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('nope.example.com is not a PCE of this supercluster');
  });
});
