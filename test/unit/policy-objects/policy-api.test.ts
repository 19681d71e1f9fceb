/** The versioned policy API through the real middy handler (auth, leader gate, router, errors) over fakes. */
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { policyRoutes } from '../../../lambdas/api/routes/policy.ts';
import { generateApiKey, type ApiKeyRecord } from '../../../shared/auth/api-keys.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { PolicyCompiler } from '../../../shared/policy/compiler/index.ts';
import { toPolicySnapshot } from '../../../shared/policy/snapshot/to-policy-snapshot.ts';
import { DEFAULT_IP_LIST_NAME, DEFAULT_SERVICE_NAME } from '../../../shared/policy/objects/defaults.ts';
import { initializeSupercluster } from '../../../shared/supercluster/bootstrap.ts';
import { FakeIdentityStore } from '../../helpers/identity-fakes.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import type { MembershipStore, PceMember } from '../../../shared/supercluster/membership.ts';
import { testConfig } from '../../helpers/config.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeApiKeyStore, FakeDirectory, FakeLabelStore, FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakePolicyStore, FakeServiceBindingStore, fakePolicyApi } from '../../helpers/policy-fakes.ts';
import { coreApiDeps } from '../../helpers/api-deps.ts';
import { FakeJobStore } from '../../helpers/workload-fakes.ts';

const config = testConfig();
const [us, eu] = config.pces;
const P = '/api/v2/orgs/1/sec_policy';

type Body = Record<string, unknown> & { href: string };
interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | number | boolean>;
}

class FakeMembership implements MembershipStore {
  members: PceMember[] = [];
  async list() {
    return this.members;
  }
  async addIfAbsent(m: PceMember) {
    if (!this.members.some((x) => x.fqdn === m.fqdn)) this.members.push(m);
  }
}

describe('policy API (fakes)', () => {
  let leaderStore: FakeLeaderStore;
  let labels: FakeLabelStore;
  let policyStore: FakePolicyStore;
  let bindingStore: FakeServiceBindingStore;
  let keys: FakeApiKeyStore;
  let auth: { username: string; secret: string };
  let keyRecord: ApiKeyRecord;
  let clock: number;

  function pce(region: string) {
    const core = coreApiDeps({ config, region, leaderStore, apiKeys: keys, labels });
    const { leader } = core;
    const policy = fakePolicyApi(leader, policyStore, labels, () => ++clock, bindingStore);
    const handler = createApiHandler({ ...core, policy });
    const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
      const res = await handler(httpEvent(method, path, { auth, ...(body === undefined ? {} : { body }) }), lambdaContext());
      return { status: res.statusCode ?? 0, body: res.body ? (JSON.parse(res.body) as unknown) : null, headers: res.headers ?? {} };
    };
    return { call, policy, leader };
  }

  let leaderPce: ReturnType<typeof pce>;
  let memberPce: ReturnType<typeof pce>;
  const onLeader = (method: string, path: string, body?: unknown) => leaderPce.call(method, path, body);
  const onMember = (method: string, path: string, body?: unknown) => memberPce.call(method, path, body);
  const created = async (path: string, body: unknown): Promise<Body> => {
    const res = await onLeader('POST', path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as Body;
  };
  const tokens = (res: Answer) => (res.body as { token: string }[]).map((e) => e.token);
  const api = (href: string) => `/api/v2${href}`;
  /** a POST on the leader answered 406 with these tokens */
  const refused = async (path: string, body: unknown, expected: string[]) => {
    const res = await onLeader('POST', path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(406);
    expect([...new Set(tokens(res))].sort()).toEqual([...expected].sort());
  };

  beforeEach(async () => {
    clock = 1_700_000_000_000;
    leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: us?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    labels = new FakeLabelStore(leaderStore);
    policyStore = new FakePolicyStore(leaderStore);
    bindingStore = new FakeServiceBindingStore();
    keys = new FakeApiKeyStore();
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    keyRecord = key.record;
    await keys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    leaderPce = pce('us-east-1');
    memberPce = pce('eu-west-1');
    await leaderPce.policy.provisioning.ensureDefaultPolicy({ orgId: 1, fence: { region: 'us-east-1', epoch: 1 }, now: clock });
  });

  async function label(key: string, value: string): Promise<string> {
    return (await created('/api/v2/orgs/1/labels', { key, value })).href;
  }

  it('bootstrap provisions the default IP list and service as version 1, once', async () => {
    const ipl = await onMember('GET', `${P}/active/ip_lists?name=${encodeURIComponent('Any (0.0.0.0')}`);
    expect(ipl.body).toMatchObject([{ href: '/orgs/1/sec_policy/active/ip_lists/1', name: DEFAULT_IP_LIST_NAME, ip_ranges: [{ from_ip: '0.0.0.0/0', exclusion: false }, { from_ip: '::/0', exclusion: false }] }]);
    const svc = await onMember('GET', `${P}/draft/services?name=All%20Services`);
    expect(svc.body).toMatchObject([{ href: '/orgs/1/sec_policy/draft/services/1', name: DEFAULT_SERVICE_NAME, service_ports: [{ proto: -1 }], update_type: null }]);
    const versions = await onMember('GET', P);
    expect(versions.headers['x-total-count']).toBe('1');
    expect(versions.body).toMatchObject([{ href: '/orgs/1/sec_policy/1', version: 1, commit_message: 'Default policy objects', object_counts: { ip_lists: 1, services: 1, label_groups: 0, rule_sets: 0, enforcement_boundaries: 0, virtual_services: 0 }, workloads_affected: null }]);
    expect(await leaderPce.policy.provisioning.ensureDefaultPolicy({ orgId: 1, fence: { region: 'us-east-1', epoch: 1 }, now: clock })).toEqual({ version: 1, created: false });
    expect((await onLeader('GET', `${P}/pending`)).body).toEqual({ label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] });
    for (const [method, path] of [['PUT', `${P}/draft/ip_lists/1`], ['DELETE', `${P}/draft/services/1`]] as const) {
      const res = await onLeader(method, path, method === 'PUT' ? { name: 'mine' } : undefined);
      expect(res.status).toBe(406);
      expect(tokens(res)).toEqual(['object_read_only']);
    }
  });

  it('initializeSupercluster creates the default policy (and re-runs as a no-op)', async () => {
    const freshLeader = new FakeLeaderStore();
    const freshPolicy = new FakePolicyStore(freshLeader);
    const provisioning = fakePolicyApi(new LeaderView(freshLeader, 'us-east-1', 0), freshPolicy, new FakeLabelStore(freshLeader)).provisioning;
    const deps = { config, leader: freshLeader, membership: new FakeMembership(), directory: new FakeDirectory(), apiKeys: new FakeApiKeyStore(), identity: new FakeIdentityStore(), policy: provisioning, now: () => 5 };
    await initializeSupercluster(deps, { apiKey: 'none' });
    await initializeSupercluster(deps, { apiKey: 'none' });
    expect((await freshPolicy.listVersions(config.org_id)).map((v) => v.version)).toEqual([1]);
    expect((await freshPolicy.getActive(config.org_id))?.snapshot.ipLists).toEqual([{ id: 1, ipRanges: [{ fromIp: '0.0.0.0/0', exclusion: false }, { fromIp: '::/0', exclusion: false }] }]);
  });

  it('refuses every policy write on a member with 403 naming the leader, and writes nothing', async () => {
    const web = await label('role', 'web');
    const lg = await created(`${P}/draft/label_groups`, { name: 'lg', key: 'role', labels: [{ href: web }] });
    const rs = await created(`${P}/draft/rule_sets`, { name: 'rs' });
    const rule = await created(`${api(rs.href)}/sec_rules`, { providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ proto: 6, port: 22 }] });
    await onLeader('POST', P, {});
    const writes: [string, string, unknown][] = [];
    for (const type of ['label_groups', 'services', 'ip_lists', 'rule_sets']) {
      writes.push(['POST', `${P}/draft/${type}`, { name: 'x' }], ['PUT', `${P}/draft/${type}/1`, { name: 'y' }], ['DELETE', `${P}/draft/${type}/1`, undefined]);
    }
    writes.push(['PUT', api(lg.href), { name: 'z' }], ['POST', `${api(rs.href)}/sec_rules`, {}], ['PUT', api(rule.href), { enabled: false }], ['DELETE', api(rule.href), undefined], ['POST', P, {}]);
    for (const [method, path, body] of writes) {
      const res = await onMember(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body).toMatchObject([{ token: 'supercluster_member_read_only', message: expect.stringContaining(us?.fqdn ?? '?') }]);
    }
    expect((await onLeader('GET', `${P}/pending`)).body).toEqual({ label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] });
    expect((await onMember('GET', P)).headers['x-total-count']).toBe('2');
  });

  it('drafts, pending, provision, active: the whole cycle, readable on a member', async () => {
    const web = await label('role', 'web');
    const prod = await label('env', 'prod');
    const lg = await created(`${P}/draft/label_groups`, { name: 'LG web', key: 'role', labels: [{ href: web, key: 'role', value: 'web' }], external_data_set: 'tf', external_data_reference: 'lg1' });
    expect(lg).toMatchObject({ href: expect.stringMatching(/^\/orgs\/1\/sec_policy\/draft\/label_groups\/\d+$/), key: 'role', labels: [{ href: web }], sub_groups: [], update_type: 'create' });
    const svc = await created(`${P}/draft/services`, { name: 'S-HTTPS', service_ports: [{ port: 443, proto: 6 }, { port: 8000, to_port: 8080, proto: 6 }] });
    const ipl = await created(`${P}/draft/ip_lists`, { name: 'Corp', ip_ranges: [{ from_ip: '10.0.0.0/8' }, { from_ip: '10.0.0.1', to_ip: '10.0.0.9', description: 'lab', exclusion: true }], fqdns: [{ fqdn: 'corp.example.com' }] });
    const rs = await created(`${P}/draft/rule_sets`, { name: 'RS web', scopes: [[{ label: { href: prod } }]] });
    const rule = await created(`${api(rs.href)}/sec_rules`, {
      providers: [{ label_group: { href: lg.href } }],
      consumers: [{ ip_list: { href: ipl.href } }, { actors: 'ams' }],
      ingress_services: [{ href: svc.href }, { proto: 17, port: 53 }],
      sec_connect: false,
      network_type: 'brn',
    });
    expect(rule).toMatchObject({ href: expect.stringMatching(new RegExp(`^${rs.href}/sec_rules/\\d+$`)), update_type: 'create', resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] }, unscoped_consumers: false });

    const draftRs = await onMember('GET', api(rs.href));
    expect(draftRs.body).toMatchObject({ name: 'RS web', enabled: true, scopes: [[{ label: { href: prod } }]], rules: [{ href: rule.href, ingress_services: [{ href: svc.href }, { port: 53, proto: 17 }] }] });
    expect((await onMember('GET', api(rs.href.replace('/draft/', '/active/')))).status).toBe(404);
    const pending = (await onMember('GET', `${P}/pending`)).body as Record<string, { href: string; update_type: string }[]>;
    expect(Object.fromEntries(Object.entries(pending).map(([k, v]) => [k, v.map((c) => c.update_type)]))).toEqual({ label_groups: ['create'], services: ['create'], ip_lists: ['create'], rule_sets: ['create'], enforcement_boundaries: [], virtual_services: [] });

    const provisioned = await onLeader('POST', P, { update_description: 'first rules' });
    expect(provisioned.status).toBe(201);
    expect(provisioned.body).toMatchObject({ href: '/orgs/1/sec_policy/2', version: 2, commit_message: 'first rules', object_counts: { label_groups: 1, services: 2, ip_lists: 2, rule_sets: 1 }, workloads_affected: null });
    expect((await onLeader('POST', P, { update_description: 'again' })).body).toMatchObject([{ token: 'nothing_to_provision' }]);

    const activeRs = (await onMember('GET', api(rs.href.replace('/draft/', '/active/')))).body as Body;
    expect(activeRs).not.toHaveProperty('update_type');
    expect(activeRs).toMatchObject({ rules: [{ href: rule.href.replace('/draft/', '/active/'), providers: [{ label_group: { href: lg.href.replace('/draft/', '/active/') } }] }] });
    expect((await onMember('GET', `${api(rs.href.replace('/draft/', '/active/'))}/sec_rules`)).headers['x-total-count']).toBe('1');
    expect((await onMember('GET', `${P}/draft/label_groups?external_data_set=tf`)).body).toMatchObject([{ href: lg.href, update_type: null }]);
    expect((await onMember('GET', `${P}/2`)).body).toMatchObject({ version: 2 });
    expect((await onMember('GET', `${P}/9`)).status).toBe(404);
    const snapshot = await policyStore.getActive(1);
    expect(snapshot?.snapshot.ruleSets[0]?.rules[0]?.consumers).toEqual([{ kind: 'ip_list', id: Number(ipl.href.split('/').pop()) }, { kind: 'ams' }]);

    // update (204) and delete (204) show as pending until provisioned
    expect((await onLeader('PUT', api(svc.href), { service_ports: [{ port: 8443, proto: 6 }] })).status).toBe(204);
    expect((await onLeader('PUT', api(rule.href), { enabled: false })).status).toBe(204);
    expect((await onMember('GET', api(rule.href))).body).toMatchObject({ enabled: false, update_type: 'update' });
    expect((await onLeader('DELETE', api(rule.href))).status).toBe(204);
    expect((await onLeader('GET', api(rule.href))).status).toBe(404);
    expect((await onLeader('DELETE', api(ipl.href))).status).toBe(204);
    expect((await onLeader('GET', api(ipl.href))).status).toBe(404);
    expect((await onLeader('GET', api(ipl.href.replace('/draft/', '/active/')))).status).toBe(200);
    const pending2 = (await onLeader('GET', `${P}/pending`)).body as Record<string, { href: string; update_type: string }[]>;
    expect(pending2.services).toMatchObject([{ href: svc.href, update_type: 'update' }]);
    expect(pending2.ip_lists).toMatchObject([{ href: ipl.href, update_type: 'delete' }]);
    expect(pending2.rule_sets).toMatchObject([{ href: rs.href, update_type: 'update' }]);
    expect((await onLeader('POST', P, {})).status).toBe(201);
    expect((await onLeader('GET', api(ipl.href.replace('/draft/', '/active/')))).status).toBe(404);
  });

  it('answers 406 with a token per bad input', async () => {
    const web = await label('role', 'web');
    const prod = await label('env', 'prod');
    const expect406 = async (path: string, body: unknown, expected: string[], method = 'POST') => {
      const res = await onLeader(method, path, body);
      expect(res.status, JSON.stringify(res.body)).toBe(406);
      expect(tokens(res).sort()).toEqual([...expected].sort());
    };
    await expect406(`${P}/draft/label_groups`, { name: 'lg', key: 'role', labels: [{ href: '/orgs/1/labels/424242' }, { href: prod }] }, ['label_not_found', 'label_key_mismatch']);
    await expect406(`${P}/draft/label_groups`, { name: 'lg', key: 'colour' }, ['input_validation_error']);
    // shape errors first: the semantic checks run once the body parses
    await expect406(`${P}/draft/services`, { name: 's', service_ports: [{ proto: 6, port: 90, to_port: 80 }, { proto: 999 }] }, ['input_validation_error']);
    await expect406(`${P}/draft/services`, { name: 's', service_ports: [{ proto: 6, port: 90, to_port: 80 }, { proto: 1, port: 8 }] }, ['invalid_service_port', 'invalid_service_port']);
    await expect406(`${P}/draft/ip_lists`, { name: 'i', ip_ranges: [{ from_ip: '10.0.0.256' }, { from_ip: '10.0.0.0/33' }, { from_ip: '10.0.0.9', to_ip: '10.0.0.1' }] }, ['invalid_ip_address', 'invalid_ip_address', 'invalid_ip_range']);
    await expect406(`${P}/draft/rule_sets`, { name: 'r', scopes: [[{ label: { href: web } }, { label: { href: web } }]] }, ['scope_key_conflict']);
    const rs = await created(`${P}/draft/rule_sets`, { name: 'r' });
    await expect406(`${api(rs.href)}/sec_rules`, { providers: [], consumers: [{ actors: 'ams' }], ingress_services: [{ proto: 6, port: 22 }] }, ['input_validation_error']);
    await expect406(`${api(rs.href)}/sec_rules`, { providers: [{ actors: 'ams' }], consumers: [{ label_group: { href: `${P.slice(7)}/draft/label_groups/77` } }], ingress_services: [{ href: '/orgs/1/sec_policy/draft/services/78' }] }, [
      'label_group_not_found',
      'service_not_found',
    ]);
    await expect406(`${P}/draft/rule_sets`, { name: 'R' }, ['name_in_use']);
    const shape = await onLeader('POST', `${P}/draft/rule_sets`, { name: 'x', enabled: 'yes', colour: 1 });
    expect(shape.status).toBe(406);
    const entries = shape.body as { token: string; message: string }[];
    expect(entries.map((e) => e.message.split(/[: ]/)[0]).sort()).toEqual(['colour', 'enabled']);
    // a wrong type is reported as invalid, not as missing
    expect(entries.find((e) => e.message.startsWith('enabled'))?.token).toBe('input_validation_error');

    // delete of an object a draft rule uses
    const svc = await created(`${P}/draft/services`, { name: 'ssh', service_ports: [{ proto: 6, port: 22 }] });
    await created(`${api(rs.href)}/sec_rules`, { providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ href: svc.href }] });
    const inUse = await onLeader('DELETE', api(svc.href));
    expect(inUse.status).toBe(406);
    expect(inUse.body).toMatchObject([{ token: 'object_in_use', message: expect.stringContaining(rs.href) }]);

    // provisioning a rule set without the service it uses
    await expect406(P, { update_description: 'partial', change_subset: { rule_sets: [{ href: rs.href }] } }, ['unprovisioned_dependency']);
    await expect406(P, { change_subset: { services: [{ href: rs.href }, { href: '/orgs/1/sec_policy/draft/services/5555' }] } }, ['invalid_href', 'object_not_found']);
    await expect406(P, { change_subset: { secure_connect_gateways: [{ href: '/orgs/1/sec_policy/draft/secure_connect_gateways/1' }] } }, ['input_validation_error']);
    await expect406(P, { change_subset: { virtual_hosts: [] } }, ['unexpected_property']);
    const ok = await onLeader('POST', P, { change_subset: { rule_sets: [{ href: rs.href }], services: [{ href: svc.href }] } });
    expect(ok.status).toBe(201);
    expect((await onLeader('GET', `${P}/pending`)).body).toEqual({ label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] });
  });

  it('change_subset provisions only the listed objects', async () => {
    const a = await created(`${P}/draft/services`, { name: 'a', service_ports: [{ proto: 6, port: 1 }] });
    await created(`${P}/draft/services`, { name: 'b', service_ports: [{ proto: 6, port: 2 }] });
    const res = await onLeader('POST', P, { update_description: 'only a', change_subset: { services: [{ href: a.href }] } });
    expect(res.body).toMatchObject({ version: 2, object_counts: { services: 2 } });
    expect(((await onLeader('GET', `${P}/active/services`)).body as Body[]).map((s) => s.name)).toEqual(['All Services', 'a']);
    expect(((await onLeader('GET', `${P}/pending`)).body as { services: Body[] }).services.map((s) => s.name)).toEqual(['b']);
    expect((await onLeader('POST', P, { change_subset: {} })).body).toMatchObject([{ token: 'nothing_to_provision' }]);
  });

  it('lists with filters, max_results and X-Total-Count', async () => {
    for (const name of ['web-1', 'web-2', 'db']) await created(`${P}/draft/services`, { name, service_ports: [{ proto: 6 }], external_data_set: name.startsWith('web') ? 'set-a' : null });
    const res = await onMember('GET', `${P}/draft/services?name=WEB&max_results=1`);
    expect(res.headers['x-total-count']).toBe('2');
    expect(res.body).toHaveLength(1);
    expect((await onMember('GET', `${P}/draft/services?external_data_set=set-a&max_results=0`)).headers['x-total-count']).toBe('2');
    expect((await onMember('GET', `${P}/active/services`)).headers['x-total-count']).toBe('1');
    expect((await onLeader('PATCH', `${P}/draft/services`)).status).toBe(405);
    expect((await onLeader('POST', `${P}/active/services`, {})).status).toBe(405);
    expect((await onMember('GET', `${P}/draft/services/abc`)).status).toBe(406);
  });

  it('a leader demoted between the gate and the write is refused by the fence', async () => {
    leaderStore.record = { leaderRegion: 'eu-west-1', leaderFqdn: eu?.fqdn ?? '', epoch: 2, assignedAt: 1, previousLeaderFqdn: us?.fqdn ?? null };
    const res = await onLeader('POST', `${P}/draft/services`, { name: 's', service_ports: [{ proto: 6 }] });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject([{ token: 'supercluster_member_read_only', message: expect.stringContaining(eu?.fqdn ?? '?') }]);
    // the new leader allocates ids of its own epoch
    const onNew = await onMember('POST', `${P}/draft/services`, { name: 's', service_ports: [{ proto: 6 }] });
    expect((onNew.body as Body).href).toBe('/orgs/1/sec_policy/draft/services/2000000001');
  });

  it('answers 503 while the active version is still replicating to this PCE', async () => {
    policyStore.replicating.add('1/1');
    const res = await onMember('GET', `${P}/active/services`);
    expect(res.status).toBe(503);
    expect(tokens(res)).toEqual(['policy_version_replicating']);
    await expect(policyStore.getVersion(1, 1)).rejects.toThrow('not complete');
  });
  it('takes what existing clients send: rule external data, ip_tables_rules echoed on a rule set PUT, the label group key filter', async () => {
    // the Python SDK tags rules like other objects; the Go client echoes the ip_tables_rules a GET showed
    const rs = await created(`${P}/draft/rule_sets`, { name: 'rs', ip_tables_rules: [] });
    const rule = await created(`${api(rs.href)}/sec_rules`, {
      providers: [{ actors: 'ams' }],
      consumers: [{ actors: 'ams' }],
      ingress_services: [{ port: 443, proto: 6 }],
      resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] },
      external_data_set: 'sdk-tests',
      external_data_reference: 'r1',
    });
    expect(rule).toMatchObject({ external_data_set: 'sdk-tests', external_data_reference: 'r1' });
    expect((await onLeader('PUT', api(rule.href), { external_data_reference: 'r2', resolve_labels_as: { providers: ['workloads', 'workloads'], consumers: ['workloads'] } })).status).toBe(204);
    expect((await onMember('GET', api(rule.href))).body).toMatchObject({ external_data_set: 'sdk-tests', external_data_reference: 'r2', resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] } });
    expect((await onMember('GET', api(rs.href))).body).toMatchObject({ ip_tables_rules: [], rules: [{ href: rule.href, external_data_reference: 'r2' }] });
    const { href: _href, created_at: _c, updated_at: _u, created_by: _cb, updated_by: _ub, deleted_at: _d, deleted_by: _db, update_type: _t, rules: _rules, ...echo } = (await onLeader('GET', api(rs.href))).body as Body;
    expect((await onLeader('PUT', api(rs.href), { ...echo, description: 'echoed' })).status).toBe(204);
    const iptables = await onLeader('PUT', api(rs.href), { ip_tables_rules: [{ ip_version: '4', statements: [] }] });
    expect(iptables.status).toBe(406);
    expect(iptables.body).toMatchObject([{ token: 'input_validation_error', message: 'ip_tables_rules: custom iptables rules are not supported' }]);

    const web = await label('role', 'web');
    const prod = await label('env', 'prod');
    await created(`${P}/draft/label_groups`, { name: 'LG roles', key: 'role', labels: [{ href: web }] });
    await created(`${P}/draft/label_groups`, { name: 'LG envs', key: 'env', labels: [{ href: prod }] });
    const byKey = await onMember('GET', `${P}/draft/label_groups?key=env&name=LG`);
    expect(byKey.headers['x-total-count']).toBe('1');
    expect((byKey.body as Body[]).map((g) => g.name)).toEqual(['LG envs']);
    // key is a label group filter only
    expect((await onMember('GET', `${P}/draft/services?key=env`)).headers['x-total-count']).toBe('1');
  });

  it('shows the key and value of a label group\'s labels and the names of its sub-groups, draft and active', async () => {
    const web = await label('role', 'web');
    const db = await label('role', 'db');
    const inner = await created(`${P}/draft/label_groups`, { name: 'LG inner', key: 'role', labels: [{ href: db }] });
    const outer = await created(`${P}/draft/label_groups`, { name: 'LG outer', key: 'role', labels: [{ href: web, key: 'role', value: 'web' }], sub_groups: [{ href: inner.href }] });
    const expected = { labels: [{ href: web, key: 'role', value: 'web' }], sub_groups: [{ href: inner.href, name: 'LG inner' }] };
    expect(outer).toMatchObject(expected);
    expect((await onMember('GET', api(outer.href))).body).toMatchObject(expected);
    expect((await onMember('GET', `${P}/draft/label_groups?name=outer`)).body).toMatchObject([expected]);
    expect((await onMember('GET', api(inner.href))).body).toMatchObject({ labels: [{ href: db, key: 'role', value: 'db' }], sub_groups: [] });
    expect((await onLeader('POST', P, {})).status).toBe(201);
    const active = (await onMember('GET', api(outer.href.replace('/draft/', '/active/')))).body;
    expect(active).toMatchObject({ labels: [{ href: web, key: 'role', value: 'web' }], sub_groups: [{ href: inner.href.replace('/draft/', '/active/'), name: 'LG inner' }] });
  });

  it('refuses IP list exclusions outside the included ranges (an exclusion-only list too), and writes nothing', async () => {
    const only = await onLeader('POST', `${P}/draft/ip_lists`, { name: 'only exclusions', ip_ranges: [{ from_ip: '10.0.0.0/8', exclusion: true }] });
    expect(only.status).toBe(406);
    expect(only.body).toEqual([{ token: 'invalid_ip_range', message: expect.stringContaining('ip_ranges[0]: the exclusion 10.0.0.0/8 is not within the included ranges') }]);
    const ok = await created(`${P}/draft/ip_lists`, { name: 'corp', ip_ranges: [{ from_ip: '192.168.0.0/16' }, { from_ip: '192.168.0.1', exclusion: true }] });
    const outside = await onLeader('PUT', api(ok.href), { ip_ranges: [{ from_ip: '192.168.0.0/16' }, { from_ip: '192.168.0.0', to_ip: '192.169.0.0', exclusion: true }] });
    expect(outside.status).toBe(406);
    expect(tokens(outside)).toEqual(['invalid_ip_range']);
    expect((await onLeader('GET', api(ok.href))).body).toMatchObject({ ip_ranges: [{ from_ip: '192.168.0.0/16' }, { from_ip: '192.168.0.1', exclusion: true }] });
    expect(((await onLeader('GET', `${P}/pending`)).body as { ip_lists: Body[] }).ip_lists.map((c) => c.name)).toEqual(['corp']);
  });

  it('names the entry a reference error is about, once per problem', async () => {
    const rs = await created(`${P}/draft/rule_sets`, { name: 'rs' });
    const bad = await onLeader('POST', `${api(rs.href)}/sec_rules`, {
      providers: [{ actors: 'ams' }, { label: { href: '/orgs/1/labels/404' } }],
      consumers: [{ actors: 'ams' }],
      ingress_services: [{ proto: 6, port: 22 }, { href: '/orgs/1/sec_policy/draft/services/405' }],
    });
    expect((bad.body as { message: string }[]).map((e) => e.message.split(':')[0])).toEqual(['providers[1].label.href', 'ingress_services[1].href']);
    const lg = await created(`${P}/draft/label_groups`, { name: 'lg', key: 'role' });
    const self = await onLeader('PUT', api(lg.href), { sub_groups: [{ href: lg.href }] });
    expect(self.body).toEqual([{ token: 'label_group_cycle', message: 'sub_groups[0].href: a label group cannot contain itself' }]);
  });

  it('answers Prefer: respond-async on object collections with a job when given the job service', async () => {
    const jobs = new JobService({ jobs: new FakeJobStore() });
    const list = policyRoutes(memberPce.policy, jobs).find((r) => r.method === 'GET' && r.path === '/api/v2/orgs/{org}/sec_policy/active/ip_lists');
    if (!list) throw new Error('no route');
    const context = { ...lambdaContext(), principal: keyRecord };
    const res = await list.handler({ ...httpEvent('GET', `${P}/active/ip_lists?name=Any`, { headers: { Prefer: 'respond-async' } }), pathParameters: { org: '1' } }, context);
    expect(res.statusCode).toBe(202);
    const location = String(res.headers?.location);
    const owner = { orgId: 1, userId: keyRecord.userId, authUsername: keyRecord.authUsername };
    const job = await jobs.get(owner, location.split('/').pop() ?? '');
    expect(job).toMatchObject({ status: 'done', jobType: 'ip_lists:get', description: 'GET /api/v2/orgs/1/sec_policy/active/ip_lists?name=Any' });
    const file = await jobs.result(owner, job.resultId ?? '');
    expect(JSON.parse(Buffer.from(file.body).toString('utf8'))).toMatchObject([{ href: '/orgs/1/sec_policy/active/ip_lists/1', name: DEFAULT_IP_LIST_NAME }]);
    // the new families answer it the same way (the Go client switches to async at 500 objects)
    for (const path of ['/api/v2/orgs/{org}/sec_policy/draft/virtual_services', '/api/v2/orgs/{org}/sec_policy/active/enforcement_boundaries', '/api/v2/orgs/{org}/service_bindings']) {
      const route = policyRoutes(memberPce.policy, jobs).find((r) => r.method === 'GET' && r.path === path);
      const concrete = path.replace('{org}', '1');
      expect((await route?.handler({ ...httpEvent('GET', concrete, { headers: { Prefer: 'respond-async' } }), pathParameters: { org: '1' } }, context))?.statusCode, path).toBe(202);
    }
    // without the preference (or without a job service) the answer stays synchronous
    expect((await list.handler({ ...httpEvent('GET', `${P}/active/ip_lists`), pathParameters: { org: '1' } }, context)).statusCode).toBe(200);
  });
  // ---- issue 11: the requests the clients send (fixtures commented with the client file they come from) ----

  it('enforcement boundaries: the Terraform provider creates, reads, updates, provisions and deletes one; bad actors are 406', async () => {
    const db = await label('role', 'db');
    // terraform-provider-illumio-core models/enforcement_boundary.go ToMap (only the actor that is set)
    const eb = await created(`${P}/draft/enforcement_boundaries`, { name: 'eb', consumers: [{ actors: 'ams' }], providers: [{ label: { href: db } }], ingress_services: [{ proto: 6, port: 22, to_port: 23 }] });
    expect(eb).toMatchObject({ href: expect.stringMatching(/^\/orgs\/1\/sec_policy\/draft\/enforcement_boundaries\/\d+$/), update_type: 'create', providers: [{ label: { href: db } }], consumers: [{ actors: 'ams' }], ingress_services: [{ proto: 6, port: 22, to_port: 23 }] });
    // resource_illumio_enforcement_boundary.go Update: name, ingress services, providers, consumers
    const put = await onLeader('PUT', api(eb.href), { name: 'eb2', ingress_services: [{ proto: 6, port: 22 }], providers: [{ label: { href: db } }], consumers: [{ actors: 'ams' }] });
    expect(put.status, JSON.stringify(put.body)).toBe(204);
    expect((await onMember('GET', `${P}/pending`)).body).toMatchObject({ enforcement_boundaries: [{ href: eb.href, name: 'eb2', update_type: 'create' }] });
    const v = await onLeader('POST', P, { update_description: 'eb', change_subset: { enforcement_boundaries: [{ href: eb.href }] } });
    expect(v.status, JSON.stringify(v.body)).toBe(201);
    expect(v.body).toMatchObject({ object_counts: { enforcement_boundaries: 1 } });
    expect((await onMember('GET', api(eb.href.replace('/draft/', '/active/')))).body).toMatchObject({ name: 'eb2', ingress_services: [{ proto: 6, port: 22 }] });
    expect((await onMember('POST', `${P}/draft/enforcement_boundaries`, { name: 'x', consumers: [{ actors: 'ams' }], providers: [{ actors: 'ams' }], ingress_services: [{ proto: 6 }] })).status).toBe(403);
    await refused(`${P}/draft/enforcement_boundaries`, { name: 'w', consumers: [{ workload: { href: '/orgs/1/workloads/8d7f52b1-5b5e-4c8a-9a57-3f0d1c2e4b6a' } }], providers: [{ actors: 'ams' }], ingress_services: [{ proto: 6 }] }, ['input_validation_error']);
    await refused(`${P}/draft/enforcement_boundaries`, { name: 'e', consumers: [{ actors: 'ams' }], providers: [{ actors: 'ams' }], ingress_services: [] }, ['input_validation_error']);
    expect((await onLeader('DELETE', api(eb.href))).status).toBe(204);
    expect((await onLeader('GET', `${P}/pending`)).body).toMatchObject({ enforcement_boundaries: [{ href: eb.href, update_type: 'delete' }] });
  });

  it('virtual services: UUID hrefs, nulls the Terraform provider sends, the filters and bulk_* clients use, 406 for bad input', async () => {
    // terraform-provider-illumio-core models/virtual_service.go (nil slices are null)
    const vs = await created(`${P}/draft/virtual_services`, { name: 'pg', labels: null, service_ports: [{ proto: 6, port: 5432 }], ip_overrides: null, service_addresses: [{ fqdn: 'db.example.com' }, { ip: '10.9.0.1' }], apply_to: 'host_only' });
    expect(vs.href).toMatch(/^\/orgs\/1\/sec_policy\/draft\/virtual_services\/00000000-0000-4000-8000-\d{12}$/);
    expect(vs).toMatchObject({ service_ports: [{ proto: 6, port: 5432 }], service_addresses: [{ fqdn: 'db.example.com' }, { ip: '10.9.0.1' }], labels: [], apply_to: 'host_only', update_type: 'create' });
    expect((await onMember('GET', api(vs.href))).status).toBe(200);
    const names = async (q: string) => ((await onMember('GET', `${P}/draft/virtual_services?${q}`)).body as { name: string }[]).map((o) => o.name);
    expect(await names('service_ports.port=5432')).toEqual(['pg']);
    expect(await names('service_ports.port=80')).toEqual([]);
    expect(await names('service_address.fqdn=example.com')).toEqual(['pg']);
    expect(await names('service_address.fqdn=other')).toEqual([]);
    // bulk_create / bulk_update / bulk_delete: a list in, one result per item out
    const bulk = await onLeader('PUT', `${P}/draft/virtual_services/bulk_create`, [{ name: 'a', service_ports: [{ proto: 17, port: 53 }] }, { name: 'pg', service_ports: [{ proto: 6 }] }]);
    expect(bulk.status).toBe(200);
    expect(bulk.body).toMatchObject([{ href: expect.stringContaining('/virtual_services/'), status: 'created' }, { href: null, status: 'validation_failure', token: 'name_in_use' }]);
    const a = (bulk.body as { href: string }[])[0]?.href ?? '';
    expect((await onLeader('PUT', `${P}/draft/virtual_services/bulk_update`, [{ href: a, description: 'dns' }])).body).toEqual([{ href: a, status: 'updated' }]);
    expect((await onLeader('PUT', `${P}/draft/virtual_services/bulk_delete`, [{ href: a }, { href: '/orgs/1/sec_policy/draft/virtual_services/00000000-0000-4000-8000-000000000999' }])).body).toMatchObject([{ href: a, status: 'deleted' }, { status: 'not_found' }]);
    expect((await onLeader('GET', `${P}/draft/virtual_services/42`)).status).toBe(406);
    await refused(`${P}/draft/virtual_services`, { name: 'both', service_ports: [{ proto: 6 }], service: { href: '/orgs/1/sec_policy/draft/services/1' } }, ['input_validation_error']);
    await refused(`${P}/draft/virtual_services`, { name: 'ip', service_ports: [{ proto: 6 }], service_addresses: [{ ip: 'nope' }] }, ['invalid_ip_address']);
  });

  it('service bindings: the Terraform provider posts a list of one, reads it on a member, deletes it; the binding is recorded in the next version', async () => {
    const vs = await created(`${P}/draft/virtual_services`, { name: 'pg', service_ports: [{ proto: 6, port: 5432 }] });
    const workload = '/orgs/1/workloads/8d7f52b1-5b5e-4c8a-9a57-3f0d1c2e4b6a';
    // terraform-provider-illumio-core models/service_binding.go ToMap: [{virtual_service, workload, port_overrides}]
    const res = await onLeader('POST', '/api/v2/orgs/1/service_bindings', [{ virtual_service: { href: vs.href }, workload: { href: workload }, port_overrides: [] }]);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const href = (res.body as { href: string }[])[0]?.href ?? '';
    expect(href).toMatch(/^\/orgs\/1\/service_bindings\/[0-9a-f-]{36}$/);
    expect((await onMember('GET', api(href))).body).toMatchObject({ href, virtual_service: { href: vs.href.replace('/draft/', '/active/') }, workload: { href: workload }, port_overrides: [] });
    expect((await onMember('GET', `/api/v2/orgs/1/service_bindings?virtual_service=${encodeURIComponent(vs.href)}`)).body).toHaveLength(1);
    expect((await onMember('POST', '/api/v2/orgs/1/service_bindings', [{ virtual_service: { href: vs.href }, workload: { href: workload } }])).status).toBe(403);
    expect(tokens(await onLeader('POST', '/api/v2/orgs/1/service_bindings', [{ virtual_service: { href: vs.href }, workload: { href: workload } }]))).toEqual(['duplicate_service_binding']);
    expect(tokens(await onLeader('POST', '/api/v2/orgs/1/service_bindings', { virtual_service: { href: vs.href }, workload: { href: '/orgs/1/workloads/ffffffff-5b5e-4c8a-9a57-3f0d1c2e4b6a' } }))).toEqual(['workload_not_found']);
    expect((await onLeader('POST', P, { update_description: 'vs' })).status).toBe(201);
    const active = await leaderPce.policy.provisioning.listVersions(1, 1);
    expect(active.items[0]?.objectCounts.virtual_services).toBe(1);
    const snapshot = await policyStore.readActive(1);
    expect(snapshot?.document.serviceBindings).toEqual([{ virtualServiceId: Number(vs.href.slice(-12)), workloadId: '8d7f52b1-5b5e-4c8a-9a57-3f0d1c2e4b6a' }]);
    expect((await onLeader('DELETE', api(href))).status).toBe(204);
    expect((await onLeader('DELETE', api(href))).status).toBe(404);
  });

  it('rules: virtual-service actors without ingress services, resolve_labels_as variants and use_workload_subnets are stored and shown', async () => {
    const web = await label('role', 'web');
    const vs = await created(`${P}/draft/virtual_services`, { name: 'pg', service_ports: [{ proto: 6, port: 5432 }] });
    const rs = await created(`${P}/draft/rule_sets`, { name: 'rs', scopes: [[]] });
    // terraform-provider-illumio-core models/security_rule.go ToMap with a virtual-service provider
    const rule = await created(`${api(rs.href)}/sec_rules`, {
      description: '',
      enabled: true,
      sec_connect: false,
      stateless: false,
      machine_auth: false,
      unscoped_consumers: false,
      external_data_set: null,
      external_data_reference: null,
      consumers: [{ label: { href: web } }],
      providers: [{ virtual_service: { href: vs.href } }],
      resolve_labels_as: { providers: ['virtual_services'], consumers: ['workloads', 'virtual_services'] },
      use_workload_subnets: ['consumers'],
      ingress_services: [],
    });
    expect(rule).toMatchObject({ providers: [{ virtual_service: { href: vs.href } }], ingress_services: [], resolve_labels_as: { providers: ['virtual_services'], consumers: ['workloads', 'virtual_services'] }, use_workload_subnets: ['consumers'] });
    await refused(`${api(rs.href)}/sec_rules`, { providers: [{ label: { href: web } }], consumers: [{ actors: 'ams' }], ingress_services: [] }, ['input_validation_error']);
    await refused(`${api(rs.href)}/sec_rules`, { providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ proto: 6 }], use_workload_subnets: ['both'] }, ['input_validation_error']);
    // the virtual service is a dependency: provisioning the rule set alone is refused
    expect(tokens(await onLeader('POST', P, { change_subset: { rule_sets: [{ href: rs.href }] } }))).toEqual(['unprovisioned_dependency']);
  });
  it('a provisioned enforcement boundary and a rule through a virtual service change the compiled policy of the workloads they name', async () => {
    const web = await label('role', 'web');
    const db = await label('role', 'db');
    const [w1, d1] = ['8d7f52b1-5b5e-4c8a-9a57-000000000001', '8d7f52b1-5b5e-4c8a-9a57-000000000002'];
    const facts = [
      { id: w1, labels: [Number(web.split('/').pop())], ips: ['10.0.0.1'], enforcementMode: 'selective' as const },
      { id: d1, labels: [Number(db.split('/').pop())], ips: ['10.0.0.2'], enforcementMode: 'selective' as const },
    ];
    const compileActive = async () => {
      const active = await policyStore.readActive(1);
      if (!active) throw new Error('no active policy');
      return new PolicyCompiler(toPolicySnapshot(active.document), facts);
    };
    const before = await compileActive();
    await created(`${P}/draft/enforcement_boundaries`, { name: 'eb', consumers: [{ actors: 'ams' }], providers: [{ label: { href: db } }], ingress_services: [{ proto: 6, port: 5432 }] });
    const vs = await created(`${P}/draft/virtual_services`, { name: 'pg', service_ports: [{ proto: 6, port: 5432 }] });
    expect((await onLeader('POST', '/api/v2/orgs/1/service_bindings', [{ virtual_service: { href: vs.href }, workload: { href: `/orgs/1/workloads/${d1}` }, port_overrides: [] }])).status).toBe(201);
    const rs = await created(`${P}/draft/rule_sets`, { name: 'rs', scopes: [[]] });
    await created(`${api(rs.href)}/sec_rules`, { providers: [{ virtual_service: { href: vs.href } }], consumers: [{ label: { href: web } }], ingress_services: [], resolve_labels_as: { providers: ['virtual_services'], consumers: ['workloads'] } });
    expect((await onLeader('POST', P, { update_description: 'eb + vs' })).status).toBe(201);
    const after = await compileActive();
    expect(before.compile(d1)?.inbound).toEqual([]);
    const dbIn = after.compile(d1)?.inbound ?? [];
    expect(dbIn.map((r) => [r.action ?? 'allow', after.ipSet(r.peers).members, r.services])).toEqual(
      expect.arrayContaining([
        ['allow', ['10.0.0.1'], [{ proto: 6, port: 5432 }]],
        ['deny', ['10.0.0.1-10.0.0.2'], [{ proto: 6, port: 5432 }]],
      ]),
    );
    const webOut = after.compile(w1)?.outbound ?? [];
    expect(webOut.map((r) => [r.action ?? 'allow', after.ipSet(r.peers).members])).toEqual(expect.arrayContaining([['allow', ['10.0.0.2']], ['deny', ['10.0.0.2']]]));
    expect(after.compile(w1)?.rulesHash).not.toBe(before.compile(w1)?.rulesHash);
  });

  it('rules: use_workload_subnets as the Terraform provider sends it compiles into the workloads\' interface subnets once provisioned', async () => {
    const [w1, w2] = ['8d7f52b1-5b5e-4c8a-9a57-000000000011', '8d7f52b1-5b5e-4c8a-9a57-000000000012'];
    // toFacts: an interface with a prefix gives its network, one without its address
    const facts = [
      { id: w1, labels: [], ips: ['10.0.0.1'], subnets: ['10.0.0.0/24'], enforcementMode: 'selective' as const },
      { id: w2, labels: [], ips: ['10.0.5.2'], subnets: ['10.0.5.2'], enforcementMode: 'selective' as const },
    ];
    const compileActive = async () => {
      const active = await policyStore.readActive(1);
      if (!active) throw new Error('no active policy');
      return new PolicyCompiler(toPolicySnapshot(active.document), facts);
    };
    const peersOf = (c: PolicyCompiler, dir: 'inbound' | 'outbound') => (c.compile(w1)?.[dir] ?? []).map((r) => c.ipSet(r.peers).members);
    const rs = await created(`${P}/draft/rule_sets`, { name: 'subnets', scopes: [[]] });
    // terraform-provider-illumio-core resource_illumio_security_rule_test.go (useWorkloadSubnets config) through models/security_rule.go
    const rule = await created(`${api(rs.href)}/sec_rules`, {
      enabled: true,
      description: 'Terraform Security Rule test',
      ingress_services: [{ proto: 6, port: 1234 }],
      resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] },
      sec_connect: false,
      stateless: false,
      machine_auth: false,
      providers: [{ actors: 'ams' }],
      consumers: [{ actors: 'ams' }],
      unscoped_consumers: false,
      use_workload_subnets: ['providers', 'consumers'],
    });
    expect(rule).toMatchObject({ use_workload_subnets: ['providers', 'consumers'] });
    expect((await onLeader('POST', P, { update_description: 'subnets' })).status).toBe(201);
    let c = await compileActive();
    expect(peersOf(c, 'inbound')).toEqual([['10.0.0.0-10.0.0.255', '10.0.5.2']]);
    expect(peersOf(c, 'outbound')).toEqual([['10.0.0.0-10.0.0.255', '10.0.5.2']]);
    // the provider's update: the consumers only; a pending change until provisioned
    expect((await onLeader('PUT', api(rule.href), { use_workload_subnets: ['consumers'] })).status).toBe(204);
    expect((await onMember('GET', api(rule.href.replace('/draft/', '/active/')))).body).toMatchObject({ use_workload_subnets: ['providers', 'consumers'] });
    expect((await onLeader('POST', P, { update_description: 'consumers only' })).status).toBe(201);
    c = await compileActive();
    expect(peersOf(c, 'inbound')).toEqual([['10.0.0.0-10.0.0.255', '10.0.5.2']]);
    expect(peersOf(c, 'outbound')).toEqual([['10.0.0.1', '10.0.5.2']]);
    expect((await onLeader('PUT', api(rule.href), { use_workload_subnets: [] })).status).toBe(204);
    expect((await onMember('GET', api(rule.href))).body).toMatchObject({ use_workload_subnets: [] });
  });

  it('rules: label providers resolved as virtual services (resolve_labels_as.providers ["virtual_services"], no ingress services, as the Terraform provider sends them) reach the virtual services with those labels', async () => {
    const web = await label('role', 'web');
    const pg = await label('app', 'pg');
    const [w1, d1] = ['8d7f52b1-5b5e-4c8a-9a57-000000000021', '8d7f52b1-5b5e-4c8a-9a57-000000000022'];
    const facts = [
      { id: w1, labels: [Number(web.split('/').pop())], ips: ['10.0.0.1'], enforcementMode: 'selective' as const },
      { id: d1, labels: [], ips: ['10.0.0.2'], enforcementMode: 'selective' as const },
    ];
    const vs = await created(`${P}/draft/virtual_services`, { name: 'pg', labels: [{ href: pg }], service_ports: [{ proto: 6, port: 5432 }], service_addresses: [{ ip: '10.9.0.1' }] });
    expect((await onLeader('POST', '/api/v2/orgs/1/service_bindings', [{ virtual_service: { href: vs.href }, workload: { href: `/orgs/1/workloads/${d1}` } }])).status).toBe(201);
    const rs = await created(`${P}/draft/rule_sets`, { name: 'by vs labels', scopes: [[]] });
    // resource_illumio_security_rule.go: providers resolved as virtual services only => ingress_services sent empty
    const body = {
      enabled: true,
      resolve_labels_as: { providers: ['virtual_services'], consumers: ['workloads'] },
      sec_connect: false,
      stateless: false,
      machine_auth: false,
      providers: [{ label: { href: pg } }],
      consumers: [{ label: { href: web } }],
      unscoped_consumers: false,
      ingress_services: [],
    };
    expect(await created(`${api(rs.href)}/sec_rules`, body)).toMatchObject({ ingress_services: [], resolve_labels_as: { providers: ['virtual_services'], consumers: ['workloads'] } });
    // label providers resolved as workloads still need services
    await refused(`${api(rs.href)}/sec_rules`, { ...body, resolve_labels_as: { providers: ['workloads', 'virtual_services'], consumers: ['workloads'] } }, ['input_validation_error']);
    expect((await onLeader('POST', P, { update_description: 'vs by labels' })).status).toBe(201);
    const active = await policyStore.readActive(1);
    if (!active) throw new Error('no active policy');
    const c = new PolicyCompiler(toPolicySnapshot(active.document), facts);
    expect((c.compile(w1)?.outbound ?? []).map((r) => [c.ipSet(r.peers).members, r.services])).toEqual([[['10.0.0.2', '10.9.0.1'], [{ proto: 6, port: 5432 }]]]);
    expect((c.compile(d1)?.inbound ?? []).map((r) => [c.ipSet(r.peers).members, r.services])).toEqual([[['10.0.0.1'], [{ proto: 6, port: 5432 }]]]);
  });
});
