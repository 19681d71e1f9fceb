/**
 * The VEN side's adapters against real DynamoDB Local: managed workloads as agent items with one writer
 * region each (ADR 0008), merged with the leader's meta item; heartbeats, the agent counter and flow
 * summaries in the local table.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import { queryPartition, type DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbManagedWorkloadStore } from '../../../shared/storage/dynamodb/managed-workloads.ts';
import { DynamoDbAgentCountStore, DynamoDbFlowSummaryStore, DynamoDbHeartbeatStore } from '../../../shared/storage/dynamodb/ven-local.ts';
import { DynamoDbWorkloadStore } from '../../../shared/storage/dynamodb/workloads.ts';
import { DynamoDbAgentCredentialStore } from '../../../shared/storage/dynamodb/agent-credentials.ts';
import { venKeys } from '../../../shared/storage/ven-keys.ts';
import { localTableName } from '../../../shared/storage/tables.ts';
import { toFacts, type ManagedAgent } from '../../../shared/workloads/workload.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('vens');
const US = 'us-east-1';
const EU = 'eu-west-1';

const agent = (over: Partial<ManagedAgent> = {}): ManagedAgent => ({
  agentId: '11111111-1111-4111-8111-111111111111',
  pceFqdn: 'pce-us.sc.example.com',
  region: US,
  since: 1_000,
  pairedPceFqdn: 'pce-us.sc.example.com',
  pairedAt: 1_000,
  pairingProfileId: 4,
  hostname: 'web-1',
  osId: 'ubuntu',
  osDetail: null,
  agentVersion: '22.5.0',
  status: 'active',
  interfaces: [{ name: 'eth0', address: '10.0.0.5', cidrBlock: 24, defaultGatewayAddress: null, linkState: 'up' }],
  online: true,
  labels: [7],
  enforcementMode: 'selective',
  visibilityLevel: 'flow_summary',
  updatedAt: 1_000,
  ...over,
});

const W = '22222222-2222-4222-8222-222222222222';
const credential = { agentId: agent().agentId, orgId: 1, workloadId: W, tokenHash: 'a'.repeat(64), originRegion: US, createdAt: 1_000 };

describe('VEN adapters on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let us: DynamoDbManagedWorkloadStore;
  let eu: DynamoDbManagedWorkloadStore;
  let euClient: DynamoDBDocumentClient;
  let workloads: DynamoDbWorkloadStore;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, US);
    us = new DynamoDbManagedWorkloadStore(storage.client, storage.table, US);
    // one database per region in DynamoDB Local; the EU PCE's writes land in its replica: here the same table through another client
    euClient = dynamoDbDocumentClient(storage.ddb.endpoint, US);
    eu = new DynamoDbManagedWorkloadStore(euClient, storage.table, EU);
    workloads = new DynamoDbWorkloadStore(storage.client, storage.table, US);
  });

  afterAll(async () => {
    euClient?.destroy();
    await storage?.stop();
  });

  it('pairing writes the credential and the agent item in one request; the workload shows as managed with what pairing chose', async () => {
    await us.pair(credential, 1, W, agent());
    const w = await us.get(1, W, { consistent: true });
    expect(w).toMatchObject({ id: W, metaStored: false, targetPceFqdn: null, meta: { hostname: 'web-1', labels: [7], enforcementMode: 'selective', managingPceFqdn: 'pce-us.sc.example.com' } });
    expect(w?.context?.interfaces[0]?.address).toBe('10.0.0.5');
    expect(await new DynamoDbAgentCredentialStore(storage.client, storage.table, US).get(credential.agentId)).toMatchObject({ workloadId: W, originRegion: US });
    const item = (await storage.client.send(new GetCommand({ TableName: storage.table, Key: { pk: 'ORG#1#WORKLOADS', sk: `${W}#AGENT#${US}` } }))).Item;
    expect(item).toMatchObject({ origin_region: US, since: 1_000 });
    // the compute pipeline's targeted read: only these workloads, the unknown one absent
    expect(await workloads.factsOf(1, [W, '99999999-9999-4999-8999-999999999999'])).toEqual([{ id: W, labels: [7], ips: ['10.0.0.5'], subnets: ['10.0.0.0/24'], enforcementMode: 'selective', managingPceFqdn: 'pce-us.sc.example.com' }]);
  });

  it('an agent item is written conditionally on what this PCE last wrote', async () => {
    expect(await us.putAgent(1, W, agent({ online: false, updatedAt: 2_000 }), 999)).toBe(false);
    expect(await us.putAgent(1, W, agent({ online: false, updatedAt: 2_000 }), 1_000)).toBe(true);
    const w = await us.get(1, W, { consistent: true });
    expect(w?.agent?.online).toBe(false);
    // an offline managed workload leaves its peers' sets
    expect(w && toFacts(w).ips).toEqual([]);
  });

  it('the newest claim manages the workload: a take-over by another region moves it without touching the first item', async () => {
    await eu.putAgent(1, W, agent({ pceFqdn: 'pce-eu.sc.example.com', region: EU, since: 5_000, updatedAt: 5_000 }));
    const w = await us.get(1, W, { consistent: true });
    expect(w?.agent).toMatchObject({ pceFqdn: 'pce-eu.sc.example.com', region: EU });
    expect(w?.meta.managingPceFqdn).toBe('pce-eu.sc.example.com');
    expect(await us.ownAgent(1, W)).toMatchObject({ region: US, since: 1_000 });
    await us.deleteAgent(1, W);
    expect(await us.ownAgent(1, W)).toBeNull();
    expect((await us.get(1, W, { consistent: true }))?.agent?.region).toBe(EU);
  });

  it("the leader's meta item wins for labels, mode and target; unpairing hides the workload", async () => {
    const current = await workloads.get(1, W, { consistent: true });
    if (!current) throw new Error('missing');
    const next = { ...current, meta: { ...current.meta, labels: [9], updatedAt: 6_000, updatedBy: 1 }, targetPceFqdn: 'pce-ap.sc.example.com' };
    expect(await workloads.apply([{ kind: 'update', current, next }], { region: US, epoch: 1 })).toEqual(['ok']);
    const after = await workloads.get(1, W, { consistent: true });
    expect(after).toMatchObject({ metaStored: true, targetPceFqdn: 'pce-ap.sc.example.com', meta: { labels: [9], hostname: 'web-1', managingPceFqdn: 'pce-eu.sc.example.com' } });
    // a second update from the same (now stale) read is refused
    expect(await workloads.apply([{ kind: 'update', current, next: { ...next, meta: { ...next.meta, updatedAt: 6_500 } } }], { region: US, epoch: 1 })).toEqual(['conflict']);
    if (!after) throw new Error('missing');
    await workloads.apply([{ kind: 'update', current: after, next: { ...after, meta: { ...after.meta, updatedAt: 7_000 }, unpairedAt: 7_000 } }], { region: US, epoch: 1 });
    expect(await workloads.get(1, W, { consistent: true })).toBeNull();
    expect((await workloads.list(1, { consistent: true })).some((w) => w.id === W)).toBe(false);
  });

  it('heartbeats, the agent counter and flow summaries live in the local table', async () => {
    const local = localTableName(config, US);
    const beats = new DynamoDbHeartbeatStore(storage.client, local);
    await beats.put(1, { agentId: 'a1', workloadId: W, lastHeartbeatAt: 10, uptimeSeconds: 3, appliedVersion: 2, appliedRulesHash: 'h', appliedAt: 9, goodbyeAt: null });
    await beats.put(1, { agentId: 'a2', workloadId: W, lastHeartbeatAt: 11, uptimeSeconds: 4, appliedVersion: null, appliedRulesHash: null, appliedAt: null, goodbyeAt: 11 });
    expect(await beats.get(1, 'a1')).toEqual({ agentId: 'a1', workloadId: W, lastHeartbeatAt: 10, uptimeSeconds: 3, appliedVersion: 2, appliedRulesHash: 'h', appliedAt: 9, goodbyeAt: null });
    expect((await beats.list(1)).map((b) => b.agentId).sort()).toEqual(['a1', 'a2']);
    await beats.delete(1, 'a2');
    expect((await beats.list(1)).length).toBe(1);

    const count = new DynamoDbAgentCountStore(storage.client, local);
    expect(await count.reserve(2)).toBe(true);
    expect(await count.reserve(2)).toBe(true);
    expect(await count.reserve(2)).toBe(false);
    expect(await count.get()).toBe(2);
    expect(await count.reserve(null)).toBe(true);
    expect(await count.get()).toBe(3);
    await count.release();
    await count.set(0);
    await count.release();
    expect(await count.get()).toBe(0);

    // racing pairings never take more places than the limit
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => count.reserve(5)));
    expect(outcomes.filter(Boolean)).toHaveLength(5);
    expect(await count.get()).toBe(5);
    await count.set(0);

    const flows = new DynamoDbFlowSummaryStore(storage.client, local);
    const flow = { src_ip: '10.0.0.1', dst_ip: '10.0.0.5', dst_port: 443, proto: 6, count: 1, action: 'allowed' as const, first_seen: 1, last_seen: 2 };
    // a time to come: items whose TTL is past may be swept away by DynamoDB Local under the test
    const receivedAt = Date.now() + 60_000;
    await flows.put(1, 'a1', Array.from({ length: 1500 }, () => flow), receivedAt);
    // an upload is a few items (1,000 flows each) with a TTL, not one item per flow
    const stored = await queryPartition(storage.client, local, { pk: venKeys.flows('a1', 0, '').pk });
    expect(stored.map((i) => (i.flows as unknown[]).length).sort()).toEqual([1000, 500]);
    expect(stored[0]?.expires_at).toBe(Math.floor(receivedAt / 1000) + 7 * 86_400);
  });
});
