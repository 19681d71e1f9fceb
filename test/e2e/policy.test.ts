/**
 * Policy end to end on a running local supercluster: write a rule set on the leader, provision, and
 * find the compiled rules on the PCEs that manage the workloads; an IP change updates the peers' IP
 * sets everywhere without changing any rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../infra/local/clients.ts';
import { eventually, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type Compiled = {
  policy_version: number;
  rules_hash: string;
  enforced: boolean;
  default_deny: boolean;
  inbound: { rule_id: number; peers: string; services: { proto: number; port: number | null }[] }[];
  outbound: { rule_id: number; peers: string; services: { proto: number; port: number | null }[] }[];
  ip_sets: { id: string; members: string[] }[];
};

describe('policy compute, end to end', () => {
  let cluster: RunningCluster;
  const ids: Record<string, string> = {};
  let version = 0;

  const post = (pce: number, path: string, body: unknown) => cluster.create(pce, path, body);
  const compiled = async (pce: number, workload: string) => {
    const res = await cluster.api(pce, 'GET', `/api/v2/orgs/1/workloads/${workload}/compiled_policy`);
    return res.status === 200 ? (res.json as Compiled) : null;
  };
  const membersOf = (c: Compiled, set: string | undefined) => c.ip_sets.find((s) => s.id === set)?.members ?? [];

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.4.11', port: 18443 });
    const [us, eu, ap] = cluster.state.pces.map((p) => p.fqdn);
    const web = (await post(0, '/orgs/1/labels', { key: 'role', value: 'web' })).href;
    const db = (await post(0, '/orgs/1/labels', { key: 'role', value: 'db' })).href;
    const prod = (await post(0, '/orgs/1/labels', { key: 'env', value: 'prod' })).href;
    const workload = async (name: string, role: string, ip: string, pce: string | undefined) =>
      ((await post(0, '/orgs/1/workloads', { name, labels: [{ href: role }, { href: prod }], interfaces: [{ name: 'eth0', address: ip }], enforcement_mode: 'full', managing_pce_fqdn: pce })).href as string).split('/').pop() ?? '';
    ids.web1 = await workload('web1', web, '10.0.0.1', eu);
    ids.db1 = await workload('db1', db, '10.0.1.1', ap);
    ids.db2 = await workload('db2', db, '10.0.1.2', us);
    ids.ruleSet = (await post(0, '/orgs/1/sec_policy/draft/rule_sets', { name: 'web-to-db', enabled: true, scopes: [[{ label: { href: prod } }]] })).href;
    await post(0, `${ids.ruleSet}/sec_rules`, {
      enabled: true,
      providers: [{ label: { href: db } }],
      consumers: [{ label: { href: web } }],
      ingress_services: [{ port: 5432, proto: 6 }],
      resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] },
    });
  });

  afterAll(async () => {
    const stopped = await cluster?.stop();
    expect(stopped?.code).toBe(0);
    expect(stopped?.ms).toBeLessThan(10_000);
  });

  it('refuses policy writes on a member with 403', async () => {
    const res = await cluster.api(1, 'POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', { name: 'nope', scopes: [[]] });
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.json)).toContain('supercluster_member_read_only');
    expect((await cluster.api(2, 'POST', '/api/v2/orgs/1/sec_policy', { update_description: 'x' })).status).toBe(403);
  });

  it('provisions on the leader and compiles rules on every PCE that manages an affected workload', async () => {
    const res = await cluster.api(0, 'POST', '/api/v2/orgs/1/sec_policy', { update_description: 'web to db' });
    expect(res.status).toBe(201);
    version = (res.json as { version: number }).version;
    // web1 gains an outbound rule, db1 and db2 an inbound one
    expect((res.json as { workloads_affected: number }).workloads_affected).toBe(3);

    const db1 = await eventually(async () => {
      const c = await compiled(2, ids.db1 ?? '');
      return c?.policy_version === version ? c : null;
    }, 30_000, 'db1 compiled on the ap PCE');
    expect(db1.enforced).toBe(true);
    expect(db1.default_deny).toBe(true);
    expect(db1.inbound).toHaveLength(1);
    expect(db1.inbound[0]?.services).toEqual([{ proto: 6, port: 5432, to_port: null }]);
    expect(membersOf(db1, db1.inbound[0]?.peers)).toEqual(['10.0.0.1']);

    const web1 = await eventually(async () => {
      const c = await compiled(1, ids.web1 ?? '');
      return c?.policy_version === version ? c : null;
    }, 30_000, 'web1 compiled on the eu PCE');
    expect(web1.outbound).toHaveLength(1);
    // adjacent addresses merge into one range (docs/compiled-policy.md)
    expect(membersOf(web1, web1.outbound[0]?.peers)).toEqual(['10.0.1.1-10.0.1.2']);

    await eventually(async () => (await compiled(0, ids.db2 ?? ''))?.policy_version === version, 30_000, 'db2 compiled on the us PCE');
    // a PCE holds compiled policy only for the workloads it manages
    const elsewhere = await cluster.api(1, 'GET', `/api/v2/orgs/1/workloads/${ids.db1}/compiled_policy`);
    expect(elsewhere.status).toBe(404);
  });

  it("updates peers' IP sets, and no rules, when a workload's IP changes", async () => {
    const before = await compiled(1, ids.web1 ?? '');
    const db1Before = await compiled(2, ids.db1 ?? '');
    const put = await cluster.api(0, 'PUT', `/api/v2/orgs/1/workloads/${ids.db2}`, { interfaces: [{ name: 'eth0', address: '10.0.9.9' }] });
    expect(put.status).toBe(204);
    const web1 = await eventually(async () => {
      const c = await compiled(1, ids.web1 ?? '');
      return c && membersOf(c, c.outbound[0]?.peers).includes('10.0.9.9') ? c : null;
    }, 30_000, "web1's outbound set to contain db2's new address");
    expect(membersOf(web1, web1.outbound[0]?.peers)).toEqual(['10.0.1.1', '10.0.9.9']);
    expect(web1.rules_hash).toBe(before?.rules_hash);
    const db1 = await compiled(2, ids.db1 ?? '');
    expect(db1?.rules_hash).toBe(db1Before?.rules_hash);
    expect(membersOf(db1 as Compiled, db1?.inbound[0]?.peers)).toEqual(['10.0.0.1']);
  });

  it('ends with the last address everywhere after a burst of address changes', async () => {
    for (let i = 10; i < 20; i++) {
      const [db2, web1] = await Promise.all([
        cluster.api(0, 'PUT', `/api/v2/orgs/1/workloads/${ids.db2}`, { interfaces: [{ name: 'eth0', address: `10.0.9.${i}` }] }),
        cluster.api(0, 'PUT', `/api/v2/orgs/1/workloads/${ids.web1}`, { interfaces: [{ name: 'eth0', address: `10.0.8.${i}` }] }),
      ]);
      expect([db2.status, web1.status]).toEqual([204, 204]);
    }
    // web1 (eu PCE) sees db2's last address; db1 (ap PCE) sees web1's last address; nothing older stays
    await eventually(async () => {
      const c = await compiled(1, ids.web1 ?? '');
      return c && JSON.stringify(membersOf(c, c.outbound[0]?.peers)) === JSON.stringify(['10.0.1.1', '10.0.9.19']);
    }, 30_000, "web1's outbound set to hold db2's last address");
    await eventually(async () => {
      const c = await compiled(2, ids.db1 ?? '');
      return c && JSON.stringify(membersOf(c, c.inbound[0]?.peers)) === JSON.stringify(['10.0.8.19']);
    }, 30_000, "db1's inbound set to hold web1's last address");
  });

  it('moves a queued job that is not a ComputeJobV1 to the DLQ at once, and /health reports it', async () => {
    const eu = cluster.state.pces[1];
    const sqs = sqsClient(cluster.state.local.sqs, eu?.region ?? '');
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `pce-compute-${eu?.region}.fifo` }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"kind":"bogus"}', MessageGroupId: 'org-1', MessageDeduplicationId: 'bogus-1' }));
    } finally {
      sqs.destroy();
    }
    type Health = { fqdn: string; status: string; notifications: { token: string }[] }[];
    const mine = await eventually(async () => {
      const health = (await cluster.api(1, 'GET', '/api/v2/health')).json as Health;
      const self = health.find((p) => p.fqdn === eu?.fqdn);
      return self?.notifications.some((n) => n.token === 'compute_dead_letters') ? self : null;
    }, 20_000, 'a compute_dead_letters notification on the eu PCE');
    expect(mine.status).toBe('warning');
    // and the org's later jobs are not blocked behind it
    const put = await cluster.api(0, 'PUT', `/api/v2/orgs/1/workloads/${ids.db2}`, { interfaces: [{ name: 'eth0', address: '10.0.9.77' }] });
    expect(put.status).toBe(204);
    await eventually(async () => {
      const c = await compiled(1, ids.web1 ?? '');
      return c && membersOf(c, c.outbound[0]?.peers).includes('10.0.9.77');
    }, 20_000, "web1's set on the eu PCE to take db2's next address");
  });
});
