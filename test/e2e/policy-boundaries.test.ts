/**
 * Enforcement boundaries and virtual services end to end on a running local supercluster (issue 11):
 * the requests are the ones the Terraform provider sends (illumio/terraform-provider-illumio-core:
 * models/enforcement_boundary.go ToMap, models/virtual_service.go, models/service_binding.go ToMap (a list
 * of one), models/security_rule.go ToMap). A provisioned boundary and a rule through a virtual service
 * change the compiled policy of the affected workloads on the PCE that manages each of them.
 */
import { mkdtempSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type Rule = { rule_id: number; peers: string; services: { proto: number; port: number | null }[]; action?: 'deny' };
type Compiled = { policy_version: number; enforcement_mode: string; inbound: Rule[]; outbound: Rule[]; ip_sets: { id: string; members: string[] }[] };

describe('enforcement boundaries and virtual services, end to end', () => {
  let cluster: RunningCluster;
  const ids: Record<string, string> = {};

  const post = (pce: number, path: string, body: unknown) => cluster.create(pce, path, body);
  const compiled = async (pce: number, workload: string) => {
    const res = await cluster.api(pce, 'GET', `/api/v2/orgs/1/workloads/${workload}/compiled_policy`);
    return res.status === 200 ? (res.json as Compiled) : null;
  };
  const membersOf = (c: Compiled, set: string | undefined) => c.ip_sets.find((s) => s.id === set)?.members ?? [];
  const provision = async (message: string): Promise<number> => {
    const res = await cluster.api(0, 'POST', '/api/v2/orgs/1/sec_policy', { update_description: message });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return (res.json as { version: number }).version;
  };
  const at = async (pce: number, workload: string, version: number, what: string) =>
    eventually(async () => {
      const c = await compiled(pce, workload);
      return c && c.policy_version >= version ? c : null;
    }, 60_000, what);

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.64.11', port: 19964, dataDir: mkdtempSync('/tmp/clientspolicy-e2e-') });
    const [us, eu, ap] = cluster.state.pces.map((p) => p.fqdn);
    ids.web = (await post(0, '/orgs/1/labels', { key: 'role', value: 'web' })).href;
    ids.db = (await post(0, '/orgs/1/labels', { key: 'role', value: 'db' })).href;
    ids.admin = (await post(0, '/orgs/1/labels', { key: 'role', value: 'admin' })).href;
    const workload = async (name: string, role: string | undefined, ip: string, pce: string | undefined) =>
      ((await post(0, '/orgs/1/workloads', { name, labels: [{ href: role }], interfaces: [{ name: 'eth0', address: ip }], enforcement_mode: 'selective', managing_pce_fqdn: pce })).href as string).split('/').pop() ?? '';
    ids.db1 = await workload('db1', ids.db, '10.1.0.1', eu);
    ids.web1 = await workload('web1', ids.web, '10.1.1.1', us);
    ids.admin1 = await workload('admin1', ids.admin, '10.1.2.1', ap);
  });

  afterAll(async () => {
    const stopped = await cluster?.stop();
    expect(stopped?.code).toBe(0);
  });

  it('compiles a provisioned enforcement boundary into deny rules on the PCEs that manage its providers and consumers', async () => {
    // models/enforcement_boundary.go ToMap: only the actor that is set, ingress services as given
    const boundary = await post(0, '/orgs/1/sec_policy/draft/enforcement_boundaries', {
      name: 'no-db-from-anywhere',
      consumers: [{ actors: 'ams' }],
      providers: [{ label: { href: ids.db } }],
      ingress_services: [{ proto: 6, port: 5432 }],
    });
    expect(boundary.href).toMatch(/^\/orgs\/1\/sec_policy\/draft\/enforcement_boundaries\/\d+$/);
    const pending = await cluster.api(0, 'GET', '/api/v2/orgs/1/sec_policy/pending');
    expect((pending.json as Record<string, { href: string }[]>).enforcement_boundaries).toEqual([expect.objectContaining({ href: boundary.href, update_type: 'create' })]);
    const version = await provision('boundary');
    // read on a member: the provisioned version reaches it by replication
    const active = await eventually(async () => {
      const res = await cluster.api(1, 'GET', `/api/v2${boundary.href.replace('/draft/', '/active/')}`);
      return res.status === 200 ? res : null;
    }, 60_000, 'the active boundary on a member');
    expect(active.status).toBe(200);

    const db1 = await at(1, ids.db1 ?? '', version, 'db1 compiled on the eu PCE');
    const deny = db1.inbound.find((r) => r.action === 'deny');
    expect(deny?.services).toEqual([{ proto: 6, port: 5432, to_port: null }]);
    expect(membersOf(db1, deny?.peers)).toEqual(['10.1.0.1', '10.1.1.1', '10.1.2.1']);
    const web1 = await at(0, ids.web1 ?? '', version, 'web1 compiled on the us PCE');
    expect(web1.outbound.filter((r) => r.action === 'deny').map((r) => membersOf(web1, r.peers))).toEqual([['10.1.0.1']]);
    const admin1 = await at(2, ids.admin1 ?? '', version, 'admin1 compiled on the ap PCE');
    expect(admin1.outbound.filter((r) => r.action === 'deny')).toHaveLength(1);
  });

  it('compiles a rule through a virtual service into allow rules for its bound workload and the consumers', async () => {
    // models/virtual_service.go: labels, ip_overrides and service_addresses are nil slices (null) when not set
    const vs = await post(0, '/orgs/1/sec_policy/draft/virtual_services', { name: 'postgres', labels: null, service_ports: [{ proto: 6, port: 5432 }], ip_overrides: null, service_addresses: null });
    expect(vs.href).toMatch(/^\/orgs\/1\/sec_policy\/draft\/virtual_services\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // models/service_binding.go ToMap: a list of one binding
    const bind = await cluster.api(0, 'POST', '/api/v2/orgs/1/service_bindings', [{ virtual_service: { href: vs.href }, workload: { href: `/orgs/1/workloads/${ids.db1}` }, port_overrides: [] }]);
    expect(bind.status, JSON.stringify(bind.json)).toBe(201);
    const bindingHref = (bind.json as { href: string }[])[0]?.href ?? '';
    // the member reads the binding once it has replicated (the leader wrote it a moment ago)
    await eventually(async () => (await cluster.api(2, 'GET', `/api/v2${bindingHref}`)).status === 200, 60_000, 'the binding on a member');
    const ruleSet = await post(0, '/orgs/1/sec_policy/draft/rule_sets', { name: 'web-to-postgres', scopes: [[]] });
    // models/security_rule.go ToMap: a virtual-service provider, no ingress services
    const rule = await cluster.api(0, 'POST', `/api/v2${ruleSet.href}/sec_rules`, {
      description: '',
      enabled: true,
      sec_connect: false,
      stateless: false,
      machine_auth: false,
      unscoped_consumers: false,
      external_data_set: null,
      external_data_reference: null,
      consumers: [{ label: { href: ids.web } }],
      providers: [{ virtual_service: { href: vs.href } }],
      resolve_labels_as: { providers: ['virtual_services'], consumers: ['workloads'] },
      ingress_services: [],
    });
    expect(rule.status, JSON.stringify(rule.json)).toBe(201);
    const version = await provision('web to postgres');

    const web1 = await at(0, ids.web1 ?? '', version, 'web1 compiled with the virtual service rule');
    const allow = web1.outbound.find((r) => r.action === undefined);
    expect(allow?.services).toEqual([{ proto: 6, port: 5432, to_port: null }]);
    expect(membersOf(web1, allow?.peers)).toEqual(['10.1.0.1']);
    const db1 = await at(1, ids.db1 ?? '', version, 'db1 compiled with the virtual service rule');
    // the allow rule comes first for the VEN; the boundary still denies admin1
    const inboundAllow = db1.inbound.find((r) => r.action === undefined);
    expect(membersOf(db1, inboundAllow?.peers)).toEqual(['10.1.1.1']);
    expect(db1.inbound.some((r) => r.action === 'deny')).toBe(true);
  });
});
