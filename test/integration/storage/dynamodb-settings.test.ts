/**
 * The workload settings adapter against real DynamoDB Local: one stamped global-table item per org,
 * written in a transaction fenced on the leader record and conditional on the version read.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotLeaderError, ValidationError } from '../../../shared/api/errors.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { DEFAULT_TIMEOUTS, MAX_SCOPE_LABELS, MAX_TIMEOUT_ENTRIES, TIMEOUT_SETTINGS, WorkloadSettingsChangedError, workloadSettingsToJson, type StoredWorkloadSettings } from '../../../shared/settings/workload-settings.ts';
import { WorkloadSettingsService } from '../../../shared/settings/workload-settings-service.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbLabelStore } from '../../../shared/storage/dynamodb/labels.ts';
import { DynamoDbLeaderRecordStore } from '../../../shared/storage/dynamodb/leader-record.ts';
import { DynamoDbWorkloadSettingsStore } from '../../../shared/storage/dynamodb/workload-settings.ts';
import { keys } from '../../../shared/storage/keys.ts';
import { globalTableName } from '../../../shared/storage/tables.ts';
import { FenceFailedError, LeaderView } from '../../../shared/supercluster/leader.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('settings');
const region = 'us-east-1';
const table = globalTableName(config);
const fence = { region, epoch: 1 };

describe('workload settings on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  let leader: DynamoDbLeaderRecordStore;
  let store: DynamoDbWorkloadSettingsStore;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client, leader } = storage);
    store = new DynamoDbWorkloadSettingsStore(client, table, region);
  });

  afterAll(async () => {
    await storage?.stop();
  });

  const settings = (orgId: number, updatedAt: number, disconnected: number): StoredWorkloadSettings => ({
    orgId,
    timeouts: {
      ...DEFAULT_TIMEOUTS,
      workload_disconnected_timeout_seconds: [
        { scope: [], value: disconnected, venType: null },
        { scope: [3, 7], value: -1, venType: 'endpoint' },
      ],
    },
    updatedAt,
    updatedBy: 4,
  });

  it('stores one stamped item per org and reads it back as written', async () => {
    expect(await store.get(1)).toBeNull();
    await store.put(settings(1, 1_000, 7200), null, fence);
    expect(await store.get(1, { consistent: true })).toEqual(settings(1, 1_000, 7200));
    const item = (await client.send(new GetCommand({ TableName: table, Key: keys.workloadSettings(1) }))).Item;
    expect(item).toMatchObject({
      origin_region: region,
      updated_at: 1_000,
      updated_by: 4,
      workload_disconnected_timeout_seconds: [
        { scope: [], value: 7200, ven_type: null },
        { scope: [3, 7], value: -1, ven_type: 'endpoint' },
      ],
      workload_goodbye_timeout_seconds: [{ scope: [], value: 900, ven_type: null }],
    });
  });

  it('writes only over the version it read (first write: only if none exists)', async () => {
    await store.put(settings(2, 10, 60), null, fence);
    await expect(store.put(settings(2, 11, 61), null, fence)).rejects.toBeInstanceOf(WorkloadSettingsChangedError);
    await expect(store.put(settings(2, 11, 61), 9, fence)).rejects.toBeInstanceOf(WorkloadSettingsChangedError);
    await store.put(settings(2, 11, 62), 10, fence);
    expect((await store.get(2, { consistent: true }))?.timeouts.workload_disconnected_timeout_seconds[0]?.value).toBe(62);
  });

  it('is fenced on the leader record: a stale epoch or another region writes nothing', async () => {
    await expect(store.put(settings(3, 10, 60), null, { region, epoch: 7 })).rejects.toBeInstanceOf(FenceFailedError);
    await expect(store.put(settings(3, 10, 60), null, { region: 'eu-west-1', epoch: 1 })).rejects.toBeInstanceOf(FenceFailedError);
    expect(await store.get(3, { consistent: true })).toBeNull();
  });

  it('the service: settings at the caps fit the 400 KB item; beyond them 406, nothing written (was a 500 from DynamoDB)', async () => {
    const orgId = 6;
    const labelStore = new DynamoDbLabelStore(client, table, region);
    const labels = new LabelService({ labels: labelStore, leader: new LeaderView(leader, region, 0) });
    const ids: number[] = [];
    for (let i = 0; i < MAX_SCOPE_LABELS + 8; i++) ids.push((await labels.create({ orgId, userId: 1 }, { key: 'app', value: `app-${i}` })).id);
    // distinct scopes of MAX_SCOPE_LABELS labels each: leave out a different set of 8 labels every time
    const scopes = function* (): Generator<{ href: string }[]> {
      const out = [0, 1, 2, 3, 4, 5, 6, 7];
      for (;;) {
        yield ids.filter((_, i) => !out.includes(i)).map((id) => ({ href: `/orgs/${orgId}/labels/${id}` }));
        let k = out.length - 1;
        while (k >= 0 && out[k] === ids.length - out.length + k) k--;
        if (k < 0) return;
        out[k] = (out[k] ?? 0) + 1;
        for (let j = k + 1; j < out.length; j++) out[j] = (out[j - 1] ?? 0) + 1;
      }
    };
    const timer = (entries: number) => {
      const gen = scopes();
      return [{ scope: [], value: 3600 }, ...Array.from({ length: entries - 1 }, (_, i) => ({ scope: gen.next().value ?? [], value: i, ven_type: 'server' }))];
    };
    const service = new WorkloadSettingsService({ settings: store, labels: labelStore, leader: new LeaderView(leader, region, 0) });
    await service.update({ orgId, userId: 1 }, Object.fromEntries(TIMEOUT_SETTINGS.map((s) => [s, timer(MAX_TIMEOUT_ENTRIES)])));
    const stored = await service.get(orgId);
    expect(stored.timeouts.workload_goodbye_timeout_seconds).toHaveLength(MAX_TIMEOUT_ENTRIES);
    expect(stored.timeouts.workload_goodbye_timeout_seconds.at(-1)?.scope).toHaveLength(MAX_SCOPE_LABELS);

    const tooMany = service.update({ orgId, userId: 1 }, Object.fromEntries(TIMEOUT_SETTINGS.map((s) => [s, timer(MAX_TIMEOUT_ENTRIES * 8)])));
    await expect(tooMany).rejects.toBeInstanceOf(ValidationError);
    await expect(tooMany).rejects.toMatchObject({ errors: [{ token: 'too_many_timeout_entries' }, { token: 'too_many_timeout_entries' }] });
    expect((await service.get(orgId)).updatedAt).toBe(stored.updatedAt);
  });

  it('the service: defaults, partial update checked against stored labels, and a demoted leader refused', async () => {
    const view = new LeaderView(leader, region, 60_000); // long cache: still believes it leads after the handover below
    const labelStore = new DynamoDbLabelStore(client, table, region);
    const labels = new LabelService({ labels: labelStore, leader: view });
    const service = new WorkloadSettingsService({ settings: store, labels: labelStore, leader: view });
    expect(workloadSettingsToJson(await service.get(5))).toEqual({
      href: '/orgs/5/settings/workloads',
      workload_disconnected_timeout_seconds: [{ scope: [], value: 3600 }],
      workload_goodbye_timeout_seconds: [{ scope: [], value: 900 }],
    });

    const prod = await labels.create({ orgId: 5, userId: 1 }, { key: 'env', value: 'prod' });
    await service.update({ orgId: 5, userId: 1 }, { workload_goodbye_timeout_seconds: [{ scope: [], value: 300 }, { scope: [{ href: `/orgs/5/labels/${prod.id}` }], value: -1 }] });
    const missing = service.update({ orgId: 5, userId: 1 }, { workload_goodbye_timeout_seconds: [{ value: 1 }, { scope: [{ href: `/orgs/5/labels/${prod.id + 1}` }], value: 2 }] });
    await expect(missing).rejects.toBeInstanceOf(ValidationError);
    await expect(missing).rejects.toMatchObject({ errors: [{ token: 'label_not_found' }] });
    expect(workloadSettingsToJson(await service.get(5))).toMatchObject({
      workload_disconnected_timeout_seconds: [{ scope: [], value: 3600 }],
      workload_goodbye_timeout_seconds: [{ scope: [], value: 300 }, { scope: [{ href: `/orgs/5/labels/${prod.id}` }], value: -1 }],
    });
    expect(await service.usesLabel(5, prod.id)).toBe(true);

    const current = await leader.get({ consistent: true });
    if (!current) throw new Error('no leader record');
    await leader.replace(current, { leaderRegion: 'eu-west-1', leaderFqdn: 'pce-eu.sc.example.com', epoch: 2, assignedAt: Date.now(), previousLeaderFqdn: current.leaderFqdn });
    const refused = service.update({ orgId: 5, userId: 1 }, { workload_goodbye_timeout_seconds: [{ value: 1 }] });
    await expect(refused).rejects.toBeInstanceOf(NotLeaderError);
    await expect(refused).rejects.toMatchObject({ leaderFqdn: 'pce-eu.sc.example.com' });
    expect((await service.get(5)).timeouts.workload_goodbye_timeout_seconds[0]?.value).toBe(300);
  });
});
