/**
 * Members keep working when the leader is down (issue: failed leader, item 3), as the agents see it: with
 * the leader's region down (`pce-ctl local region-down us-east-1`), a member still pairs VENs with a key it
 * generated, takes their heartbeats, computes policy for the workload changes they bring (a new VEN's
 * address reaches its peers' IP set) and hands it out, and every member's /health names the leader as
 * unreachable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCtl, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

interface Activated {
  agent_id: string;
  agent_token: string;
}
interface Heartbeat {
  policy_version: number | null;
  rules_hash: string | null;
}
interface PolicyAnswer {
  policy_version: number;
  rules_hash: string;
  ip_sets: { id: string; members: string[] }[];
}
interface HealthRow {
  fqdn: string;
  notifications: { token: string }[];
}

const LEADER = 0;
const EU = 1;
const AP = 2;

describe('members keep pairing, heartbeating and computing for their VENs with the leader down', () => {
  let cluster: RunningCluster;
  let profileHref: string;

  const venCall = async (pce: number, path: string, body: unknown, token?: string) => {
    const res = await fetch(`${cluster.state.pces[pce]?.url ?? ''}/api/v2/ven/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
  };
  const activate = async (pce: number, code: string, n: number) => {
    const res = await venCall(pce, '/activate', { activation_code: code, hostname: `leader-down-${n}`, interfaces: [{ name: 'eth0', address: `10.88.0.${n}`, cidr_block: 24 }], os_id: 'ubuntu' });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json as Activated;
  };
  const members = (p: PolicyAnswer) => p.ip_sets.flatMap((s) => s.members).join(' ');

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.38.11', port: 19138, config: { probe_interval_seconds: 1 } });
    const profile = await cluster.api(LEADER, 'POST', '/api/v2/orgs/1/pairing_profiles', { name: 'leader-down', enforcement_mode: 'visibility_only', allowed_uses_per_key: 'unlimited', key_lifespan: 'unlimited' });
    expect(profile.status, JSON.stringify(profile.json)).toBe(201);
    profileHref = (profile.json as { href: string }).href;
    // a rule between all workloads, provisioned while the leader is up: every VEN's peers are in its policy
    const services = (await cluster.api(LEADER, 'GET', '/api/v2/orgs/1/sec_policy/draft/services?name=All%20Services')).json as { href: string }[];
    const ruleSet = await cluster.api(LEADER, 'POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', {
      name: 'leader-down',
      enabled: true,
      scopes: [[]],
      rules: [{ enabled: true, providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ href: services[0]?.href }], resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] } }],
    });
    expect(ruleSet.status, JSON.stringify(ruleSet.json)).toBe(201);
    const provision = await cluster.api(LEADER, 'POST', '/api/v2/orgs/1/sec_policy', { update_description: 'leader-down e2e', change_subset: { rule_sets: [{ href: (ruleSet.json as { href: string }).href }] } });
    expect(provision.status, JSON.stringify(provision.json)).toBe(201);
    await eventually(async () => (await cluster.api(EU, 'GET', `/api/v2${profileHref}`)).status === 200, 15_000, 'profile replicated to EU');
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('with us-east-1 down, EU pairs a VEN with its own key, heartbeats it, and computes its peer into the policy of the VEN it already had', async () => {
    const key = await cluster.api(EU, 'POST', `/api/v2${profileHref}/pairing_key`, {});
    expect(key.status).toBe(201);
    const code = (key.json as { activation_code: string }).activation_code;
    const first = await activate(EU, code, 1);
    const policyOf = async (ven: Activated) => venCall(EU, '/policy', {}, ven.agent_token);
    await eventually(async () => (await policyOf(first)).status === 200, 30_000, 'the first VEN has its policy');

    const down = await runCtl(['local', 'region-down', 'us-east-1'], cluster.stateFile);
    expect(down.code, down.stderr).toBe(0);
    expect(await fetch(`${cluster.state.pces[LEADER]?.url ?? ''}/api/v2/node_available`).catch(() => null)).toBeNull();

    // a second VEN pairs on EU with EU's key: the leader is not needed
    const second = await activate(EU, code, 2);
    const hb = await venCall(EU, '/heartbeat', { uptime_seconds: 5, policy_version: null, rules_hash: null }, second.agent_token);
    expect(hb.status).toBe(200);
    // its policy is computed on EU (the heartbeat names the version to hold once it is)
    await eventually(async () => {
      const again = await venCall(EU, '/heartbeat', { uptime_seconds: 6, policy_version: null, rules_hash: null }, second.agent_token);
      return again.status === 200 && (again.json as Heartbeat).policy_version !== null;
    }, 30_000, "the second VEN's policy computed on EU");
    // EU computes the change: the second VEN's address reaches the first VEN's policy
    await eventually(async () => {
      const p = await policyOf(first);
      return p.status === 200 && members(p.json as PolicyAnswer).includes('10.88.0.2');
    }, 30_000, "the new VEN's address in the first VEN's policy");
    expect((await venCall(EU, '/heartbeat', { uptime_seconds: 6, policy_version: null, rules_hash: null }, first.agent_token)).status).toBe(200);

    // each member says, on its own row of its /health, that the leader is unreachable
    for (const i of [EU, AP]) {
      await eventually(async () => {
        const res = await cluster.api(i, 'GET', '/api/v2/health');
        const own = (res.json as HealthRow[]).find((r) => r.fqdn === cluster.state.pces[i]?.fqdn);
        return res.status === 200 && own?.notifications.some((n) => n.token === 'leader_unreachable');
      }, 30_000, `leader_unreachable on ${cluster.state.pces[i]?.fqdn}`);
    }

    const up = await runCtl(['local', 'region-up', 'us-east-1'], cluster.stateFile);
    expect(up.code, up.stderr).toBe(0);
  }, 180_000);
});
