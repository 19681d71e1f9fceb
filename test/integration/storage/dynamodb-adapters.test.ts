/**
 * The DynamoDB adapters against real DynamoDB Local: transactions, conditions and the leader fence
 * behave as the domain relies on (unit tests use fakes of these ports).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { DuplicateLabelError } from '../../../shared/labels/label.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { DynamoDbApiKeyStore } from '../../../shared/storage/dynamodb/api-keys.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbLabelStore, IDS_PER_EPOCH } from '../../../shared/storage/dynamodb/labels.ts';
import { DynamoDbLeaderRecordStore } from '../../../shared/storage/dynamodb/leader-record.ts';
import { DynamoDbReplicationLagStore } from '../../../shared/storage/dynamodb/supercluster-status.ts';
import { keys } from '../../../shared/storage/keys.ts';
import { globalTableName, localTableName } from '../../../shared/storage/tables.ts';
import { FenceFailedError, LeaderChangedError, LeaderView } from '../../../shared/supercluster/leader.ts';
import { NotLeaderError } from '../../../shared/api/errors.ts';
import { startLeaderStorage, startTestDynamoDb, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('adapters');
const region = 'us-east-1';
const table = globalTableName(config);

describe('DynamoDB adapters (DynamoDB Local)', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  let leader: DynamoDbLeaderRecordStore;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client, leader } = storage);
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('creates the leader record once and replaces it only from the epoch it read', async () => {
    const again = await leader.createIfAbsent({ leaderRegion: 'eu-west-1', leaderFqdn: 'x', epoch: 1, assignedAt: 2, previousLeaderFqdn: null });
    expect(again.leaderRegion).toBe(region);
    const stale = { ...again, epoch: 0 };
    await expect(leader.replace(stale, { ...again, epoch: 2 })).rejects.toBeInstanceOf(LeaderChangedError);
    const item = (await client.send(new GetCommand({ TableName: table, Key: keys.leader() }))).Item;
    expect(item).toMatchObject({ origin_region: region, epoch: 1, updated_at: expect.any(Number) });
  });

  it('allocates epoch-scoped ids, enforces unique key/value, and fences writes on the leader record', async () => {
    const store = new DynamoDbLabelStore(client, table, region);
    const input = { orgId: 1, key: 'role' as const, value: 'Web', externalDataSet: null, externalDataReference: null, userId: 1, now: Date.now() };
    const a = await store.create(input, { region, epoch: 1 });
    const b = await store.create({ ...input, value: 'db' }, { region, epoch: 1 });
    expect([a.id, b.id]).toEqual([IDS_PER_EPOCH + 1, IDS_PER_EPOCH + 2]);
    await expect(store.create({ ...input, value: 'WEB' }, { region, epoch: 1 })).rejects.toBeInstanceOf(DuplicateLabelError);
    await expect(store.create({ ...input, value: 'other' }, { region, epoch: 7 })).rejects.toBeInstanceOf(FenceFailedError);
    await expect(store.create({ ...input, value: 'other' }, { region: 'eu-west-1', epoch: 1 })).rejects.toBeInstanceOf(FenceFailedError);
    expect((await store.list(1)).map((l) => l.value).sort()).toEqual(['Web', 'db']);

    const renamed = { ...a, value: 'frontend', updatedAt: a.updatedAt + 1 };
    await store.update(a, renamed, { region, epoch: 1 });
    // the old value is free again, the new one taken
    await store.create({ ...input, value: 'web' }, { region, epoch: 1 });
    await expect(store.create({ ...input, value: 'Frontend' }, { region, epoch: 1 })).rejects.toBeInstanceOf(DuplicateLabelError);
    await store.delete(renamed, { region, epoch: 1 });
    expect(await store.get(1, a.id)).toBeNull();
  });

  it('a demoted leader is refused by the fence inside the write, even with a stale cached view', async () => {
    const view = new LeaderView(leader, region, 60_000); // long cache: still believes it leads
    const labels = new LabelService({ labels: new DynamoDbLabelStore(client, table, region), leader: view });
    await labels.create({ orgId: 2, userId: 1 }, { key: 'env', value: 'before' });
    const current = await leader.get({ consistent: true });
    if (!current) throw new Error('no leader record');
    await leader.replace(current, { leaderRegion: 'eu-west-1', leaderFqdn: 'pce-eu.sc.example.com', epoch: 2, assignedAt: Date.now(), previousLeaderFqdn: current.leaderFqdn });
    const refused = labels.create({ orgId: 2, userId: 1 }, { key: 'env', value: 'after' });
    await expect(refused).rejects.toBeInstanceOf(NotLeaderError);
    await expect(refused).rejects.toMatchObject({ leaderFqdn: 'pce-eu.sc.example.com' });
    expect((await labels.list(2, {}, 500)).items.map((l) => l.value)).toEqual(['before']);
  });

  it('stores API keys hashed', async () => {
    const store = new DynamoDbApiKeyStore(client, table, region);
    const key = generateApiKey({ userId: 1, orgId: 1, now: 5 });
    expect(await store.put(key.record)).toBe(true);
    expect(await store.put(key.record)).toBe(false);
    expect(await store.get(key.record.authUsername)).toEqual(key.record);
    const raw = (await client.send(new GetCommand({ TableName: table, Key: keys.apiKey(key.record.authUsername) }))).Item;
    expect(JSON.stringify(raw)).not.toContain(key.secret);
  });

  it('keeps the newest replication lag reading when probes arrive out of order', async () => {
    const lags = new DynamoDbReplicationLagStore(client, localTableName(config, region));
    await lags.record({ peerRegion: 'eu-west-1', lagMs: 40, receivedAt: 2_000, peerWrittenAt: 1_960 });
    await lags.record({ peerRegion: 'eu-west-1', lagMs: 900, receivedAt: 2_100, peerWrittenAt: 1_200 });
    expect(await lags.list()).toEqual([{ peerRegion: 'eu-west-1', lagMs: 40, receivedAt: 2_000 }]);
  });
});

describe('bootstrap admin key (DynamoDB Local)', () => {
  it('is created once however often supercluster-init-leader runs', async () => {
    const ddb = await startTestDynamoDb();
    try {
      await ensureTables({ endpoint: ddb.endpoint, config });
      const client = dynamoDbDocumentClient(ddb.endpoint, region);
      const store = new DynamoDbApiKeyStore(client, table, region);
      expect(await store.putBootstrap(generateApiKey({ userId: 1, orgId: 1, now: 1 }).record)).toBe(true);
      expect(await store.putBootstrap(generateApiKey({ userId: 1, orgId: 1, now: 2 }).record)).toBe(false);
      client.destroy();
    } finally {
      await ddb.stop();
    }
  });
});
