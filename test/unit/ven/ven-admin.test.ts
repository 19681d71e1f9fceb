import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../../shared/api/errors.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { AgentLimitError } from '../../../shared/ven/errors.ts';
import { VenAdminService } from '../../../shared/ven/ven-admin-service.ts';
import { VenStreamReactions } from '../../../shared/ven/stream-reactions.ts';
import type { VenPushV1 } from '../../../shared/ven/protocol.ts';
import type { ManagedAgent, Workload } from '../../../shared/workloads/workload.ts';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { rawConfig } from '../../helpers/config.ts';
import { FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakeAgentCount, FakeCredentials, FakeHeartbeats, FakeManagedWorkloads, FakePolicyView } from '../../helpers/ven-fakes.ts';
import { FakeWorkloadStore } from '../../helpers/workload-fakes.ts';

const raw = rawConfig();
const config = parseSuperclusterConfig({ ...raw, object_limits: { active_agents_per_pce: 2 } });
const [us, eu, ap] = config.pces as [(typeof config.pces)[number], (typeof config.pces)[number], (typeof config.pces)[number]];
const actor = { orgId: 1, userId: 1 };

function managed(n: number, pce: { fqdn: string; region: string }, over: Partial<Workload> = {}): Workload {
  const agent: ManagedAgent = {
    agentId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    pceFqdn: pce.fqdn,
    region: pce.region,
    since: n,
    pairedPceFqdn: pce.fqdn,
    pairedAt: n,
    pairingProfileId: 1,
    hostname: `host-${n}`,
    osId: null,
    osDetail: null,
    agentVersion: null,
    status: 'active',
    interfaces: [{ name: 'eth0', address: `10.0.0.${n}`, cidrBlock: null, defaultGatewayAddress: null, linkState: null }],
    online: true,
    labels: [],
    enforcementMode: 'idle',
    visibilityLevel: null,
    updatedAt: n,
  };
  return {
    orgId: 1,
    id: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    meta: { name: null, hostname: agent.hostname, description: null, labels: [], enforcementMode: 'idle', osId: null, osDetail: null, externalDataSet: null, externalDataReference: null, managingPceFqdn: pce.fqdn, createdAt: n, updatedAt: 0, createdBy: 0, updatedBy: 0 },
    context: { interfaces: agent.interfaces, publicIp: null, online: true, updatedAt: n },
    agent,
    metaStored: false,
    targetPceFqdn: null,
    ...over,
  };
}

function setup(region = us.region) {
  const leaderStore = new FakeLeaderStore({ leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 1, assignedAt: 1, previousLeaderFqdn: null });
  const workloads = new FakeWorkloadStore(leaderStore);
  const heartbeats = new FakeHeartbeats();
  const policy = new FakePolicyView();
  const admin = new VenAdminService({ config, selfFqdn: us.fqdn, workloads, leader: new LeaderView(leaderStore, region, 0), heartbeats, policy, now: () => 1_000 });
  return { workloads, heartbeats, policy, admin, leaderStore };
}

describe('VENs in the REST API', () => {
  it('lists VENs with filters and shows heartbeats only for the VENs this PCE manages', async () => {
    const s = setup();
    const a = managed(1, us);
    const b = managed(2, eu);
    for (const w of [a, b]) s.workloads.workloads.set(w.id, w);
    s.heartbeats.items.set(a.agent?.agentId ?? '', { agentId: a.agent?.agentId ?? '', workloadId: a.id, lastHeartbeatAt: 5_000, uptimeSeconds: 40, appliedVersion: 3, appliedRulesHash: 'h', appliedAt: 4_000, goodbyeAt: null });
    s.policy.policies.set(a.id, { policyVersion: 3, rulesHash: 'h' });
    const { items, total } = await s.admin.list(1, {}, 500);
    expect(total).toBe(2);
    expect(items[0]).toMatchObject({ href: `/orgs/1/vens/${a.agent?.agentId}`, hostname: 'host-1', active_pce_fqdn: us.fqdn, target_pce_fqdn: us.fqdn, uptime_seconds: 40, security_policy_sync_state: 'active', workloads: [{ href: `/orgs/1/workloads/${a.id}` }] });
    expect(items[0]?.last_heartbeat_on).toBe(new Date(5_000).toISOString());
    expect(items[1]).toMatchObject({ last_heartbeat_on: null, uptime_seconds: null, heartbeat_pce_fqdn: eu.fqdn, security_policy_sync_state: null });
    expect((await s.admin.list(1, { activePceFqdn: eu.fqdn }, 500)).total).toBe(1);
    expect((await s.admin.list(1, { hostname: 'HOST-2' }, 500)).items[0]?.hostname).toBe('host-2');
    await expect(s.admin.list(1, { status: 'sleeping' }, 500)).rejects.toMatchObject({ statusCode: 406 });
  });

  it('reassigns on the leader within the target PCE limit (406 naming the PCE and the limit)', async () => {
    const s = setup();
    const a = managed(1, us);
    const b = managed(2, eu);
    const c = managed(3, eu);
    for (const w of [a, b, c]) s.workloads.workloads.set(w.id, w);
    await s.admin.update(actor, a.agent?.agentId ?? '', { target_pce_fqdn: ap.fqdn });
    expect(s.workloads.workloads.get(a.id)).toMatchObject({ targetPceFqdn: ap.fqdn, meta: { updatedAt: 1_000 } });
    const err = await s.admin.update(actor, a.agent?.agentId ?? '', { target_pce_fqdn: eu.fqdn }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentLimitError);
    expect(String((err as Error).message)).toContain(eu.fqdn);
    await expect(s.admin.update(actor, a.agent?.agentId ?? '', { target_pce_fqdn: 'pce-xx.example.com' })).rejects.toMatchObject({ statusCode: 406 });
    await expect(s.admin.update(actor, a.agent?.agentId ?? '', {})).rejects.toMatchObject({ statusCode: 406 });
    await expect(s.admin.update(actor, '00000000-0000-4000-8000-000000000099', { target_pce_fqdn: ap.fqdn })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('unpairs on the leader only, naming unknown VENs with 406 and writing nothing then', async () => {
    const s = setup();
    const a = managed(1, us);
    s.workloads.workloads.set(a.id, a);
    await expect(s.admin.unpairVens(actor, { hrefs: [`/orgs/1/vens/${a.agent?.agentId}`, '/orgs/1/vens/00000000-0000-4000-8000-000000000099'] })).rejects.toMatchObject({ statusCode: 406 });
    expect(s.workloads.workloads.get(a.id)?.unpairedAt).toBeUndefined();
    await s.admin.unpairWorkloads(actor, { workloads: [{ href: `/orgs/1/workloads/${a.id}` }] });
    expect(s.workloads.workloads.get(a.id)?.unpairedAt).toBe(1_000);
    const member = setup(eu.region);
    member.workloads.workloads.set(a.id, a);
    await expect(member.admin.unpairVens(actor, { hrefs: [`/orgs/1/vens/${a.agent?.agentId}`] })).rejects.toBeInstanceOf(NotLeaderError);
  });
});

describe('stream reactions', () => {
  function reactions(region: string, fqdn: string, store: FakeManagedWorkloads) {
    const pushes: { agentId: string; message: VenPushV1 }[] = [];
    const credentials = new FakeCredentials();
    const heartbeats = new FakeHeartbeats();
    const agentCount = new FakeAgentCount();
    const r = new VenStreamReactions({ selfRegion: region, selfFqdn: fqdn, workloads: store, credentials, heartbeats, agentCount, notify: async (agentId, message) => pushes.push({ agentId, message }) });
    return { r, pushes, credentials, heartbeats, agentCount };
  }

  const metaImage = (id: string, over: Record<string, unknown>) => ({ pk: 'ORG#1#WORKLOADS', sk: `${id}#META`, ...over });

  it('pushes reassign to a VEN this PCE manages when the leader targets another PCE', async () => {
    const store = new FakeManagedWorkloads(us.region, new FakeCredentials());
    const w = managed(1, us);
    await store.putAgent(1, w.id, w.agent as ManagedAgent);
    const { r, pushes } = reactions(us.region, us.fqdn, store);
    await r.react([{ newItem: metaImage(w.id, { target_pce_fqdn: eu.fqdn }), oldItem: metaImage(w.id, { target_pce_fqdn: null }) }]);
    expect(pushes).toEqual([{ agentId: w.agent?.agentId, message: { v: 1, type: 'reassign', target_pce_fqdn: eu.fqdn } }]);
    // the same image again (redelivery or an unrelated meta change): nothing new
    await r.react([{ newItem: metaImage(w.id, { target_pce_fqdn: eu.fqdn }), oldItem: metaImage(w.id, { target_pce_fqdn: eu.fqdn }) }]);
    expect(pushes).toHaveLength(1);
    // another PCE does not push for a VEN it does not manage
    const other = reactions(eu.region, eu.fqdn, store.as(eu.region));
    await other.r.react([{ newItem: metaImage(w.id, { target_pce_fqdn: ap.fqdn }), oldItem: undefined }]);
    expect(other.pushes).toEqual([]);
  });

  it('after a take-over by another region the old PCE removes only its own items and frees its place', async () => {
    const store = new FakeManagedWorkloads(us.region, new FakeCredentials());
    const w = managed(1, us);
    await store.putAgent(1, w.id, w.agent as ManagedAgent);
    const { r, heartbeats, agentCount } = reactions(us.region, us.fqdn, store);
    agentCount.count = 1;
    heartbeats.items.set(w.agent?.agentId ?? '', { agentId: w.agent?.agentId ?? '', workloadId: w.id, lastHeartbeatAt: 1, uptimeSeconds: 1, appliedVersion: null, appliedRulesHash: null, appliedAt: null, goodbyeAt: null });
    await store.as(eu.region).putAgent(1, w.id, { ...(w.agent as ManagedAgent), pceFqdn: eu.fqdn, since: 50 });
    await r.react([{ newItem: { pk: 'ORG#1#WORKLOADS', sk: `${w.id}#AGENT#${eu.region}`, since: 50 }, oldItem: undefined }]);
    expect(await store.ownAgent(1, w.id)).toBeNull();
    expect(await store.as(eu.region).ownAgent(1, w.id)).not.toBeNull();
    expect(heartbeats.items.size).toBe(0);
    expect(agentCount.count).toBe(0);
  });

  it('unpaired: tells the VEN, deletes the credential this PCE issued, its agent item and heartbeat', async () => {
    const credentials = new FakeCredentials();
    const store = new FakeManagedWorkloads(us.region, credentials);
    const w = managed(1, us);
    await store.pair({ agentId: w.agent?.agentId ?? '', orgId: 1, workloadId: w.id, tokenHash: 'x', originRegion: us.region, createdAt: 1 }, 1, w.id, w.agent as ManagedAgent);
    const pushes: VenPushV1[] = [];
    const r = new VenStreamReactions({ selfRegion: us.region, selfFqdn: us.fqdn, workloads: store, credentials, heartbeats: new FakeHeartbeats(), agentCount: new FakeAgentCount(), notify: async (_a, m) => pushes.push(m) });
    await r.react([{ newItem: metaImage(w.id, { unpaired_at: 5 }), oldItem: metaImage(w.id, { unpaired_at: null }) }]);
    expect(pushes).toEqual([{ v: 1, type: 'unpaired' }]);
    expect(credentials.items.size).toBe(0);
    expect(await store.ownAgent(1, w.id)).toBeNull();
  });
});
