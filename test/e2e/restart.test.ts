/**
 * Ctrl-C and `npm start` again on the same data: what was written is still there on every PCE (and what
 * was deleted stays deleted), the leadership moved with pce-ctl stays moved, the API key still works,
 * compiled policy survives, and the pipeline keeps working on the new (empty) queues.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../shared/runtime/sleep.ts';
import { eventually, runCtl, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type Href = { href: string };
type Label = Href & { key: string; value: string };
type Compiled = { policy_version: number; outbound: { peers: string }[]; ip_sets: { id: string; members: string[] }[] };

const ADDRESS = '127.0.10.11';
const PORT = 18443;

describe('restarting the local supercluster on its data', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pce-restart-'));
  let cluster: RunningCluster;
  const ids: Record<string, string> = {};
  let version = 0;

  const post = (pce: number, path: string, body: unknown) => cluster.create(pce, path, body);
  const web1PeersOnEu = async () => {
    const res = await cluster.api(1, 'GET', `/api/v2/orgs/1/workloads/${ids.web1}/compiled_policy`);
    if (res.status !== 200) return null;
    const c = res.json as Compiled;
    return { version: c.policy_version, members: c.ip_sets.find((s) => s.id === c.outbound[0]?.peers)?.members ?? [] };
  };
  const labelValues = async (pce: number) => ((await cluster.api(pce, 'GET', '/api/v2/orgs/1/labels')).json as Label[]).map((l) => l.value).sort();

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: ADDRESS, port: PORT, dataDir });
    const [, eu, ap] = cluster.state.pces.map((p) => p.fqdn);
    const web = (await post(0, '/orgs/1/labels', { key: 'role', value: 'web' })).href;
    const db = (await post(0, '/orgs/1/labels', { key: 'role', value: 'db' })).href;
    const temp = (await post(0, '/orgs/1/labels', { key: 'env', value: 'temp' })).href;
    expect((await cluster.api(0, 'DELETE', `/api/v2${temp}`)).status).toBe(204);
    const workload = async (name: string, role: string, ip: string, pce: string | undefined) =>
      ((await post(0, '/orgs/1/workloads', { name, labels: [{ href: role }], interfaces: [{ name: 'eth0', address: ip }], enforcement_mode: 'full', managing_pce_fqdn: pce })).href as string).split('/').pop() ?? '';
    ids.web1 = await workload('web1', web, '10.1.0.1', eu);
    ids.db1 = await workload('db1', db, '10.1.1.1', ap);
    const ruleSet = (await post(0, '/orgs/1/sec_policy/draft/rule_sets', { name: 'web-to-db', enabled: true, scopes: [[]] })).href;
    await post(0, `${ruleSet}/sec_rules`, {
      enabled: true,
      providers: [{ label: { href: db } }],
      consumers: [{ label: { href: web } }],
      ingress_services: [{ port: 5432, proto: 6 }],
      resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] },
    });
    version = ((await post(0, '/orgs/1/sec_policy', { update_description: 'before restart' })) as { version: number } & Href).version;
    await eventually(async () => (await web1PeersOnEu())?.version === version, 30_000, 'web1 compiled on the eu PCE');
    // members have seen the delete before the stop
    await eventually(async () => !(await labelValues(2)).includes('temp'), 15_000, 'the deleted label gone on the ap PCE');

    const moved = await runCtl(['supercluster-assign-leader', eu ?? ''], cluster.stateFile);
    expect(moved.code, moved.stderr).toBe(0);

    const stopped = await cluster.stop({ keepData: true });
    expect(stopped.code).toBe(0);
    cluster = await startCluster({ firstAddress: ADDRESS, port: PORT, dataDir });
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the org, the API key and the leadership moved before the stop', async () => {
    expect(cluster.state.pces.map((p) => p.role)).toEqual(['member', 'leader', 'member']);
    expect((await cluster.api(1, 'GET', '/api/v2/supercluster/leader', undefined, null)).status).toBe(202);
    expect((await cluster.api(0, 'GET', '/api/v2/supercluster/leader', undefined, null)).status).toBe(404);
    expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'loc', value: 'x' })).status).toBe(403);
  });

  it('serves the same labels on every PCE, and a label deleted before the stop does not come back', async () => {
    for (let round = 0; round < 3; round++) {
      for (const pce of [0, 1, 2]) expect(await labelValues(pce)).toEqual(['db', 'web']);
      await sleep(500);
    }
  });

  it('keeps the compiled policy, and recomputes on the new queues after a change', async () => {
    expect(await web1PeersOnEu()).toEqual({ version, members: ['10.1.1.1'] });
    const put = await cluster.api(1, 'PUT', `/api/v2/orgs/1/workloads/${ids.db1}`, { interfaces: [{ name: 'eth0', address: '10.1.1.9' }] });
    expect(put.status).toBe(204);
    await eventually(async () => JSON.stringify((await web1PeersOnEu())?.members) === JSON.stringify(['10.1.1.9']), 20_000, "web1's set to take db1's new address");
  });
});
