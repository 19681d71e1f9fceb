import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../shared/api/errors.ts';
import { VenAuthenticator, generateAgentToken, parseAgentToken } from '../../../shared/ven/auth.ts';
import { AgentLimitError, ListenOnlyError, PolicyNotComputedError, VenUnknownError } from '../../../shared/ven/errors.ts';
import { VenService, type PairingRedeemer, type RedeemedPairingKey } from '../../../shared/ven/ven-service.ts';
import { defaultWorkloadSettings } from '../../../shared/settings/workload-settings.ts';
import { FakeAgentCount, FakeCredentials, FakeFlows, FakeHeartbeats, FakeListenOnly, FakeManagedWorkloads, FakePolicyView } from '../../helpers/ven-fakes.ts';

const US = { fqdn: 'pce-us.sc.example.com', region: 'us-east-1' };
const EU = { fqdn: 'pce-eu.sc.example.com', region: 'eu-west-1' };
const CODE = `00${'a'.repeat(46)}`;
const HASH = 'b'.repeat(64);

class FakePairing implements PairingRedeemer {
  redeemed = 0;
  fail: Error | null = null;
  async redeem(): Promise<RedeemedPairingKey> {
    if (this.fail) throw this.fail;
    this.redeemed++;
    return { orgId: 1, profile: { id: 3, labels: [7, 8], enforcementMode: 'selective', visibilityLevel: 'flow_summary' } };
  }
}

function setup(options: { limit?: number; pce?: typeof US } = {}) {
  let clock = 1_000_000;
  let ids = 0;
  const credentials = new FakeCredentials();
  const workloads = new FakeManagedWorkloads((options.pce ?? US).region, credentials);
  const deps = {
    heartbeats: new FakeHeartbeats(),
    agentCount: new FakeAgentCount(),
    flows: new FakeFlows(),
    listenOnly: new FakeListenOnly(),
    policy: new FakePolicyView(),
    pairing: new FakePairing(),
    settings: defaultWorkloadSettings(1),
  };
  const now = () => clock;
  const service = (pce = options.pce ?? US, store = workloads) =>
    new VenService({
      pce,
      agentLimit: options.limit ?? 10,
      heartbeatIntervalSeconds: 60,
      pushUrl: 'ws://127.0.0.11:8444',
      pairing: deps.pairing,
      authenticator: new VenAuthenticator(credentials, now),
      workloads: store,
      listWorkloads: async () => store.all(),
      settings: async () => deps.settings,
      heartbeats: deps.heartbeats,
      agentCount: deps.agentCount,
      flows: deps.flows,
      listenOnly: deps.listenOnly,
      policy: deps.policy,
      now,
      newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    });
  return { ...deps, credentials, workloads, service, advance: (ms: number) => (clock += ms), now, setSettings: (settings: typeof deps.settings) => (deps.settings = settings) };
}

const activation = { activation_code: CODE, hostname: 'web-1', interfaces: [{ name: 'eth0', address: '10.0.0.5', cidr_block: 24 }], os_id: 'ubuntu-x86_64-jammy', agent_version: '22.5.0' };

async function paired(s: ReturnType<typeof setup>) {
  const answer = await s.service().activate(activation);
  return { answer, header: `Bearer ${answer.agent_token}` };
}

describe('agent tokens', () => {
  it('parse only as Bearer <uuid>.<64 hex>, and the stored hash is not the secret', () => {
    const { token, tokenHash } = generateAgentToken('00000000-0000-4000-8000-000000000001');
    const parsed = parseAgentToken(`Bearer ${token}`);
    expect(parsed?.agentId).toBe('00000000-0000-4000-8000-000000000001');
    expect(tokenHash).not.toContain(parsed?.secret ?? 'x');
    expect(parseAgentToken(`Basic ${token}`)).toBeNull();
    expect(parseAgentToken('Bearer api_0123456789abcdef')).toBeNull();
    expect(parseAgentToken(undefined)).toBeNull();
  });

  it('a verified token is cached: heartbeats do not read the credential each time, a wrong secret is still refused', async () => {
    const s = setup();
    const { header } = await paired(s);
    const auth = new VenAuthenticator(s.credentials, s.now);
    await auth.authenticate(header);
    await auth.authenticate(header);
    expect(s.credentials.gets).toBe(1);
    expect(await auth.authenticate(header.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBeNull();
  });
});

describe('activate', () => {
  it('pairs a VEN with the profile labels and mode, managed by the PCE it reached, and returns its token and channel', async () => {
    const s = setup();
    const { answer } = await paired(s);
    expect(answer).toMatchObject({ pce_fqdn: US.fqdn, heartbeat_interval_seconds: 60, push_url: 'ws://127.0.0.11:8444' });
    expect(answer.workload_href).toMatch(/^\/orgs\/1\/workloads\/[0-9a-f-]{36}$/);
    const w = s.workloads.all()[0];
    expect(w?.meta).toMatchObject({ labels: [7, 8], enforcementMode: 'selective', managingPceFqdn: US.fqdn, hostname: 'web-1' });
    expect(w?.agent).toMatchObject({ online: true, status: 'active', pairedPceFqdn: US.fqdn, agentVersion: '22.5.0' });
    const stored = s.credentials.items.get(answer.agent_id);
    expect(stored?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(answer.agent_token).not.toContain(stored?.tokenHash ?? 'x');
    expect(s.agentCount.count).toBe(1);
  });

  it('refuses bad input with 406 and writes nothing', async () => {
    const s = setup();
    await expect(s.service().activate({ ...activation, activation_code: 'nope' })).rejects.toMatchObject({ statusCode: 406 });
    await expect(s.service().activate({ ...activation, hostname: '' })).rejects.toMatchObject({ statusCode: 406 });
    await expect(s.service().activate({ ...activation, extra: 1 })).rejects.toMatchObject({ statusCode: 406 });
    expect(s.workloads.writes).toBe(0);
    expect(s.pairing.redeemed).toBe(0);
  });

  it('answers 406 naming the PCE and its limit when the PCE is full, before a key use is spent', async () => {
    const s = setup({ limit: 1 });
    await paired(s);
    const err = await s.service().activate(activation).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentLimitError);
    expect((err as ApiError).errors[0]?.message).toContain(US.fqdn);
    expect((err as ApiError).errors[0]?.message).toContain('1');
    expect(s.pairing.redeemed).toBe(1);
  });

  it('gives the reservation back when the key is refused', async () => {
    const s = setup();
    s.pairing.fail = new Error('used up');
    await expect(s.service().activate(activation)).rejects.toThrow('used up');
    expect(s.agentCount.count).toBe(0);
  });
});

describe('heartbeat', () => {
  it('writes one heartbeat and answers the version and hash to hold, the target and listen-only', async () => {
    const s = setup();
    const { header } = await paired(s);
    const svc = s.service();
    const { principal, workload } = await svc.authenticate(header);
    s.policy.policies.set(principal.workloadId, { policyVersion: 4, rulesHash: HASH });
    const writesBefore = s.workloads.writes;
    const answer = await svc.heartbeat(principal, workload, { uptime_seconds: 12, policy_version: 3, rules_hash: null });
    expect(answer).toEqual({ policy_version: 4, rules_hash: HASH, active_pce_fqdn: US.fqdn, target_pce_fqdn: US.fqdn, target_available: true, listen_only: false, heartbeat_interval_seconds: 60 });
    expect(s.heartbeats.puts).toBe(1);
    expect(s.heartbeats.items.get(principal.agentId)).toMatchObject({ uptimeSeconds: 12, appliedVersion: 3, lastHeartbeatAt: s.now() });
    // nothing changed about the VEN: no replicated write
    expect(s.workloads.writes).toBe(writesBefore);
  });

  it('in listen-only mode repeats what the VEN holds and the policy call refuses with 409', async () => {
    const s = setup();
    const { header } = await paired(s);
    const svc = s.service();
    const { principal, workload } = await svc.authenticate(header);
    s.policy.policies.set(principal.workloadId, { policyVersion: 9, rulesHash: HASH });
    s.listenOnly.enabledAt = 5;
    const answer = await svc.heartbeat(principal, workload, { uptime_seconds: 1, policy_version: 2, rules_hash: 'c'.repeat(64) });
    expect(answer).toMatchObject({ policy_version: 2, rules_hash: 'c'.repeat(64), listen_only: true });
    await expect(svc.policy(principal, {})).rejects.toBeInstanceOf(ListenOnlyError);
  });

  it('a VEN that reaches another PCE (failover) is taken over there, whatever its limit, and keeps its target', async () => {
    const s = setup({ limit: 1 });
    const { header } = await paired(s);
    const eu = s.service(EU, s.workloads.as(EU.region));
    s.advance(10);
    const { principal, workload } = await eu.authenticate(header);
    const answer = await eu.heartbeat(principal, workload, { uptime_seconds: 5, policy_version: null, rules_hash: null });
    expect(answer).toMatchObject({ active_pce_fqdn: EU.fqdn, target_pce_fqdn: US.fqdn });
    const w = s.workloads.workload(principal.workloadId);
    expect(w?.agent).toMatchObject({ pceFqdn: EU.fqdn, region: EU.region, online: true });
    expect(w?.meta.managingPceFqdn).toBe(EU.fqdn);
  });

  it('new interfaces rewrite the agent item once; a VEN marked offline comes back online with its next heartbeat', async () => {
    const s = setup();
    const { header } = await paired(s);
    const svc = s.service();
    const { principal, workload } = await svc.authenticate(header);
    const moved = [{ name: 'eth0', address: '10.0.0.9' }];
    await svc.heartbeat(principal, workload, { uptime_seconds: 1, policy_version: null, rules_hash: null, interfaces: moved });
    expect(s.workloads.workload(principal.workloadId)?.agent?.interfaces[0]?.address).toBe('10.0.0.9');
    const writes = s.workloads.writes;
    const again = await svc.authenticate(header);
    await svc.heartbeat(principal, again.workload, { uptime_seconds: 2, policy_version: null, rules_hash: null, interfaces: moved });
    expect(s.workloads.writes).toBe(writes);
  });

  it('refuses bad heartbeats with 406 and an unknown or unpaired VEN with 401', async () => {
    const s = setup();
    const { header } = await paired(s);
    const svc = s.service();
    const { principal, workload } = await svc.authenticate(header);
    await expect(svc.heartbeat(principal, workload, { uptime_seconds: -1, policy_version: null, rules_hash: null })).rejects.toMatchObject({ statusCode: 406 });
    await expect(svc.authenticate(undefined)).rejects.toBeInstanceOf(VenUnknownError);
    await expect(svc.authenticate(`Bearer ${principal.agentId}.${'0'.repeat(64)}`)).rejects.toMatchObject({ statusCode: 401, errors: [{ token: 'ven_unknown' }] });
    s.workloads.unpaired.add(principal.workloadId);
    await expect(s.service().authenticate(header)).rejects.toBeInstanceOf(VenUnknownError);
  });
});

describe('policy, flows, goodbye', () => {
  it('answers 404 policy_not_computed until this PCE computed the VEN policy, then hands on the view', async () => {
    const s = setup();
    const { header } = await paired(s);
    const svc = s.service();
    const { principal } = await svc.authenticate(header);
    await expect(svc.policy(principal, {})).rejects.toBeInstanceOf(PolicyNotComputedError);
    s.policy.policies.set(principal.workloadId, { policyVersion: 1, rulesHash: HASH });
    expect(await svc.policy(principal, { have: { rules_hash: HASH, ip_sets: { 'ls:1': 'x' } } })).toMatchObject({ policy_version: 1 });
    expect(s.policy.fetches.at(-1)?.have).toEqual({ rules_hash: HASH, ip_sets: { 'ls:1': 'x' } });
  });

  it('stores flow summaries and validates them', async () => {
    const s = setup();
    const { header } = await paired(s);
    const svc = s.service();
    const { principal } = await svc.authenticate(header);
    const flow = { src_ip: '10.0.0.1', dst_ip: '10.0.0.5', dst_port: 443, proto: 6, count: 3, action: 'allowed', first_seen: 1, last_seen: 2 };
    expect(await svc.flows(principal, { flows: [flow] })).toEqual({ accepted: 1 });
    await expect(svc.flows(principal, { flows: [] })).rejects.toMatchObject({ statusCode: 406 });
    await expect(svc.flows(principal, { flows: [{ ...flow, proto: 300 }] })).rejects.toMatchObject({ statusCode: 406 });
    expect(s.flows.uploads).toEqual([{ agentId: principal.agentId, count: 1 }]);
  });
});

describe('offline sweep', () => {
  it('marks offline a VEN silent for workload_disconnected_timeout_seconds, not before; goodbye uses the goodbye timer', async () => {
    const s = setup();
    const a = await paired(s);
    const b = await paired(s);
    const svc = s.service();
    const pa = await svc.authenticate(a.header);
    const pb = await svc.authenticate(b.header);
    await svc.heartbeat(pa.principal, pa.workload, { uptime_seconds: 1, policy_version: null, rules_hash: null });
    await svc.goodbye(pb.principal, {});
    s.advance(899_000);
    expect((await svc.sweepOffline(1)).markedOffline).toBe(0);
    s.advance(2_000);
    expect((await svc.sweepOffline(1)).markedOffline).toBe(1);
    expect(s.workloads.workload(pb.principal.workloadId)?.agent).toMatchObject({ online: false, status: 'stopped' });
    s.advance(3600_000);
    expect((await svc.sweepOffline(1)).markedOffline).toBe(1);
    expect(s.workloads.workload(pa.principal.workloadId)?.agent?.online).toBe(false);
  });

  it('is suspended in listen-only mode, honours -1 (never), and recounts the VENs for the limit', async () => {
    const s = setup();
    await paired(s);
    s.agentCount.count = 7;
    s.listenOnly.enabledAt = 1;
    s.advance(10 * 3600_000);
    expect(await s.service().sweepOffline(1)).toMatchObject({ markedOffline: 0, skipped: 'listen-only mode', managed: 1 });
    expect(s.agentCount.count).toBe(1);
    s.listenOnly.enabledAt = null;
    s.setSettings({ ...s.settings, timeouts: { ...s.settings.timeouts, workload_disconnected_timeout_seconds: [{ scope: [], value: -1, venType: null }] } });
    expect((await s.service().sweepOffline(1)).markedOffline).toBe(0);
  });
});
