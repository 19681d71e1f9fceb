/**
 * The workload settings adapter against real DynamoDB Local: one stamped global-table item per org,
 * written in a transaction fenced on the leader record and conditional on the version read.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotLeaderError, ValidationError } from '../../../shared/api/errors.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { DEFAULT_TIMEOUTS, WorkloadSettingsChangedError, workloadSettingsToJson, type StoredWorkloadSettings } from '../../../shared/settings/workload-settings.ts';
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
