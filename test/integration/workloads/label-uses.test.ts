/**
 * Label uses against real DynamoDB Local (ADR 0015): the use items each workload writer keeps with its
 * items, label DELETE refusing a used label and accepting an unused one at a cost (items DynamoDB
 * evaluated, through the benchmarks' metering proxy) that does not grow with the org, and the backfill.
 */
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffCounts, startDynamoDbMeter, type DynamoDbMeter, type MeterCounts } from '../../../bench/lib/dynamodb-meter.ts';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { labelUsesOf } from '../../../shared/labels/label-uses.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbLabelStore } from '../../../shared/storage/dynamodb/labels.ts';
import { DynamoDbManagedWorkloadStore } from '../../../shared/storage/dynamodb/managed-workloads.ts';
import { DynamoDbWorkloadStore } from '../../../shared/storage/dynamodb/workloads.ts';
import { labelUseKeys } from '../../../shared/storage/workload-keys.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import type { ManagedAgent } from '../../../shared/workloads/workload.ts';
import { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('lu');
const US = 'us-east-1';
const EU = 'eu-west-1';
const fence = { region: US, epoch: 1 };
const actor = (orgId: number) => ({ orgId, userId: 1 });
const href = (orgId: number, id: number) => ({ href: `/orgs/${orgId}/labels/${id}` });

const agent = (over: Partial<ManagedAgent> = {}): ManagedAgent => ({
  agentId: '11111111-1111-4111-8111-111111111111',
  pceFqdn: 'pce-eu.sc.example.com',
  region: EU,
  since: 1_000,
  pairedPceFqdn: 'pce-eu.sc.example.com',
  pairedAt: 1_000,
  pairingProfileId: 4,
  hostname: 'ven-1',
  osId: 'ubuntu',
  osDetail: null,
  agentVersion: '22.5.0',
  status: 'active',
  interfaces: [],
  online: true,
  labels: [],
  enforcementMode: 'visibility_only',
  visibilityLevel: 'flow_summary',
  updatedAt: 1_000,
  ...over,
});

describe('label uses on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let meter: DynamoDbMeter;
  let metered: DynamoDBDocumentClient;
  let store: DynamoDbWorkloadStore;
  let labelStore: DynamoDbLabelStore;
  let service: WorkloadService;
  let labels: LabelService;

  /** the use items of a label: sort keys */
  const usesOf = async (orgId: number, labelId: number): Promise<string[]> => {
    const out = await storage.client.send(new QueryCommand({ TableName: storage.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': labelUseKeys.partition(orgId, labelId) }, ConsistentRead: true }));
    return (out.Items ?? []).map((i) => String(i.sk)).sort();
  };
  /** what `fn` cost in DynamoDB through the meter */
  const cost = async (fn: () => Promise<unknown>): Promise<{ counts: MeterCounts; error: unknown }> => {
    const before = meter.snapshot();
    let error: unknown = null;
    try {
      await fn();
    } catch (err) {
      error = err;
    }
    return { counts: diffCounts(meter.snapshot(), before), error };
  };

  beforeAll(async () => {
    storage = await startLeaderStorage(config, US);
    meter = await startDynamoDbMeter(storage.ddb.endpoint);
    metered = dynamoDbDocumentClient(meter.endpoint, US);
    const leader = new LeaderView(storage.leader, US, 0);
    labelStore = new DynamoDbLabelStore(storage.client, storage.table, US);
    store = new DynamoDbWorkloadStore(metered, storage.table, US);
    service = new WorkloadService({ workloads: store, labels: labelStore, leader, pceFqdns: config.pces.map((p) => p.fqdn) });
    const unused = { isLabelInUse: async () => false, usesLabel: async () => false };
    labels = new LabelService({ labels: labelStore, leader, usesOf: labelUsesOf({ policy: unused, workloads: store, settings: unused }) });
  });

  afterAll(async () => {
    metered?.destroy();
    await meter?.close();
    await storage?.stop();
  });

  it('the leader writes a META use per label with the workload, moves only the changed labels, and removes them on delete', async () => {
    const web = await labels.create(actor(1), { key: 'role', value: 'web' });
    const db = await labels.create(actor(1), { key: 'role', value: 'db' });
    const prod = await labels.create(actor(1), { key: 'env', value: 'prod' });
    const created = await cost(() => service.create(actor(1), { name: 'w1', labels: [href(1, web.id), href(1, prod.id)] }));
    expect(created.error).toBeNull();
    // META + CONTEXT + one use per label
    expect(created.counts.itemsWritten).toBe(4);
    const [w] = await store.list(1);
    if (!w) throw new Error('missing');
    expect(await usesOf(1, web.id)).toEqual([`${w.id}#META`]);
    expect(await usesOf(1, prod.id)).toEqual([`${w.id}#META`]);

    // web -> db: META, one use deleted, one put; prod untouched
    const changed = await cost(() => service.update(actor(1), w.id, { labels: [href(1, db.id), href(1, prod.id)] }));
    expect(changed.error).toBeNull();
    expect(changed.counts.itemsWritten).toBe(3);
    expect(await usesOf(1, web.id)).toEqual([]);
    expect(await usesOf(1, db.id)).toEqual([`${w.id}#META`]);
    // a change that keeps the labels writes no use item
    const renamed = await cost(() => service.update(actor(1), w.id, { name: 'w1-renamed' }));
    expect(renamed.counts.itemsWritten).toBe(1);

    await service.delete(actor(1), w.id);
    expect(await usesOf(1, db.id)).toEqual([]);
    expect(await usesOf(1, prod.id)).toEqual([]);
  });

  it('label DELETE refuses a used label and accepts an unused one, reading the same few items whatever the number of workloads', async () => {
    const orgId = 2;
    const used = await labels.create(actor(orgId), { key: 'env', value: 'prod' });
    const other = await labels.create(actor(orgId), { key: 'app', value: 'crm' });
    const deleteCost = async (labelId: number) => {
      const { counts, error } = await cost(() => labels.delete(actor(orgId), labelId));
      return { itemsRead: counts.itemsRead, token: (error as { errors?: { token: string }[] } | null)?.errors?.[0]?.token ?? null };
    };
    const grow = async (n: number, from: number) => {
      const results = await service.bulkCreate(actor(orgId), Array.from({ length: n }, (_, i) => ({ name: `w-${from + i}`, labels: [href(orgId, other.id), ...(from + i === 0 ? [href(orgId, used.id)] : [])] })));
      expect(results.every((r) => r.status === 'created')).toBe(true);
    };

    await grow(10, 0);
    const small = { inUse: await deleteCost(used.id), unused: await deleteCost((await labels.create(actor(orgId), { key: 'loc', value: 'unused-1' })).id) };
    await grow(300, 10);
    expect(await store.count(orgId)).toBe(310);
    const large = { inUse: await deleteCost(used.id), unused: await deleteCost((await labels.create(actor(orgId), { key: 'loc', value: 'unused-2' })).id) };

    expect(small.inUse.token).toBe('label_in_use');
    expect(large.inUse.token).toBe('label_in_use');
    expect(small.unused.token).toBeNull();
    expect(large.unused.token).toBeNull();
    // the label, its use item, the workload's items: the same at 10 and at 310 workloads
    expect(large.inUse.itemsRead).toBe(small.inUse.itemsRead);
    expect(large.unused.itemsRead).toBe(small.unused.itemsRead);
    expect(large.inUse.itemsRead).toBeLessThanOrEqual(6);
    expect(large.unused.itemsRead).toBeLessThanOrEqual(2);
    expect(await labelStore.get(orgId, used.id)).not.toBeNull();
  });

  it('a managed workload: the managing PCE keeps its agent item\'s uses; META overrides them; unpair and clean-up remove them', async () => {
    const orgId = 3;
    const euClient = dynamoDbDocumentClient(storage.ddb.endpoint, US);
    try {
      const eu = new DynamoDbManagedWorkloadStore(euClient, storage.table, EU);
      const ap = new DynamoDbManagedWorkloadStore(euClient, storage.table, 'ap-southeast-1');
      const W = '33333333-3333-4333-8333-333333333333';
      await eu.pair({ agentId: agent().agentId, orgId, workloadId: W, tokenHash: 'a'.repeat(64), originRegion: EU, createdAt: 1_000 }, orgId, W, agent({ labels: [70, 71] }));
      expect(await usesOf(orgId, 70)).toEqual([`${W}#AGENT#${EU}`]);
      expect(await store.usesLabel(orgId, 70)).toBe(true);

      // a heartbeat's update of its own item keeps the labels: no use written
      expect(await eu.putAgent(orgId, W, agent({ labels: [70, 71], online: false, updatedAt: 2_000 }), 1_000)).toBe(true);
      // a take-over by another PCE: its agent item and its uses in one transaction
      expect(await ap.putAgent(orgId, W, agent({ labels: [70, 71], region: 'ap-southeast-1', pceFqdn: 'pce-ap.sc.example.com', since: 3_000, updatedAt: 3_000 }))).toBe(true);
      expect(await usesOf(orgId, 71)).toEqual([`${W}#AGENT#ap-southeast-1`, `${W}#AGENT#${EU}`]);
      // the PCE it left cleans up its item and that item's uses
      await eu.deleteAgent(orgId, W);
      expect(await usesOf(orgId, 71)).toEqual([`${W}#AGENT#ap-southeast-1`]);

      // the leader's META sets other labels: the agent item's uses remain, but the label is not in use any more
      const current = await store.get(orgId, W, { consistent: true });
      if (!current) throw new Error('missing');
      expect(await store.apply([{ kind: 'update', current, next: { ...current, meta: { ...current.meta, labels: [72], updatedAt: 4_000 } } }], fence)).toEqual(['ok']);
      expect(await usesOf(orgId, 72)).toEqual([`${W}#META`]);
      expect(await store.usesLabel(orgId, 71)).toBe(false);
      expect(await store.usesLabel(orgId, 72)).toBe(true);

      // unpair: the leader's META uses go with it, the managing PCE's with its agent item
      const paired = await store.get(orgId, W, { consistent: true });
      if (!paired) throw new Error('missing');
      expect(await store.apply([{ kind: 'update', current: paired, next: { ...paired, unpairedAt: 5_000, meta: { ...paired.meta, updatedAt: 5_000 } } }], fence)).toEqual(['ok']);
      expect(await usesOf(orgId, 72)).toEqual([]);
      await ap.deleteAgent(orgId, W);
      expect(await usesOf(orgId, 70)).toEqual([]);
      expect(await usesOf(orgId, 71)).toEqual([]);
    } finally {
      euClient.destroy();
    }
  });

  it('a use that points at nothing (a pairing that failed half-way) does not make the label used', async () => {
    const orgId = 4;
    const eu = new DynamoDbManagedWorkloadStore(storage.client, storage.table, EU);
    const W = '44444444-4444-4444-8444-444444444444';
    await eu.pair({ agentId: '55555555-5555-4555-8555-555555555555', orgId, workloadId: W, tokenHash: 'b'.repeat(64), originRegion: EU, createdAt: 1_000 }, orgId, W, agent({ labels: [80] }));
    await storage.client.send(new DeleteCommand({ TableName: storage.table, Key: { pk: `ORG#${orgId}#WORKLOADS`, sk: `${W}#AGENT#${EU}` } }));
    expect(await usesOf(orgId, 80)).toHaveLength(1);
    expect(await store.usesLabel(orgId, 80)).toBe(false);
  });

  it('the backfill writes, per region, the uses of the items it writes (META in the leader region, its own agent items)', async () => {
    const orgId = 5;
    const prod = await labels.create(actor(orgId), { key: 'env', value: 'prod' });
    const w = await service.create(actor(orgId), { name: 'old', labels: [href(orgId, prod.id)] });
    const eu = new DynamoDbManagedWorkloadStore(storage.client, storage.table, EU);
    const M = '66666666-6666-4666-8666-666666666666';
    await eu.pair({ agentId: '77777777-7777-4777-8777-777777777777', orgId, workloadId: M, tokenHash: 'c'.repeat(64), originRegion: EU, createdAt: 1_000 }, orgId, M, agent({ labels: [prod.id] }));
    // as data from before label uses: none stored
    for (const sk of await usesOf(orgId, prod.id)) await storage.client.send(new DeleteCommand({ TableName: storage.table, Key: { pk: labelUseKeys.partition(orgId, prod.id), sk } }));
    expect(await store.usesLabel(orgId, prod.id)).toBe(false);

    expect(await store.backfillLabelUses(orgId, { meta: true })).toEqual({ items: 1, uses: 1 });
    expect(await usesOf(orgId, prod.id)).toEqual([`${w.id}#META`]);
    expect(await new DynamoDbWorkloadStore(storage.client, storage.table, EU).backfillLabelUses(orgId, { meta: false })).toEqual({ items: 1, uses: 1 });
    expect(await usesOf(orgId, prod.id)).toEqual([`${M}#AGENT#${EU}`, `${w.id}#META`].sort());
    // idempotent
    expect(await store.backfillLabelUses(orgId, { meta: true })).toEqual({ items: 1, uses: 1 });
    expect(await usesOf(orgId, prod.id)).toHaveLength(2);
    await expect(labels.delete(actor(orgId), prod.id)).rejects.toMatchObject({ errors: [{ token: 'label_in_use', message: expect.stringContaining('at least one workload') }] });
  });
});
