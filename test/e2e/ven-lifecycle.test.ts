/**
 * VENs as an operator and the agents see them, on a running local supercluster: pairing profiles on the
 * leader only, keys generated on a member pairing there while its replication is paused, used-up and
 * expired keys, the two principal types, reassignment between members within the object limit (pushed
 * over the channel), listen-only mode from pce-ctl, offline detection, unpairing.
 */
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCtl, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type ErrorBody = { token: string; message: string }[];
interface Activated {
  agent_id: string;
  agent_token: string;
  workload_href: string;
  ven_href: string;
  pce_fqdn: string;
  push_url: string;
}
interface Heartbeat {
  policy_version: number | null;
  rules_hash: string | null;
  active_pce_fqdn: string;
  target_pce_fqdn: string;
  listen_only: boolean;
}

const LEADER = 0;
const EU = 1;
const AP = 2;
let hostSeq = 0;

describe('VENs on a running supercluster', () => {
  let cluster: RunningCluster;
  let profileHref: string;

  const venCall = async (pce: number, path: string, body: unknown, token?: string) => {
    const url = cluster.state.pces[pce]?.url ?? '';
    const res = await fetch(`${url}/api/v2/ven/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
  };
  const keyOn = async (pce: number, href = profileHref) => {
    const res = await cluster.api(pce, 'POST', `/api/v2${href}/pairing_key`, {});
    expect(res.status).toBe(201);
    return (res.json as { activation_code: string; pairing_command: string });
  };
  const activate = async (pce: number, code: string) => {
    const n = ++hostSeq;
    return venCall(pce, '/activate', { activation_code: code, hostname: `e2e-ven-${n}`, interfaces: [{ name: 'eth0', address: `10.77.0.${n}`, cidr_block: 24 }], os_id: 'ubuntu', agent_version: '22.5.0' });
  };
  const pair = async (pce: number) => {
    const res = await activate(pce, (await keyOn(pce)).activation_code);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json as Activated;
  };
  const beat = (pce: number, ven: Activated, held: { policy_version: number | null; rules_hash: string | null } = { policy_version: null, rules_hash: null }) => venCall(pce, '/heartbeat', { uptime_seconds: 10, ...held }, ven.agent_token);

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.6.11', port: 18443, config: { object_limits: { active_agents_per_pce: 4 } } });
    const res = await cluster.api(LEADER, 'POST', '/api/v2/orgs/1/pairing_profiles', { name: 'e2e-vens', enforcement_mode: 'visibility_only', allowed_uses_per_key: 'unlimited', key_lifespan: 'unlimited' });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    profileHref = (res.json as { href: string }).href;
    // members see the profile before they can hand out keys of it
    await eventually(async () => (await cluster.api(EU, 'GET', `/api/v2${profileHref}`)).status === 200 && (await cluster.api(AP, 'GET', `/api/v2${profileHref}`)).status === 200, 15_000, 'profile replicated');
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('pairing profiles are written on the leader only (403 on a member, naming the leader)', async () => {
    const refused = await cluster.api(EU, 'POST', '/api/v2/orgs/1/pairing_profiles', { name: 'on-a-member' });
    expect(refused.status).toBe(403);
    expect((refused.json as ErrorBody)[0]?.token).toBe('supercluster_member_read_only');
    expect((refused.json as ErrorBody)[0]?.message).toContain(cluster.state.pces[LEADER]?.fqdn);
  });

  it('a key generated on a member pairs VENs there while its replication is paused; the VEN is managed there', async () => {
    const eu = cluster.state.pces[EU];
    const key = await keyOn(EU);
    expect(key.pairing_command).toMatch(new RegExp(`^pair\\.sh --management-server ${cluster.state.supercluster_fqdn.replace(/\./g, '\\.')}:\\d+ --activation-code ${key.activation_code}$`));
    await fetch(`${cluster.state.local.control}/replication/pause`, { method: 'POST', body: JSON.stringify({ regions: [eu?.region] }) });
    try {
      const res = await activate(EU, key.activation_code);
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      const ven = res.json as Activated;
      expect(ven.pce_fqdn).toBe(eu?.fqdn);
      expect(ven.push_url).toMatch(/^ws:\/\//);
      const hb = await beat(EU, ven);
      expect(hb.status).toBe(200);
      expect(hb.json).toMatchObject({ active_pce_fqdn: eu?.fqdn, target_pce_fqdn: eu?.fqdn, listen_only: false });
      // the member computes the new VEN's policy on its own
      const policy = await eventually(async () => {
        const p = await venCall(EU, '/policy', {}, ven.agent_token);
        return p.status === 200 ? (p.json as { policy_version: number; rules_hash: string }) : null;
      }, 20_000, 'policy computed on the partitioned member');
      expect(policy.rules_hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await fetch(`${cluster.state.local.control}/replication/resume`, { method: 'POST', body: JSON.stringify({}) });
    }
  });

  it('a used-up or expired key gets a clear 406; bad activations 406; nothing is paired', async () => {
    const once = await cluster.api(LEADER, 'POST', '/api/v2/orgs/1/pairing_profiles', { name: 'e2e-once', allowed_uses_per_key: 1, key_lifespan: 2 });
    expect(once.status).toBe(201);
    const href = (once.json as { href: string }).href;
    const key = await keyOn(LEADER, href);
    expect((await activate(LEADER, key.activation_code)).status).toBe(201);
    const again = await activate(LEADER, key.activation_code);
    expect(again.status).toBe(406);
    expect((again.json as ErrorBody)[0]?.token).toBe('pairing_key_used_up');
    const expiring = await keyOn(LEADER, href);
    await new Promise((r) => setTimeout(r, 2_500));
    const late = await activate(LEADER, expiring.activation_code);
    expect(late.status).toBe(406);
    expect((late.json as ErrorBody)[0]?.token).toBe('pairing_key_expired');
    expect((await venCall(LEADER, '/activate', { activation_code: 'x', hostname: '', interfaces: [] })).status).toBe(406);
  });

  it('keeps the principals apart: API keys cannot call the VEN protocol, VEN tokens cannot call the REST API, unknown VENs get 401', async () => {
    const ven = await pair(LEADER);
    const { username, secret } = cluster.state.api_key;
    const withKey = await fetch(`${cluster.state.pces[LEADER]?.url}/api/v2/ven/v1/heartbeat`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}` }, body: '{}' });
    expect(withKey.status).toBe(401);
    expect(((await withKey.json()) as ErrorBody)[0]?.token).toBe('ven_token_required');
    const withToken = await fetch(`${cluster.state.pces[LEADER]?.url}/api/v2/orgs/1/labels`, { headers: { authorization: `Bearer ${ven.agent_token}` } });
    expect(withToken.status).toBe(401);
    const lost = await beat(LEADER, { ...ven, agent_token: `${ven.agent_id}.${'0'.repeat(64)}` });
    expect(lost.status).toBe(401);
    expect((lost.json as ErrorBody)[0]?.token).toBe('ven_unknown');
    expect((await venCall(LEADER, '/heartbeat', { uptime_seconds: -1, policy_version: null, rules_hash: null }, ven.agent_token)).status).toBe(406);
  });

  it('a VEN reassigned from one member to another is pushed its target and moves; the limit answers 406 when the target is full', async () => {
    const eu = cluster.state.pces[EU];
    const ap = cluster.state.pces[AP];
    const ven = await pair(EU);
    expect((await beat(EU, ven)).status).toBe(200);
    const pushes: { type: string; target_pce_fqdn?: string }[] = [];
    const socket = new WebSocket(ven.push_url, { headers: { authorization: `Bearer ${ven.agent_token}` } });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.on('message', (data) => pushes.push(JSON.parse(String(data)) as { type: string }));
    const uuid = ven.ven_href.split('/').at(-1);
    // the leader sees the VEN once its items replicated
    await eventually(async () => (await cluster.api(LEADER, 'GET', `/api/v2${ven.ven_href}`)).status === 200, 15_000, 'VEN replicated to the leader');
    const started = Date.now();
    const moved = await cluster.api(LEADER, 'PUT', `/api/v2/orgs/1/vens/${uuid}`, { target_pce_fqdn: ap?.fqdn });
    expect(moved.status, JSON.stringify(moved.json)).toBe(204);
    const push = await eventually(async () => pushes.find((p) => p.type === 'reassign'), 15_000, 'reassign push');
    expect(push.target_pce_fqdn).toBe(ap?.fqdn);
    socket.close();
    // the heartbeat says the same (its view of the VEN is at most STATE_TTL_MS old)
    await eventually(async () => ((await beat(EU, ven)).json as Heartbeat).target_pce_fqdn === ap?.fqdn, 15_000, 'target in the heartbeat');
    // the VEN moves: its first heartbeat there makes that PCE its active PCE
    const there = await eventually(async () => {
      const hb = await beat(AP, ven);
      return hb.status === 200 ? (hb.json as Heartbeat) : null;
    }, 15_000, 'heartbeat on the target PCE');
    expect(there.active_pce_fqdn).toBe(ap?.fqdn);
    const seen = await eventually(async () => {
      const res = await cluster.api(LEADER, 'GET', `/api/v2${ven.ven_href}`);
      const body = res.json as { active_pce_fqdn: string; target_pce_fqdn: string };
      return body.active_pce_fqdn === ap?.fqdn ? body : null;
    }, 15_000, 'active PCE replicated');
    expect(seen.target_pce_fqdn).toBe(ap?.fqdn);
    expect(Date.now() - started).toBeLessThan(15_000);
    // the workload shows the agent; heartbeats only on the managing PCE
    const onAp = await cluster.api(AP, 'GET', `/api/v2${ven.workload_href}`);
    const onLeader = await cluster.api(LEADER, 'GET', `/api/v2${ven.workload_href}`);
    expect(onAp.json).toMatchObject({ agent: { active_pce_fqdn: ap?.fqdn, status: { status: 'active' } }, ven: { href: ven.ven_href } });
    expect((onAp.json as { agent: { status: { last_heartbeat_on: string | null } } }).agent.status.last_heartbeat_on).not.toBeNull();
    expect(onLeader.json).toMatchObject({ agent: { status: { last_heartbeat_on: null, heartbeat_pce_fqdn: ap?.fqdn } } });

    // fill eu up to the limit (4): the VENs paired there in this test file count
    const onEu = async (pce: number) => ((await cluster.api(pce, 'GET', `/api/v2/orgs/1/vens?active_pce_fqdn=${eu?.fqdn}`)).json as unknown[]).length;
    // counted on eu itself (its own items), then waited for on the leader (replication)
    while ((await onEu(EU)) < 4) await pair(EU);
    await eventually(async () => (await onEu(LEADER)) >= 4, 15_000, 'eu VENs replicated to the leader');
    const refused = await cluster.api(LEADER, 'PUT', `/api/v2/orgs/1/agents/${uuid}/update`, { target_pce_fqdn: eu?.fqdn });
    expect(refused.status).toBe(406);
    expect((refused.json as ErrorBody)[0]?.message).toContain(eu?.fqdn);
    expect((refused.json as ErrorBody)[0]?.message).toContain('4');
    // pairing on the full PCE is refused the same way
    const full = await activate(EU, (await keyOn(EU)).activation_code);
    expect(full.status).toBe(406);
    expect((full.json as ErrorBody)[0]?.token).toBe('object_limit_exceeded');
  });

  it('listen-only mode (pce-ctl) holds new policy back and releases it when disabled; /health agrees with the CLI', async () => {
    const ven = await pair(AP);
    const first = await eventually(async () => {
      const hb = (await beat(AP, ven)).json as Heartbeat;
      return hb.policy_version !== null ? hb : null;
    }, 20_000, 'first policy');
    const apFqdn = cluster.state.pces[AP]?.fqdn ?? '';
    const on = await runCtl(['listen-only-mode', 'enable', '--pce', apFqdn, '--json'], cluster.stateFile);
    expect(on.code, on.stderr).toBe(0);
    const state = JSON.parse(on.stdout) as { listen_only_mode_enabled: boolean; listen_only_mode_enabled_at: string };
    expect(state.listen_only_mode_enabled).toBe(true);
    await eventually(async () => {
      const health = (await cluster.api(LEADER, 'GET', '/api/v2/health')).json as { fqdn: string; listen_only_mode_enabled_at: string | null }[];
      return health.find((h) => h.fqdn === apFqdn)?.listen_only_mode_enabled_at === state.listen_only_mode_enabled_at;
    }, 20_000, '/health on the leader shows listen-only mode of the member');
    // a provision that changes the VEN's rules
    const ruleSet = await cluster.create(LEADER, '/orgs/1/sec_policy/draft/rule_sets', { name: 'e2e-listen-only', scopes: [[]] });
    const services = (await cluster.api(LEADER, 'GET', '/api/v2/orgs/1/sec_policy/draft/services?name=All%20Services')).json as { href: string }[];
    await cluster.create(LEADER, `${ruleSet.href}/sec_rules`, { providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ href: services[0]?.href }] });
    const provisioned = await cluster.api(LEADER, 'POST', '/api/v2/orgs/1/sec_policy', { update_description: 'e2e listen-only' });
    expect(provisioned.status).toBe(201);
    const version = (provisioned.json as { version: number }).version;
    const held = { policy_version: first.policy_version, rules_hash: first.rules_hash };
    await new Promise((r) => setTimeout(r, 3_000));
    const during = (await beat(AP, ven, held)).json as Heartbeat;
    expect(during).toMatchObject({ listen_only: true, policy_version: first.policy_version, rules_hash: first.rules_hash });
    expect((await venCall(AP, '/policy', {}, ven.agent_token)).status).toBe(409);
    const off = await runCtl(['listen-only-mode', 'disable', '--pce', apFqdn], cluster.stateFile);
    expect(off.code, off.stderr).toBe(0);
    const after = await eventually(async () => {
      const hb = (await beat(AP, ven, held)).json as Heartbeat;
      return hb.policy_version === version ? hb : null;
    }, 20_000, 'new version handed out after disable');
    expect(after.listen_only).toBe(false);
    expect(after.rules_hash).not.toBe(first.rules_hash);
  });

  it('unpairing on the leader revokes the VEN everywhere', async () => {
    const ven = await pair(LEADER);
    expect((await beat(LEADER, ven)).status).toBe(200);
    const res = await cluster.api(LEADER, 'PUT', '/api/v2/orgs/1/vens/unpair', { hrefs: [ven.ven_href] });
    expect(res.status).toBe(204);
    expect((await cluster.api(LEADER, 'GET', `/api/v2${ven.workload_href}`)).status).toBe(404);
    await eventually(async () => (await beat(LEADER, ven)).status === 401, 30_000, 'unpaired VEN refused');
  });
});
