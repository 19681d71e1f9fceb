/**
 * The GSLB switch and region fault injection on a running local supercluster, driven with pce-ctl:
 * gslb failover / restore (every PCE serves the switch), local region-down / region-up (the PCE's endpoint
 * goes and comes back with its data), local partition / heal (replication to the region stops and resumes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { switchPath } from '../../shared/supercluster/gslb.ts';
import { sleep } from '../../shared/runtime/sleep.ts';
import { eventually, runCtl, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type ErrorBody = { token: string; message: string }[];

describe('GSLB switch and region faults, end to end', () => {
  let cluster: RunningCluster;
  const ctl = (...args: string[]) => runCtl(args, cluster.stateFile);
  const pce = (i: number) => {
    const p = cluster.state.pces[i];
    if (!p) throw new Error(`no PCE ${i}`);
    return p;
  };
  const switchStatus = async (i: number, fqdn: string) => (await cluster.api(i, 'GET', switchPath(fqdn), undefined, null)).status;
  const everyPceServes = (fqdn: string, status: number) =>
    eventually(async () => (await Promise.all([0, 1, 2].map((i) => switchStatus(i, fqdn)))).every((s) => s === status), 15_000, `every PCE serving ${status} for ${fqdn}`);

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.32.11', port: 18732 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('every PCE serves every PCE\'s switch without an API key: 200, not failed over; 404 for an FQDN that is not a PCE', async () => {
    for (const i of [0, 1, 2]) {
      for (const target of cluster.state.pces) {
        const res = await cluster.api(i, 'GET', switchPath(target.fqdn), undefined, null);
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ pce_fqdn: target.fqdn, failed_over: false, served_by: pce(i).fqdn });
      }
    }
    const unknown = await cluster.api(1, 'GET', switchPath('pce-xx.example.com'), undefined, null);
    expect(unknown.status).toBe(404);
    expect((unknown.json as ErrorBody)[0]?.token).toBe('pce_not_found');
  });

  it('gslb failover <member>: every PCE serves 503 for it; gslb restore: 200 again', async () => {
    const member = pce(1);
    const failed = await ctl('gslb', 'failover', member.fqdn, '--json');
    expect(failed.code, failed.stderr).toBe(0);
    const result = JSON.parse(failed.stdout) as { written_in_region: string; failed_over: boolean; clients_sent_to: string; served_by: { status: number }[]; warnings: string[] };
    // the member's buddy is the leader: written in the leader's region, never the member's own
    expect(result).toMatchObject({ failed_over: true, written_in_region: pce(0).region, clients_sent_to: member.buddy, warnings: [] });
    expect(result.served_by.map((s) => s.status)).toEqual([503, 503]);
    await everyPceServes(member.fqdn, 503);
    const body = (await cluster.api(2, 'GET', switchPath(member.fqdn), undefined, null)).json;
    expect(body).toMatchObject({ pce_fqdn: member.fqdn, failed_over: true, changed_in_region: pce(0).region });
    // the other PCEs are not touched
    expect(await switchStatus(1, pce(2).fqdn)).toBe(200);

    const restored = await ctl('gslb', 'restore', member.fqdn);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/not failed over; written in/);
    await everyPceServes(member.fqdn, 200);
  });

  it('local region-down <member>: its endpoint refuses connections, the others keep serving (and can fail it over); region-up: it serves again with its data', async () => {
    const member = pce(2);
    const label = await cluster.create(0, '/orgs/1/labels', { key: 'role', value: 'e2e-gslb-before-down' });
    await eventually(async () => (await cluster.api(2, 'GET', `/api/v2${label.href}`)).status === 200, 10_000, 'label on the member');

    const down = await ctl('local', 'region-down', member.region);
    expect(down.code, down.stderr).toBe(0);
    await expect(fetch(`${member.url}/api/v2/node_available`)).rejects.toThrow();
    for (const i of [0, 1]) expect((await cluster.api(i, 'GET', '/api/v2/node_available', undefined, null)).status).toBe(202);
    const listed = await ctl('local', 'regions', '--json');
    expect((JSON.parse(listed.stdout) as { region: string; up: boolean }[]).find((r) => r.region === member.region)?.up).toBe(false);

    // the operator fails the down PCE over from a region that is up
    const failed = await ctl('gslb', 'failover', member.fqdn, '--json');
    expect(failed.code, failed.stderr).toBe(0);
    expect(JSON.parse(failed.stdout)).toMatchObject({ written_in_region: pce(1).region });
    for (const i of [0, 1]) expect(await switchStatus(i, member.fqdn)).toBe(503);

    const up = await ctl('local', 'region-up', member.region);
    expect(up.code, up.stderr).toBe(0);
    expect((await cluster.api(2, 'GET', '/api/v2/node_available', undefined, null)).status).toBe(202);
    expect((await cluster.api(2, 'GET', `/api/v2${label.href}`)).json).toMatchObject({ value: 'e2e-gslb-before-down' });
    await everyPceServes(member.fqdn, 503);
    expect((await ctl('gslb', 'restore', member.fqdn)).code).toBe(0);
    await everyPceServes(member.fqdn, 200);
  });

  it("gslb status: the local GSLB's row of every PCE (its checks, switch, where its clients go)", async () => {
    const json = await ctl('gslb', 'status', '--json');
    expect(json.code, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as { failover: string; pces: { fqdn: string; buddy: string; clients_sent_to: string; checks: { node: boolean } }[] };
    expect(status.pces.map((r) => r.fqdn)).toEqual(cluster.state.pces.map((p) => p.fqdn));
    for (const row of status.pces) expect([row.fqdn, row.buddy]).toContain(row.clients_sent_to);
    const text = await ctl('gslb', 'status');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/CLIENTS SENT TO/);
  });

  it('local partition <member>: a leader write does not reach it (its endpoint keeps serving) until local heal', async () => {
    const member = pce(1);
    const partitioned = await ctl('local', 'partition', member.region);
    expect(partitioned.code, partitioned.stderr).toBe(0);
    const label = await cluster.create(0, '/orgs/1/labels', { key: 'role', value: 'e2e-gslb-partitioned' });
    await eventually(async () => (await cluster.api(2, 'GET', `/api/v2${label.href}`)).status === 200, 10_000, 'label on the connected member');
    await sleep(1_000);
    expect((await cluster.api(1, 'GET', `/api/v2${label.href}`)).status).toBe(404);
    expect((await cluster.api(1, 'GET', '/api/v2/node_available', undefined, null)).status).toBe(202);

    const healed = await ctl('local', 'heal', member.region);
    expect(healed.code, healed.stderr).toBe(0);
    await eventually(async () => (await cluster.api(1, 'GET', `/api/v2${label.href}`)).status === 200, 10_000, 'label on the healed member');
  });
});
