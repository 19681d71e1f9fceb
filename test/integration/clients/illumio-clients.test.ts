/**
 * The public Illumio clients' calls, replayed byte for byte (method, path, query, body, headers) against the
 * API handler wired as a PCE is (lambdas/wiring.ts buildPce) over DynamoDB Local: the request fixtures below are
 * taken from the clients' code, each named with its file. docs/illumio-clients.md lists what each shows.
 *   - brian1917/illumioapi (Go): http.go (async: `Prefer: respond-async`, poll `Location` until `done`, GET
 *     `result.href`), labeldimensions.go, containercluster.go, labels.go;
 *   - illumio/illumio-py: pce.py (`get_collection`/`get_async`: `Prefer: respond-async`, `Retry-After`,
 *     `get_all`: `max_results=0` then X-Total-Count) and its container workload profile integration test fixture;
 *   - illumio/terraform-provider-illumio-core: models/label_type.go, models/container_cluster.go,
 *     models/container_cluster_workload_profile.go, models/workload.go, data_source_illumio_services.go,
 *     data_source_illumio_ip_lists.go, data_source_illumio_container_cluster_workload_profiles.go.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { buildPce } from '../../../lambdas/wiring.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { hashClusterToken } from '../../../shared/containers/container-cluster.ts';
import { localTableName } from '../../../shared/storage/tables.ts';
import { localAwsEnvironment } from '../../../infra/local/clients.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { startDynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { DynamoDbLeaderRecordStore } from '../../../shared/storage/dynamodb/leader-record.ts';
import { globalTableName } from '../../../shared/storage/tables.ts';
import { testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('clients');
const region = 'us-east-1';
const [leaderPce, memberPce] = config.pces;

/** DynamoDB Local with the tables and a leader record (epoch 1, the leader in `region`), as test/integration/local-cloud/helpers.ts startLeaderStorage, with a start timeout for a loaded machine. */
async function startStorage() {
  const ddb = await startDynamoDbLocal({ inMemory: true, startTimeoutMs: 180_000 });
  await ensureTables({ endpoint: ddb.endpoint, config });
  const client = dynamoDbDocumentClient(ddb.endpoint, region);
  const table = globalTableName(config);
  await new DynamoDbLeaderRecordStore(client, table, region).createIfAbsent({ leaderRegion: region, leaderFqdn: leaderPce?.fqdn ?? '', epoch: 1, assignedAt: 1, previousLeaderFqdn: null });
  return {
    ddb,
    client,
    table,
    async stop() {
      client.destroy();
      await ddb.stop();
    },
  };
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly json: unknown;
}

type Json = Record<string, unknown>;

describe('Illumio clients, unchanged, against a PCE on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startStorage>>;
  const saved: Record<string, string | undefined> = {};
  let leader: ReturnType<typeof createApiHandler>;
  let member: ReturnType<typeof createApiHandler>;
  let auth: { username: string; secret: string };

  const send = async (handler: typeof leader, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> => {
    const res = await handler(httpEvent(method, path, { auth, ...options }), lambdaContext());
    const headers = Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    return { status: res.statusCode ?? 0, headers, json: res.body ? (JSON.parse(res.body) as unknown) : null };
  };
  const call = (method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) => send(leader, method, path, options);
  const created = async (path: string, body: unknown): Promise<Json> => {
    const res = await call('POST', path, { body });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json as Json;
  };

  /**
   * brian1917/illumioapi http.go httpSetUp with async=true: the GET carries `Prefer: respond-async` and
   * `Content-Type: application/json`; it then waits `Retry-After` (an integer), GETs baseURL + `Location` until
   * `status` is `done`, and GETs baseURL + `result.href`. illumio-py pce.py get_collection does the same
   * (`Prefer: respond-async`, int(Retry-After), `status` done -> `result.href`).
   */
  const goAsyncCollection = async (path: string): Promise<unknown[]> => {
    const first = await call('GET', path, { headers: { Prefer: 'respond-async', 'Content-Type': 'application/json' } });
    expect(first.status, `${path}: ${JSON.stringify(first.json)}`).toBe(202);
    expect(Number.isInteger(Number(first.headers['retry-after']))).toBe(true);
    const location = first.headers.location ?? '';
    expect(location).toMatch(/^\/orgs\/1\/jobs\/[a-zA-Z0-9-]+$/);
    const job = await call('GET', `/api/v2${location}`, { headers: { 'Content-Type': 'application/json' } });
    expect(job.json).toMatchObject({ status: 'done', result: { href: expect.stringMatching(/^\/orgs\/1\/datafiles\//) } });
    const data = await call('GET', `/api/v2${(job.json as { result: { href: string } }).result.href}`, { headers: { 'Content-Type': 'application/json' } });
    expect(data.status).toBe(200);
    return data.json as unknown[];
  };

  beforeAll(async () => {
    storage = await startStorage();
    for (const [k, v] of Object.entries(localAwsEnvironment({ dynamodb: storage.ddb.endpoint }, region))) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    const build = (pce: NonNullable<typeof leaderPce>, pceRegion: string) => {
      const built = buildPce({ config, region: pceRegion, pce, globalTableName: storage.table, localTableName: localTableName(config, pceRegion), computeQueueUrl: undefined, computeDlqUrl: undefined });
      // no runlevel gate: no probe runs here to raise the PCE to runlevel 5
      return { built, handler: createApiHandler({ ...built, compiled: undefined, runlevel: undefined }) };
    };
    if (!leaderPce || !memberPce) throw new Error('the test config has 3 PCEs');
    const us = build(leaderPce, region);
    leader = us.handler;
    const eu = build(memberPce, memberPce.region);
    member = eu.handler;
    const key = generateApiKey({ userId: 1, orgId: 1, now: Date.now(), role: 'owner' });
    await us.built.apiKeys.put(key.record);
    // the member's replica (its own database here, no replicator): the leader record and the key, as replication brings them
    await eu.built.leaderRecord.createIfAbsent({ leaderRegion: region, leaderFqdn: leaderPce.fqdn, epoch: 1, assignedAt: 1, previousLeaderFqdn: null });
    await eu.built.apiKeys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    await us.built.policy.provisioning.ensureDefaultPolicy({ orgId: 1, fence: { region, epoch: 1 }, now: Date.now() });
  });

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await storage?.stop();
  });

  it('label dimensions: built-ins listed, a custom key created (Go labeldimensions.go, Terraform models/label_type.go), used by labels, label groups and scopes', async () => {
    const builtIns = await call('GET', '/api/v2/orgs/1/label_dimensions');
    expect(builtIns.status).toBe(200);
    expect((builtIns.json as Json[]).map((d) => d.key)).toEqual(['role', 'app', 'env', 'loc']);
    // before the dimension exists, a label of that key is refused
    const early = await call('POST', '/api/v2/orgs/1/labels', { body: { key: 'os', value: 'linux' } });
    expect(early.status).toBe(406);
    // terraform-provider-illumio-core models/label_type.go LabelType (key, display_name, display_info as a nested object)
    const os = await created('/api/v2/orgs/1/label_dimensions', { key: 'os', display_name: 'OS', display_info: { initial: 'OS', background_color: '#818286', foreground_color: '#ffffff', display_name_plural: 'OS' } });
    expect(os).toMatchObject({ key: 'os', display_name: 'OS', usage: { labels: false, label_groups: false }, caps: ['write', 'delete'], deleted: false });
    expect(os.href).toMatch(/^\/orgs\/1\/label_dimensions\/[a-zA-Z0-9-]+$/);
    // brian1917/illumioapi labeldimensions.go CreateLabelDimension: the struct with omitempty (key, display_name)
    const zone = await created('/api/v2/orgs/1/label_dimensions', { key: 'zone', display_name: 'Zone' });
    // a key is unique (406, nothing written)
    const dup = await call('POST', '/api/v2/orgs/1/label_dimensions', { body: { key: 'os', display_name: 'again' } });
    expect(dup.status).toBe(406);
    expect((dup.json as { token: string }[])[0]?.token).toBe('label_dimension_key_taken');
    // labeldimensions.go UpdateLabelDimension: PUT the href with the href in the body and key/usage/caps/... cleared (omitted)
    expect((await call('PUT', `/api/v2${String(zone.href)}`, { body: { href: zone.href, display_name: 'Network zone' } })).status).toBe(204);
    expect((await call('GET', `/api/v2${String(zone.href)}`)).json).toMatchObject({ key: 'zone', display_name: 'Network zone' });
    expect((await call('PUT', `/api/v2${String(zone.href)}`, { body: { key: 'other', display_name: 'x' } })).status).toBe(406);
    // the custom key is now a label key, a label group key and a scope key
    const linux = await created('/api/v2/orgs/1/labels', { key: 'os', value: 'linux' });
    const group = await created('/api/v2/orgs/1/sec_policy/draft/label_groups', { name: 'Unix', key: 'os', labels: [{ href: linux.href }] });
    await created('/api/v2/orgs/1/sec_policy/draft/rule_sets', { name: 'by os', scopes: [[{ label_group: { href: group.href } }]] });
    expect((await call('POST', '/api/v2/orgs/1/sec_policy/draft/label_groups', { body: { name: 'bad', key: 'nokey', labels: [] } })).status).toBe(406);
    // in use: shown, and not deleted
    expect((await call('GET', `/api/v2${String(os.href)}`)).json).toMatchObject({ usage: { labels: true, label_groups: true }, caps: ['write'] });
    expect((await call('DELETE', `/api/v2${String(os.href)}`)).status).toBe(406);
    expect((await call('DELETE', '/api/v2/orgs/1/label_dimensions/role')).status).toBe(406);
    expect((await call('DELETE', `/api/v2${String(zone.href)}`)).status).toBe(204);
    // replicated like the other leader objects: one item per dimension, stamped with the leader's region
    const items = await storage.client.send(new QueryCommand({ TableName: storage.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'ORG#1#LABEL_DIMENSIONS' } }));
    expect(items.Items?.filter((i) => String(i.sk).startsWith('DOC#')).map((i) => [i.id, i.origin_region])).toEqual([[String(os.href).split('/').pop(), region]]);
  });

  it('every collection answers Prefer: respond-async with a job and a datafile (Go http.go, illumio-py get_collection)', async () => {
    await created('/api/v2/orgs/1/pairing_profiles', { name: 'async-profile', enabled: true });
    await created('/api/v2/orgs/1/container_clusters', { name: 'async-cluster', description: '' });
    for (const collection of ['labels', 'label_dimensions', 'sec_policy/draft/label_groups', 'sec_policy/draft/services', 'sec_policy/draft/ip_lists', 'sec_policy/draft/rule_sets', 'sec_policy/active/services', 'workloads', 'vens', 'pairing_profiles', 'container_clusters']) {
      const path = `/api/v2/orgs/1/${collection}`;
      const sync = await call('GET', path);
      expect(sync.status, collection).toBe(200);
      expect(await goAsyncCollection(path), collection).toEqual(sync.json);
    }
    // illumio-py pce.py get_all: max_results=0 first, then X-Total-Count
    const count = await call('GET', '/api/v2/orgs/1/label_dimensions?max_results=0');
    expect(count.json).toEqual([]);
    expect(Number(count.headers['x-total-count'])).toBeGreaterThanOrEqual(4);
  });

  it('filters services by port and proto, IP lists by ip_address and fqdn (Terraform data_source_illumio_services.go / _ip_lists.go params)', async () => {
    const https = await created('/api/v2/orgs/1/sec_policy/draft/services', { name: 'S-HTTPS', service_ports: [{ port: 443, proto: 6 }] });
    const range = await created('/api/v2/orgs/1/sec_policy/draft/services', { name: 'S-HIGH', service_ports: [{ port: 8000, to_port: 8999, proto: 6 }, { port: 53, proto: 17 }] });
    const names = async (path: string) => ((await call('GET', path)).json as Json[]).map((o) => o.name);
    expect(await names('/api/v2/orgs/1/sec_policy/draft/services?port=443&proto=6')).toEqual(['All Services', 'S-HTTPS']);
    expect(await names('/api/v2/orgs/1/sec_policy/draft/services?port=8443')).toEqual(['All Services', 'S-HIGH']);
    expect(await names('/api/v2/orgs/1/sec_policy/draft/services?proto=17')).toEqual(['All Services', 'S-HIGH']);
    expect((await call('GET', '/api/v2/orgs/1/sec_policy/draft/services?port=http')).status).toBe(406);
    expect([https.href, range.href]).toHaveLength(2);
    await created('/api/v2/orgs/1/sec_policy/draft/ip_lists', { name: 'IPL-DC', ip_ranges: [{ from_ip: '10.0.0.0/8' }, { from_ip: '10.9.0.0/16', exclusion: true }], fqdns: [{ fqdn: 'app.example.com' }] });
    expect(await names('/api/v2/orgs/1/sec_policy/draft/ip_lists?ip_address=10.1.2.3')).toEqual(['Any (0.0.0.0/0 and ::/0)', 'IPL-DC']);
    expect(await names('/api/v2/orgs/1/sec_policy/draft/ip_lists?ip_address=10.9.2.3')).toEqual(['Any (0.0.0.0/0 and ::/0)']);
    expect(await names('/api/v2/orgs/1/sec_policy/draft/ip_lists?fqdn=EXAMPLE.com')).toEqual(['IPL-DC']);
    expect((await call('GET', '/api/v2/orgs/1/sec_policy/draft/ip_lists?ip_address=10.1')).status).toBe(406);
  });

  it('GET label_groups/{id}/member_of names the groups that hold a group (the Terraform provider asks before deleting one)', async () => {
    const web = await created('/api/v2/orgs/1/labels', { key: 'role', value: 'web-mo' });
    const inner = await created('/api/v2/orgs/1/sec_policy/draft/label_groups', { name: 'inner', key: 'role', labels: [{ href: web.href }] });
    const outer = await created('/api/v2/orgs/1/sec_policy/draft/label_groups', { name: 'outer', key: 'role', sub_groups: [{ href: inner.href }] });
    const res = await call('GET', `/api/v2${String(inner.href)}/member_of`);
    expect(res.status).toBe(200);
    expect((res.json as Json[]).map((g) => g.href)).toEqual([outer.href]);
    expect((await call('GET', `/api/v2${String(outer.href)}/member_of`)).json).toEqual([]);
    expect((await call('GET', '/api/v2/orgs/1/sec_policy/draft/label_groups/999999/member_of')).status).toBe(404);
  });

  it('container clusters and workload profiles as the Terraform provider and the Go library drive them; the token shown once, stored hashed', async () => {
    // terraform-provider-illumio-core models/container_cluster.go ToMap: name and description, always
    const cluster = await created('/api/v2/orgs/1/container_clusters', { name: 'CC-EKS-PROD', description: 'Production Kubernetes cluster in AWS' });
    expect(cluster).toMatchObject({ name: 'CC-EKS-PROD', online: false, nodes: [], errors: [], caps: ['write'], pce_fqdn: null });
    const token = String(cluster.container_cluster_token);
    expect(token.length).toBeGreaterThan(32);
    const read = await call('GET', `/api/v2${String(cluster.href)}`);
    expect(read.json).not.toHaveProperty('container_cluster_token');
    const id = String(cluster.href).split('/').pop() ?? '';
    const item = await storage.client.send(new GetCommand({ TableName: storage.table, Key: { pk: 'ORG#1#CONTAINER_CLUSTERS', sk: `DOC#${id}` } }));
    expect(JSON.stringify(item.Item)).not.toContain(token);
    expect((item.Item?.body as Json).token_hash).toBe(hashClusterToken(token));
    // the audit trail names the new cluster, never its token
    const events = await call('GET', '/api/v2/orgs/1/events');
    expect(JSON.stringify(events.json)).toContain(String(cluster.href));
    expect(JSON.stringify(events.json)).not.toContain(token);
    expect(item.Item?.origin_region).toBe(region);
    // the default profile, as Illumio creates it
    const profiles = await call('GET', `/api/v2${String(cluster.href)}/container_workload_profiles`);
    expect(profiles.json).toMatchObject([{ name: 'Default Profile', namespace: null, managed: true, linked: false }]);
    // models/container_cluster_workload_profile.go ToMap: name, description, enforcement_mode, managed, labels [{key, assignment}]
    const role = await created('/api/v2/orgs/1/labels', { key: 'role', value: 'k8s-ns' });
    const profile = await created(`/api/v2${String(cluster.href)}/container_workload_profiles`, { name: 'ns-prod', description: '', enforcement_mode: 'visibility_only', managed: true, labels: [{ key: 'role', assignment: { href: role.href } }] });
    expect(profile).toMatchObject({ name: 'ns-prod', enforcement_mode: 'visibility_only', managed: true, labels: [{ key: 'role', assignment: { href: role.href, value: 'k8s-ns' } }] });
    expect(String(profile.href)).toMatch(new RegExp(`^${String(cluster.href)}/container_workload_profiles/[a-zA-Z0-9-]+$`));
    // illumio-py's integration test of container workload profiles (its `container_workload_profile` fixture): create(ContainerWorkloadProfile(name, description, managed=True,
    // assign_labels=[env_label, loc_label], enforcement_mode=VISIBILITY_ONLY), parent=cluster href): the labels encoded whole
    const env = await created('/api/v2/orgs/1/labels', { key: 'env', value: 'py-env' });
    const loc = await created('/api/v2/orgs/1/labels', { key: 'loc', value: 'py-loc' });
    const py = await created(`/api/v2${String(cluster.href)}/container_workload_profiles`, {
      name: 'pytest-1',
      description: 'Created by illumio python library integration tests',
      managed: true,
      assign_labels: [env, loc],
      enforcement_mode: 'visibility_only',
    });
    expect(py.assign_labels).toEqual([{ href: env.href }, { href: loc.href }]);
    expect((await call('DELETE', `/api/v2${String(py.href)}`)).status).toBe(204);
    // a label of another key in an assignment, or both assign_labels and labels: 406
    expect((await call('POST', `/api/v2${String(cluster.href)}/container_workload_profiles`, { body: { name: 'bad', labels: [{ key: 'app', assignment: { href: role.href } }] } })).status).toBe(406);
    expect((await call('PUT', `/api/v2${String(profile.href)}`, { body: { name: 'ns-prod', description: 'd', enforcement_mode: 'full', managed: true, assign_labels: [{ href: role.href }] } })).status).toBe(406);
    expect((await call('PUT', `/api/v2${String(profile.href)}`, { body: { name: 'ns-prod', description: 'd', enforcement_mode: 'full', managed: true } })).status).toBe(204);
    expect((await call('GET', `/api/v2${String(profile.href)}`)).json).toMatchObject({ description: 'd', enforcement_mode: 'full' });
    // data_source_illumio_container_cluster_workload_profiles.go: AsyncGet (Prefer: respond-async) with its filter params
    const managedFull = await goAsyncCollection(`/api/v2${String(cluster.href)}/container_workload_profiles?enforcement_mode=full&managed=true&max_results=500`);
    expect(managedFull.map((p) => (p as Json).name)).toEqual(['ns-prod']);
    expect((await call('GET', `/api/v2${String(cluster.href)}/container_workload_profiles?managed=maybe`)).status).toBe(406);
    // resource_illumio_container_cluster.go Update: PUT name and description
    expect((await call('PUT', `/api/v2${String(cluster.href)}`, { body: { name: 'CC-EKS-PROD-2', description: '' } })).status).toBe(204);
    // brian1917/illumioapi containercluster.go GetContainerClusters: GET container_clusters with query parameters
    expect(((await call('GET', '/api/v2/orgs/1/container_clusters?name=EKS')).json as Json[]).map((c) => c.name)).toEqual(['CC-EKS-PROD-2']);
    expect((await call('POST', '/api/v2/orgs/1/container_clusters', { body: { name: 'cc-eks-prod-2' } })).status).toBe(406);
    expect((await call('DELETE', `/api/v2${String(cluster.href)}`)).status).toBe(204);
    expect((await call('GET', `/api/v2${String(profile.href)}`)).status).toBe(404);
    const left = await storage.client.send(new QueryCommand({ TableName: storage.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': 'ORG#1#CONTAINER_CLUSTERS', ':p': `DOC#${id}` } }));
    expect(left.Items).toEqual([]);
  });

  it('workloads take the fields the Terraform provider sends (models/workload.go) and show them back', async () => {
    const app = await created('/api/v2/orgs/1/labels', { key: 'app', value: 'tf-app' });
    // models/workload.go Workload with omitempty: empty strings left out, labels always sent
    const w = await created('/api/v2/orgs/1/workloads', {
      name: 'tf-w1',
      hostname: 'tf-w1.example.com',
      distinguished_name: 'CN=tf-w1,OU=servers',
      service_provider: 'AWS',
      data_center: 'us-east-1',
      data_center_zone: 'us-east-1a',
      os_id: 'ubuntu-x86_64-jammy',
      labels: [{ href: app.href }],
      enforcement_mode: 'visibility_only',
    });
    expect(w).toMatchObject({ data_center: 'us-east-1', data_center_zone: 'us-east-1a', distinguished_name: 'CN=tf-w1,OU=servers', service_provider: 'AWS', ignored_interface_names: [] });
    expect((await call('PUT', `/api/v2${String(w.href)}`, { body: { ignored_interface_names: ['docker0', 'cni0'], data_center_zone: 'us-east-1b' } })).status).toBe(204);
    expect((await call('GET', `/api/v2${String(w.href)}`)).json).toMatchObject({ data_center: 'us-east-1', data_center_zone: 'us-east-1b', ignored_interface_names: ['docker0', 'cni0'] });
    expect((await call('PUT', `/api/v2${String(w.href)}`, { body: { ignored_interface_names: [''] } })).status).toBe(406);
  });

  it('firewall settings as the Terraform provider drives them (resource_illumio_firewall_settings.go: GET the draft, PUT its href with models/firewall_settings.go ToMap)', async () => {
    const env = await created('/api/v2/orgs/1/labels', { key: 'env', value: 'fw-prod' });
    const read = await call('GET', '/api/v2/orgs/1/sec_policy/draft/firewall_settings');
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ href: '/orgs/1/sec_policy/draft/firewall_settings', ike_authentication_type: 'psk', static_policy_scopes: [], firewall_coexistence: [] });
    // ToMap: every scope list sent (empty lists too), workload_mode left out when empty
    const body = {
      ike_authentication_type: 'certificate',
      static_policy_scopes: [[{ label: { href: env.href } }]],
      containers_inherit_host_policy_scopes: [],
      blocked_connection_reject_scopes: [],
      loopback_interfaces_in_policy_scopes: [[{ label: { href: env.href } }]],
      firewall_coexistence: [{ illumio_primary: true, scope: [{ href: env.href }] }],
    };
    expect((await call('PUT', `/api/v2${String((read.json as Json).href)}`, { body })).status).toBe(204);
    for (const state of ['draft', 'active']) {
      expect((await call('GET', `/api/v2/orgs/1/sec_policy/${state}/firewall_settings`)).json).toMatchObject({ ...body, href: `/orgs/1/sec_policy/${state}/firewall_settings` });
    }
    // bad input: 406 per problem, nothing written
    const bad = await call('PUT', '/api/v2/orgs/1/sec_policy/draft/firewall_settings', { body: { ike_authentication_type: 'rsa', static_policy_scopes: [[{ label: { href: '/orgs/1/labels/999999' } }]] } });
    expect(bad.status).toBe(406);
    const unknown = await call('PUT', '/api/v2/orgs/1/sec_policy/draft/firewall_settings', { body: { static_policy_scopes: [[{ label: { href: '/orgs/1/labels/999999' } }]] } });
    expect(unknown.status).toBe(406);
    expect((unknown.json as { token: string }[])[0]?.token).toBe('label_not_found');
    expect((await call('PUT', '/api/v2/orgs/1/sec_policy/draft/firewall_settings', { body: {} })).status).toBe(406);
    expect((await call('GET', '/api/v2/orgs/1/sec_policy/draft/firewall_settings')).json).toMatchObject({ ike_authentication_type: 'certificate', static_policy_scopes: body.static_policy_scopes });
    const onMember = await send(member, 'PUT', '/api/v2/orgs/1/sec_policy/draft/firewall_settings', { body });
    expect(onMember.status).toBe(403);
  });

  it('a member reads the new families and refuses their writes with 403 naming the leader', async () => {
    // the member's replica is its own DynamoDB Local database (no replicator here): it reads what it holds
    expect((await send(member, 'GET', '/api/v2/orgs/1/label_dimensions')).status).toBe(200);
    expect((await send(member, 'GET', '/api/v2/orgs/1/container_clusters')).status).toBe(200);
    for (const [path, body] of [
      ['/api/v2/orgs/1/label_dimensions', { key: 'm', display_name: 'm' }],
      ['/api/v2/orgs/1/container_clusters', { name: 'm', description: '' }],
    ] as const) {
      const res = await send(member, 'POST', path, { body });
      expect(res.status).toBe(403);
      expect((res.json as { token: string }[])[0]?.token).toBe('supercluster_member_read_only');
    }
  });
});
