/**
 * The API rate-limit counter adapter against real DynamoDB Local: one item per key and minute window in
 * the PCE's local table, atomic across concurrent requests, with the table's TTL attribute set.
 */
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter, windowAt } from '../../../shared/auth/rate-limit.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbRequestCounterStore } from '../../../shared/storage/dynamodb/rate-limit.ts';
import { keys } from '../../../shared/storage/keys.ts';
import { LOCAL_TABLE, localTableName } from '../../../shared/storage/tables.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('ratelimit');
const region = 'us-east-1';
const table = localTableName(config, region);
// a minute boundary a day ahead: windows of a time already past expire at once, and DynamoDB Local's TTL
// sweeper would delete the counters under the test (Date.UTC(2026, 0, 1) did so from January 2026 on)
const T0 = Math.floor(Date.now() / 60_000) * 60_000 + 86_400_000;

describe('API rate-limit counters on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  let store: DynamoDbRequestCounterStore;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client } = storage);
    store = new DynamoDbRequestCounterStore(client, table);
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('counts per key and per window, with the window TTL in the local table', async () => {
    const w0 = windowAt(T0 + 5_000);
    const w1 = windowAt(T0 + 65_000);
    expect(await store.increment('api_00000000000000aa', w0)).toBe(1);
    expect(await store.increment('api_00000000000000aa', w0)).toBe(2);
    expect(await store.increment('api_00000000000000bb', w0)).toBe(1);
    expect(await store.increment('api_00000000000000aa', w1)).toBe(1);
    expect(await store.increment('api_00000000000000aa', w0)).toBe(3);

    const item = (await client.send(new GetCommand({ TableName: table, Key: keys.rateCounter('api_00000000000000aa', w0.minute), ConsistentRead: true }))).Item;
    expect(item).toEqual({ pk: 'RATE#api_00000000000000aa', sk: String(w0.minute), requests: 3, expires_at: w0.expiresAt });
    expect(LOCAL_TABLE.timeToLiveAttribute).toBe('expires_at');
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expires_at', TimeToLiveStatus: 'ENABLED' });
  });

  it('is atomic across concurrent requests: each gets its own count', async () => {
    const w = windowAt(T0 + 120_000);
    const counts = await Promise.all(Array.from({ length: 40 }, () => store.increment('api_00000000000000cc', w)));
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('limits the request over the limit, and fails open when the table cannot be written', async () => {
    const now = T0 + 185_000;
    const limiter = new RateLimiter({ counter: store, limitPerMinute: 2, now: () => now });
    expect((await limiter.check('api_00000000000000dd')).kind).toBe('allowed');
    expect((await limiter.check('api_00000000000000dd')).kind).toBe('allowed');
    expect(await limiter.check('api_00000000000000dd')).toEqual({ kind: 'limited', count: 3, limit: 2, retryAfterSeconds: 55 });

    const broken = new RateLimiter({ counter: new DynamoDbRequestCounterStore(client, 'no-such-table'), limitPerMinute: 2, now: () => now });
    const decision = await broken.check('api_00000000000000dd');
    expect(decision.kind).toBe('unmetered');
    expect(decision.kind === 'unmetered' && (decision.error as Error).name).toBe('ResourceNotFoundException');
  });
});
