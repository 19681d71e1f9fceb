/**
 * How long a VEN's last policy took to arrive (docs/vens-api.md): the pure computation from a VEN's live
 * status, and the figure end to end on one PCE: a provision computed and stored, the VEN fetching and
 * applying it and saying so in its heartbeat, the VEN as the REST API shows it.
 */
import { describe, expect, it } from 'vitest';
import { CompiledPolicyView } from '../../../shared/compute/policy-view.ts';
import type { ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { defaultWorkloadSettings } from '../../../shared/settings/workload-settings.ts';
import { VenAuthenticator } from '../../../shared/ven/auth.ts';
import { VenAdminService } from '../../../shared/ven/ven-admin-service.ts';
import { VenService, type PairingRedeemer } from '../../../shared/ven/ven-service.ts';
import { policyArrivalMs, policyArrivalToJson, workloadToJson, type AgentLiveStatus } from '../../../shared/workloads/workload.ts';
import { computeWorld, MemoryCompiledStore, webToDbPolicy } from '../../helpers/compute.ts';
import { rawConfig } from '../../helpers/config.ts';
import { FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakeAgentCount, FakeCredentials, FakeFlows, FakeHeartbeats, FakeListenOnly, FakeManagedWorkloads } from '../../helpers/ven-fakes.ts';
import { FakeWorkloadStore } from '../../helpers/workload-fakes.ts';

const HASH = 'a'.repeat(64);
const live = (over: Partial<AgentLiveStatus> = {}): AgentLiveStatus => ({
  lastHeartbeatAt: 9_000,
  uptimeSeconds: 60,
  appliedVersion: 4,
  appliedRulesHash: HASH,
  appliedAt: 7_250,
  goodbyeAt: null,
  expectedVersion: 4,
  expectedRulesHash: HASH,
  expectedAvailableAt: 5_000,
  ...over,
});

describe('policy arrival (pure)', () => {
  it('is applied_at minus when the managing PCE had the version and rules the VEN holds', () => {
    expect(policyArrivalMs(live())).toBe(2_250);
    expect(policyArrivalMs(live({ appliedAt: 5_000 }))).toBe(0);
    expect(policyArrivalToJson(live())).toEqual({ security_policy_available_at: new Date(5_000).toISOString(), security_policy_arrival_seconds: 2.25 });
  });

  it('is null while the VEN does not hold what the PCE computed (syncing), on a PCE that does not manage it, and when a time is unknown', () => {
    expect(policyArrivalMs(live({ appliedVersion: 3 }))).toBeNull();
    expect(policyArrivalMs(live({ appliedRulesHash: 'b'.repeat(64) }))).toBeNull();
    expect(policyArrivalMs(live({ expectedRulesHash: null, expectedVersion: null }))).toBeNull();
    expect(policyArrivalMs(null)).toBeNull();
    expect(policyArrivalMs(live({ appliedAt: null }))).toBeNull();
    expect(policyArrivalMs(live({ expectedAvailableAt: null }))).toBeNull();
    expect(policyArrivalMs(live({ expectedAvailableAt: undefined }))).toBeNull();
    // while syncing, the time the pending policy became available is still shown
    expect(policyArrivalToJson(live({ appliedVersion: 3 }))).toEqual({ security_policy_available_at: new Date(5_000).toISOString(), security_policy_arrival_seconds: null });
    expect(policyArrivalToJson(null)).toEqual({ security_policy_available_at: null, security_policy_arrival_seconds: null });
  });

  it('is null, not negative, when the VEN applied it before this PCE stored it (the same rules brought from another PCE)', () => {
    expect(policyArrivalMs(live({ appliedAt: 4_999 }))).toBeNull();
  });
});

describe('policy arrival through the VEN protocol and the VENs API (one PCE, fakes)', () => {
  it('a VEN that applies a provisioned version shows how long it took; syncing meanwhile; the next provision its own figure', async () => {
    const config = parseSuperclusterConfig(rawConfig());
    const us = config.pces[0];
    if (!us) throw new Error('no PCE');
    let now = 1_000_000;
    const clock = () => now;
    const credentials = new FakeCredentials();
    const managed = new FakeManagedWorkloads(us.region, credentials);
    const heartbeats = new FakeHeartbeats();
    const store = new MemoryCompiledStore();
    const policy = new CompiledPolicyView({ store, now: clock });
    const pairing: PairingRedeemer = { redeem: async () => ({ orgId: 1, profile: { id: 1, labels: [2], enforcementMode: 'full', visibilityLevel: null } }) };
    let ids = 0;
    const protocol = new VenService({
      pce: { fqdn: us.fqdn, region: us.region },
      agentLimit: 10,
      heartbeatIntervalSeconds: 60,
      pushUrl: null,
      pairing,
      authenticator: new VenAuthenticator(credentials, clock),
      workloads: managed,
      listWorkloads: async () => managed.all(),
      settings: async () => defaultWorkloadSettings(1),
      heartbeats,
      agentCount: new FakeAgentCount(),
      flows: new FakeFlows(),
      listenOnly: new FakeListenOnly(),
      policy,
      now: clock,
      newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    });
    const leaderStore = new FakeLeaderStore({ leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const workloads = new FakeWorkloadStore(leaderStore);
    const admin = new VenAdminService({ config, selfFqdn: us.fqdn, workloads, leader: new LeaderView(leaderStore, us.region, 0), heartbeats, policy, now: clock });

    // a VEN pairs (a db workload); the PCE computes version 1 for it and a web peer
    const paired = await protocol.activate({ activation_code: `00${'c'.repeat(46)}`, hostname: 'db-1', interfaces: [{ name: 'eth0', address: '10.0.1.1' }] });
    const { principal } = await protocol.authenticate(`Bearer ${paired.agent_token}`);
    const world = computeWorld(store, [{ id: principal.workloadId, labels: [2], ips: ['10.0.1.1'], enforcementMode: 'full', managingPceFqdn: us.fqdn }, { id: 'web1', labels: [1], ips: ['10.0.0.1'], enforcementMode: 'full', managingPceFqdn: us.fqdn }], { selfFqdn: us.fqdn, now: clock });
    const compute = world.runtime();
    const provision = (version: number): ComputeJobV1 => ({ version: 1, kind: 'recompute_all', org_id: 1, policy_version: version, slice: 0, slices: 1, requested_at: 0 });
    const ven = async () => {
      for (const w of managed.all()) workloads.workloads.set(w.id, w);
      return admin.get(1, paired.agent_id);
    };
    /** the VEN fetches what the PCE names, applies it `after` ms later and heartbeats */
    const applyAfter = async (after: number) => {
      now += 1_001; // the view's head is read again
      const answer = await protocol.policy(principal, {});
      now += after;
      const workload = (await protocol.authenticate(`Bearer ${paired.agent_token}`)).workload;
      await protocol.heartbeat(principal, workload, { uptime_seconds: 30, policy_version: answer.policy_version, rules_hash: answer.rules_hash, applied_at: now });
      return answer;
    };

    const provisionedAt = 1_010_000;
    now = provisionedAt;
    await compute.run(provision(1));
    const first = await applyAfter(1_500);
    expect(first.policy_version).toBe(1);
    expect(await ven()).toMatchObject({
      security_policy_sync_state: 'active',
      security_policy_applied_at: new Date(provisionedAt + 2_501).toISOString(),
      security_policy_available_at: new Date(provisionedAt).toISOString(),
      security_policy_arrival_seconds: 2.501,
    });

    // version 2 changes the db rules: stored, not yet applied (the VEN still reports version 1)
    const secondAt = 1_020_000;
    now = secondAt;
    world.setActive({ version: 2, snapshot: webToDbPolicy(2, 6543) });
    await compute.run(provision(2));
    now += 1_001;
    const workload = (await protocol.authenticate(`Bearer ${paired.agent_token}`)).workload;
    await protocol.heartbeat(principal, workload, { uptime_seconds: 40, policy_version: 1, rules_hash: first.rules_hash, applied_at: provisionedAt + 2_501 });
    expect(await ven()).toMatchObject({ security_policy_sync_state: 'syncing', security_policy_available_at: new Date(secondAt).toISOString(), security_policy_arrival_seconds: null });

    await applyAfter(200);
    const shown = await ven();
    expect(shown).toMatchObject({ security_policy_sync_state: 'active', security_policy_arrival_seconds: (1_001 + 1_001 + 200) / 1000 });
    // the workload's agent status carries the same figure
    const w = workloads.workloads.get(principal.workloadId);
    if (!w) throw new Error('no workload');
    const status = workloadToJson(w, new Map(), (await admin.liveStatus(1, [w])).get(w.id)).agent?.status;
    expect(status).toMatchObject({ security_policy_available_at: new Date(secondAt).toISOString(), security_policy_arrival_seconds: 2.202 });
  });
});
