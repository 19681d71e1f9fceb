/** The per-region pairing counter under a pairing storm: concurrent pairings share writes, none is lost. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbPairingUseStore } from '../../../shared/storage/dynamodb/pairing-profiles.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('pairuses');
const region = 'eu-west-1';

describe('pairing use counter on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('counts 300 concurrent pairings exactly, in far fewer writes than pairings', async () => {
    const store = new DynamoDbPairingUseStore(storage.client, storage.table, region);
    let writes = 0;
    storage.client.middlewareStack.add((next) => async (args) => {
      writes++;
      return next(args);
    }, { step: 'initialize', name: 'countWrites' });
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.record(1, 7, 1_000 + (i % 5))));
    const [record] = await store.list(1, 7);
    expect(record).toMatchObject({ profileId: 7, region, uses: 300, lastPairingAt: 1_004 });
    expect(writes).toBeLessThan(100);
    // and later pairings keep counting on
    await store.record(1, 7, 2_000);
    expect((await store.list(1, 7))[0]).toMatchObject({ uses: 301, lastPairingAt: 2_000 });
  });
});
