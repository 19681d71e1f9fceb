/** The policy publisher: which VENs get which push after a compute run, over fakes of the channel's ports. */
import { beforeEach, describe, expect, it } from 'vitest';
import { toVenRules, type CompiledIpSet, type CompiledPolicy } from '../../shared/policy/compiled.ts';
import type { PolicyPublication } from '../../shared/ven/ports.ts';
import { fitToChannel, notifyVen, PUBLISH_CONCURRENCY, VenPolicyPublisher, type PublishOutcome } from '../../shared/ven/publisher.ts';
import { VEN_CHANNEL_LIMITS } from '../../shared/ven/channel-service.ts';
import { compiledPolicy, connection, FakeListenOnlyStore, FakePushChannel, FakeVenConnections, ipSet } from '../helpers/ven-channel-fakes.ts';

let connections: FakeVenConnections;
let channel: FakePushChannel;
let listenOnly: FakeListenOnlyStore;
let errors: { stage: string; connectionId?: string }[];
let publisher: VenPolicyPublisher;

function publication(policies: Map<string, CompiledPolicy>, overrides: Partial<PolicyPublication> = {}): PolicyPublication {
  return {
    orgId: 1,
    policyVersion: 7,
    policyOf: (workloadId) => policies.get(workloadId) ?? null,
    rulesChanged: new Set(),
    changedIpSets: new Map(),
    everything: false,
    ...overrides,
  };
}

async function connect(...ns: number[]) {
  for (const n of ns) await connections.put(connection(n));
}

beforeEach(() => {
  connections = new FakeVenConnections();
  channel = new FakePushChannel();
  listenOnly = new FakeListenOnlyStore();
  errors = [];
  publisher = new VenPolicyPublisher({ connections, channel, listenOnly, onError: (_error, context) => void errors.push(context) });
});

describe('VenPolicyPublisher', () => {
  it("pushes to each connected VEN of the org whose workload the run knows, listing the PCE's connections once", async () => {
    await connect(1, 2, 3);
    await connections.put(connection(4, { orgId: 2 }));
    const policies = new Map([['w1', compiledPolicy('w1', 7)], ['w2', compiledPolicy('w2', 7)], ['w4', compiledPolicy('w4', 7)]]);
    const outcome = await publisher.publish(publication(policies));
    expect(outcome).toEqual<PublishOutcome>({ targeted: 2, sent: 2, gone: 0, failed: 0 });
    expect(connections.lists).toBe(1);
    expect(channel.sent.map((s) => s.connectionId).sort()).toEqual(['conn-1=', 'conn-2=']);
    expect(channel.to('conn-1=')).toEqual([{ v: 1, type: 'policy', policy_version: 7, rules_hash: policies.get('w1')?.rulesHash }]);
  });

  it('carries the rules of the VENs whose rules changed, and the changed sets their rules use', async () => {
    await connect(1, 2, 3);
    const w1 = compiledPolicy('w1', 8, ['ls:web', 'ls:db']);
    const w2 = compiledPolicy('w2', 8, ['ls:app']);
    const w3 = compiledPolicy('w3', 8, ['ls:web']);
    const web: CompiledIpSet = ipSet('ls:web', ['10.0.0.1', '10.0.0.2']);
    const other: CompiledIpSet = ipSet('ls:unused', ['10.9.9.9']);
    const pub = publication(new Map([['w1', w1], ['w2', w2], ['w3', w3]]), { policyVersion: 8, rulesChanged: new Set(['w1', 'w2']), changedIpSets: new Map([['ls:web', web], ['ls:unused', other]]) });
    await publisher.publish(pub);
    expect(channel.to('conn-1=')).toEqual([{ v: 1, type: 'policy', policy_version: 8, rules_hash: w1.rulesHash, rules: toVenRules(w1), ip_sets: [{ id: 'ls:web', members: ['10.0.0.1', '10.0.0.2'], hash: web.hash }] }]);
    expect(channel.to('conn-2=')).toEqual([{ v: 1, type: 'policy', policy_version: 8, rules_hash: w2.rulesHash, rules: toVenRules(w2) }]);
    // rules as they were, one of its sets changed
    expect(channel.to('conn-3=')).toEqual([{ v: 1, type: 'policy', policy_version: 8, rules_hash: w3.rulesHash, ip_sets: [expect.objectContaining({ id: 'ls:web' })] }]);
  });

  it('a run that moved no version pushes only to the VENs whose rules or sets it changed', async () => {
    await connect(1, 2, 3);
    const w1 = compiledPolicy('w1', 8, ['ls:web']);
    const w2 = compiledPolicy('w2', 8, ['ls:app']);
    const w3 = compiledPolicy('w3', 8, ['ls:db']);
    const policies = new Map([['w1', w1], ['w2', w2], ['w3', w3]]);
    const outcome = await publisher.publish(publication(policies, { versionChanged: false, rulesChanged: new Set(['w2']), changedIpSets: new Map([['ls:web', ipSet('ls:web', ['10.0.0.9'])]]) }));
    expect(outcome).toMatchObject({ targeted: 2, sent: 2 });
    expect(channel.sent.map((s) => s.connectionId).sort()).toEqual(['conn-1=', 'conn-2=']);
    channel.sent.length = 0;
    // nothing changed for anybody: nothing pushed
    expect(await publisher.publish(publication(policies, { versionChanged: false }))).toMatchObject({ targeted: 0, sent: 0 });
    // a new version: everybody
    expect(await publisher.publish(publication(policies, { versionChanged: true }))).toMatchObject({ targeted: 3 });
  });

  it('sends every VEN its rules and all of its sets on a reconcile (everything)', async () => {
    await connect(1);
    const w1 = compiledPolicy('w1', 9, ['ls:web', 'ls:db']);
    const sets = new Map([['ls:web', ipSet('ls:web', ['10.0.0.1'])], ['ls:db', ipSet('ls:db', ['10.0.1.1'])]]);
    await publisher.publish(publication(new Map([['w1', w1]]), { everything: true, changedIpSets: sets }));
    const [push] = channel.to('conn-1=');
    expect(push).toMatchObject({ rules: toVenRules(w1) });
    expect(push?.type === 'policy' ? push.ip_sets?.map((s) => s.id) : null).toEqual(['ls:web', 'ls:db']);
  });

  it(`keeps at most ${PUBLISH_CONCURRENCY} pushes in flight (or the configured number)`, async () => {
    channel = new FakePushChannel(2);
    const policies = new Map<string, CompiledPolicy>();
    for (let n = 0; n < 200; n++) {
      await connections.put(connection(n));
      policies.set(`w${n}`, compiledPolicy(`w${n}`, 1));
    }
    const outcome = await new VenPolicyPublisher({ connections, channel, listenOnly }).publish(publication(policies));
    expect(outcome.sent).toBe(200);
    expect(channel.maxInFlight).toBe(PUBLISH_CONCURRENCY);
    const narrow = new FakePushChannel(1);
    await new VenPolicyPublisher({ connections, channel: narrow, listenOnly, concurrency: 4 }).publish(publication(policies));
    expect(narrow.maxInFlight).toBe(4);
  });

  it('forgets the connections that are gone and keeps going past a failing VEN, without throwing', async () => {
    await connect(1, 2, 3);
    channel.gone.add('conn-1=');
    channel.failing.add('conn-2=');
    const policies = new Map([1, 2, 3].map((n) => [`w${n}`, compiledPolicy(`w${n}`, 2)]));
    const outcome = await publisher.publish(publication(policies));
    expect(outcome).toEqual({ targeted: 3, sent: 1, gone: 1, failed: 1 });
    expect((await connections.list()).map((c) => c.connectionId).sort()).toEqual(['conn-2=', 'conn-3=']);
    expect(errors).toEqual([{ agentId: 'agent-2', connectionId: 'conn-2=', stage: 'push' }]);
  });

  it('keeps a connection whose 410 came inside the connect window: $connect stores it before it can be posted to', async () => {
    const now = 1_000_000;
    const young = connection(1, { connectedAt: now - (VEN_CHANNEL_LIMITS.connectWindowSeconds * 1000 - 1) });
    const old = connection(2, { connectedAt: now - VEN_CHANNEL_LIMITS.connectWindowSeconds * 1000 });
    await connections.put(young);
    await connections.put(old);
    channel.gone.add('conn-1=');
    channel.gone.add('conn-2=');
    const policies = new Map([1, 2].map((n) => [`w${n}`, compiledPolicy(`w${n}`, 2)]));
    const outcome = await new VenPolicyPublisher({ connections, channel, listenOnly, now: () => now }).publish(publication(policies));
    expect(outcome).toEqual({ targeted: 2, sent: 0, gone: 2, failed: 0 });
    // the young one is still listed: its next push reaches it once it is open
    expect((await connections.list()).map((c) => c.connectionId)).toEqual(['conn-1=']);
    channel.gone.clear();
    expect(await new VenPolicyPublisher({ connections, channel, listenOnly, now: () => now + 1_000 }).publish(publication(policies))).toMatchObject({ sent: 1, gone: 0 });
  });

  it('pushes nothing while the PCE is in listen-only mode', async () => {
    await connect(1);
    await listenOnly.enable(5);
    const outcome = await publisher.publish(publication(new Map([['w1', compiledPolicy('w1', 3)]])));
    expect(outcome).toMatchObject({ sent: 0, skipped: 'listen_only' });
    expect(connections.lists).toBe(0);
    expect(channel.sent).toEqual([]);
  });

  it('never fails the compute run: a listing that fails is reported and nothing is pushed', async () => {
    connections.failList = true;
    const seen: PublishOutcome[] = [];
    const reporting = new VenPolicyPublisher({ connections, channel, listenOnly, onError: (_e, context) => void errors.push(context), onPublished: (outcome) => void seen.push(outcome) });
    await expect(reporting.published(publication(new Map()))).resolves.toBeUndefined();
    expect(seen).toEqual([{ targeted: 0, sent: 0, gone: 0, failed: 0, skipped: 'unavailable' }]);
    expect(errors).toEqual([{ stage: 'list' }]);
  });

  it('sends a push too large for one channel message without rules and sets: the VEN fetches the delta', () => {
    const members = Array.from({ length: 20_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    const big = { v: 1, type: 'policy', policy_version: 4, rules_hash: 'h', ip_sets: [{ id: 'ls:big', members, hash: 'x' }] } as const;
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(VEN_CHANNEL_LIMITS.maxMessageBytes);
    expect(fitToChannel(big)).toEqual({ v: 1, type: 'policy', policy_version: 4, rules_hash: 'h' });
    const small = { v: 1, type: 'reassign', target_pce_fqdn: 'pce-eu' } as const;
    expect(fitToChannel(small)).toBe(small);
  });
});

describe('notifyVen', () => {
  it('pushes to the connection of that agent, forgets it when gone, and says when the VEN is not connected here', async () => {
    await connect(1, 2);
    expect(await notifyVen({ connections, channel }, 'agent-1', { v: 1, type: 'reassign', target_pce_fqdn: 'pce-eu.example.com' })).toBe('sent');
    expect(channel.to('conn-1=')).toEqual([{ v: 1, type: 'reassign', target_pce_fqdn: 'pce-eu.example.com' }]);
    channel.gone.add('conn-2=');
    expect(await publisher.notifyVen('agent-2', { v: 1, type: 'unpaired' })).toBe('gone');
    expect(await connections.byAgent('agent-2')).toBeNull();
    expect(await notifyVen({ connections, channel }, 'agent-9', { v: 1, type: 'listen_only', enabled: true })).toBe('not_connected');
  });
});
