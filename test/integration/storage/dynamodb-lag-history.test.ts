/**
 * The replication lag history on DynamoDB Local: one small item per sample in the PCE's LOCAL table (its own
 * partition, time-ordered sort keys, TTL `expires_at` in seconds), read back from a time on (oldest first), and
 * the probe's sample written from the same readings /health uses.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLagHistoryStore } from '../../../shared/storage/dynamodb/supercluster-status.ts';
import { keys, LAG_HISTORY_PARTITION } from '../../../shared/storage/keys.ts';
import { localTableName } from '../../../shared/storage/tables.ts';
import { LAG_HISTORY_SECONDS, recordLagSample, type LagSample } from '../../../shared/supercluster/lag-history.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('laghistory');
const region = 'us-east-1';
const local = localTableName(config, region);
const T0 = 1_800_000_000_000;

const sample = (at: number, lag: number | null): LagSample => ({
  at,
  pairs: [
    { pceRegion: 'us-east-1', peerRegion: 'eu-west-1', lagSeconds: lag },
    { pceRegion: 'eu-west-1', peerRegion: 'us-east-1', lagSeconds: 0.2 },
  ],
});

describe('DynamoDbLagHistoryStore (DynamoDB Local)', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let history: DynamoDbLagHistoryStore;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    history = new DynamoDbLagHistoryStore(storage.client, local);
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('stores one small item per sample in the local table, with its TTL in epoch seconds', async () => {
    await history.append(sample(T0, 0.35), T0 + 3_600_000);
    const item = (await storage.client.send(new GetCommand({ TableName: local, Key: keys.lagSample(T0) }))).Item;
    expect(item).toMatchObject({ pk: LAG_HISTORY_PARTITION, at: T0, expires_at: Math.ceil((T0 + 3_600_000) / 1000), pairs: [['us-east-1', 'eu-west-1', 0.35], ['eu-west-1', 'us-east-1', 0.2]] });
    // not a replicated item: no stamp, and nothing of it in the global table
    expect(item).not.toHaveProperty('origin_region');
    expect(JSON.stringify(item).length).toBeLessThan(400);
  });

  it('reads the samples from a time on, oldest first, null lags kept', async () => {
    // written out of order
    for (const [at, lag] of [[T0 + 10_000, 0.4], [T0 - 5_000, 9], [T0 + 5_000, null], [T0 + 100_000, 0.1]] as const) await history.append(sample(at, lag), at + 3_600_000);
    const got = await history.since(T0 + 1);
    expect(got.map((s) => s.at)).toEqual([T0 + 5_000, T0 + 10_000, T0 + 100_000]);
    expect(got[0]).toEqual(sample(T0 + 5_000, null));
    expect((await history.since(T0 - 5_000)).map((s) => s.at)).toEqual([T0 - 5_000, T0, T0 + 5_000, T0 + 10_000, T0 + 100_000]);
    expect(await history.since(T0 + 200_000)).toEqual([]);
  });

  it('recordLagSample writes the matrix /health computes, expiring an hour later', async () => {
    const now = T0 + 500_000;
    const reports = [{ region: 'eu-west-1', fqdn: 'pce-eu.sc.example.com', writtenAt: now - 1_000, startedAt: 0, runlevel: 5, lags: [{ peerRegion: 'us-east-1', lagMs: 300, receivedAt: now - 1_200 }] }];
    const written = await recordLagSample(history, { config, reports, self: { region, lags: [{ peerRegion: 'eu-west-1', lagMs: 250, receivedAt: now - 100 }] }, now });
    const [stored] = await history.since(now);
    expect(stored).toEqual(written);
    expect(stored?.pairs.find((p) => p.pceRegion === region && p.peerRegion === 'eu-west-1')?.lagSeconds).toBe(0.3);
    expect(stored?.pairs.find((p) => p.pceRegion === 'eu-west-1' && p.peerRegion === 'us-east-1')?.lagSeconds).toBe(0.3);
    const item = (await storage.client.send(new GetCommand({ TableName: local, Key: keys.lagSample(now) }))).Item;
    expect(item?.expires_at).toBe(Math.ceil((now + LAG_HISTORY_SECONDS * 1000) / 1000));
  });
});
