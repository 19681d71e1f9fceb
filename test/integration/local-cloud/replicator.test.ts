import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalServerError, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { globalTableName } from '../../../shared/storage/tables.ts';
import { dynamoDbClient, dynamoDbStreamsClient } from '../../../infra/local/clients.ts';
import type { DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { GlobalTableReplicator, type ReplicatorEvent } from '../../../infra/local/replicator.ts';
import { fileCheckpointStore } from '../../../infra/local/stream-reader.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { REGIONS, eventually, get, put, remove, sleep, stamped, startTestDynamoDb, testConfig, uniqueKey, type TestRegion } from './helpers.ts';

const TABLE = 'repl-global';

describe('GlobalTableReplicator', () => {
  let ddb: DynamoDbLocal;
  let replicator: GlobalTableReplicator;
  const clients = {} as Record<TestRegion, DynamoDBClient>;
  const events: ReplicatorEvent[] = [];
  /** PutItem calls of the replicator into these regions fail while the counter is positive. */
  const failPuts: Partial<Record<string, number>> = {};

  const visibleIn = (region: TestRegion, pk: string) => eventually(`${pk} in ${region}`, () => get(clients[region], TABLE, pk));
  const goneFrom = (region: TestRegion, pk: string) =>
    eventually(`${pk} gone from ${region}`, async () => ((await get(clients[region], TABLE, pk)) ? undefined : true));

  beforeAll(async () => {
    ddb = await startTestDynamoDb();
    const config = testConfig('repl');
    await ensureTables({ endpoint: ddb.endpoint, config });
    for (const region of REGIONS) clients[region] = dynamoDbClient(ddb.endpoint, region);
    replicator = GlobalTableReplicator.forSupercluster(ddb.endpoint, config, {
      onEvent: (event) => events.push(event),
      clients: (region) => {
        const dynamodb = dynamoDbClient(ddb.endpoint, region);
        dynamodb.middlewareStack.add(
          (next, context) => async (args) => {
            const remaining = failPuts[region] ?? 0;
            if (context.commandName === 'PutItemCommand' && remaining > 0) {
              failPuts[region] = remaining - 1;
              throw new InternalServerError({ message: 'injected failure', $metadata: {} });
            }
            return next(args);
          },
          { step: 'initialize', name: 'injectFailures' },
        );
        return { dynamodb, streams: dynamoDbStreamsClient(ddb.endpoint, region) };
      },
    });
    await replicator.start();
  });

  afterAll(async () => {
    await replicator?.stop();
    for (const client of Object.values(clients)) client.destroy();
    await ddb?.stop();
  });

  it('replicates a put in one region to the others, attribute for attribute', async () => {
    const pk = uniqueKey('PUT');
    const item = stamped('us-east-1', pk, Date.now(), {
      name: { S: 'web' },
      bytes: { B: new Uint8Array([0, 1, 254, 255]) },
      nested: { M: { list: { L: [{ N: '1' }, { S: 'two' }, { BOOL: true }, { NULL: true }] }, set: { SS: ['a', 'b'] } } },
    });
    await put(clients['us-east-1'], TABLE, item);
    expect(await visibleIn('eu-west-1', pk)).toEqual(item);
    expect(await visibleIn('ap-southeast-1', pk)).toEqual(item);
  });

  it('replicates updates, and does not echo its own writes back', async () => {
    const pk = uniqueKey('UPDATE');
    await put(clients['eu-west-1'], TABLE, stamped('eu-west-1', pk, Date.now(), { v: { N: '1' } }));
    await eventually('v1 in ap-southeast-1', async () => ((await get(clients['ap-southeast-1'], TABLE, pk))?.v?.N === '1' ? true : undefined));
    await put(clients['eu-west-1'], TABLE, stamped('eu-west-1', pk, Date.now() + 1, { v: { N: '2' } }));
    await eventually('v2 in us-east-1', async () => ((await get(clients['us-east-1'], TABLE, pk))?.v?.N === '2' ? true : undefined));
    await eventually('v2 in ap-southeast-1', async () => ((await get(clients['ap-southeast-1'], TABLE, pk))?.v?.N === '2' ? true : undefined));
    await replicator.waitForIdle();

    const before = replicator.status().streams;
    await put(clients['eu-west-1'], TABLE, stamped('eu-west-1', uniqueKey('ECHO'), Date.now()));
    await replicator.waitForIdle();
    await sleep(200);
    const after = replicator.status().streams;
    const forwarded = (region: string, s: typeof before) => s.find((r) => r.region === region)?.forwarded ?? -1;
    expect(forwarded('eu-west-1', after)).toBe(forwarded('eu-west-1', before) + 1);
    expect(forwarded('us-east-1', after)).toBe(forwarded('us-east-1', before));
    expect(forwarded('ap-southeast-1', after)).toBe(forwarded('ap-southeast-1', before));
  });

  it('last writer wins: concurrent writes of one item converge to the higher updated_at everywhere', async () => {
    const pk = uniqueKey('LWW');
    const t = Date.now();
    replicator.pause();
    await put(clients['eu-west-1'], TABLE, stamped('eu-west-1', pk, t + 2_000, { winner: { S: 'eu' } }));
    await put(clients['us-east-1'], TABLE, stamped('us-east-1', pk, t + 1_000, { winner: { S: 'us' } }));
    await sleep(200);
    expect((await get(clients['ap-southeast-1'], TABLE, pk))).toBeUndefined();
    replicator.resume();
    await replicator.waitForIdle();
    for (const region of REGIONS) {
      const item = await get(clients[region], TABLE, pk);
      expect(item?.winner, region).toEqual({ S: 'eu' });
      expect(item?.updated_at).toEqual({ N: String(t + 2_000) });
    }
    expect(replicator.stats().find((s) => s.source === 'us-east-1' && s.target === 'eu-west-1')?.skipped_stale).toBeGreaterThan(0);
  });

  it('last writer wins: equal updated_at is decided by the higher origin_region', async () => {
    const pk = uniqueKey('TIE');
    const t = Date.now();
    replicator.pause();
    await put(clients['us-east-1'], TABLE, stamped('us-east-1', pk, t, { winner: { S: 'us' } }));
    await put(clients['eu-west-1'], TABLE, stamped('eu-west-1', pk, t, { winner: { S: 'eu' } }));
    replicator.resume();
    await replicator.waitForIdle();
    for (const region of REGIONS) expect((await get(clients[region], TABLE, pk))?.winner, region).toEqual({ S: 'us' });
  });

  it('replicates deletes', async () => {
    const pk = uniqueKey('DELETE');
    await put(clients['ap-southeast-1'], TABLE, stamped('ap-southeast-1', pk, Date.now()));
    await visibleIn('us-east-1', pk);
    await visibleIn('eu-west-1', pk);
    await remove(clients['ap-southeast-1'], TABLE, pk);
    await goneFrom('us-east-1', pk);
    await goneFrom('eu-west-1', pk);
    await replicator.waitForIdle();
    for (const region of REGIONS) expect(await get(clients[region], TABLE, pk), region).toBeUndefined();
  });

  it('a delete does not remove a newer version written concurrently elsewhere', async () => {
    const pk = uniqueKey('DELETE-VS-WRITE');
    const t = Date.now();
    await put(clients['us-east-1'], TABLE, stamped('us-east-1', pk, t, { v: { S: 'old' } }));
    await visibleIn('eu-west-1', pk);
    await visibleIn('ap-southeast-1', pk);
    replicator.pause();
    await remove(clients['us-east-1'], TABLE, pk);
    await put(clients['eu-west-1'], TABLE, stamped('eu-west-1', pk, t + 1_000, { v: { S: 'new' } }));
    replicator.resume();
    await replicator.waitForIdle();
    for (const region of REGIONS) expect((await get(clients[region], TABLE, pk))?.v, region).toEqual({ S: 'new' });
  });

  it('partition: an isolated region misses writes until resume, then gets them in order', async () => {
    const pk = uniqueKey('PARTITION');
    replicator.pause(['ap-southeast-1']);
    expect(replicator.isPaused('us-east-1', 'ap-southeast-1')).toBe(true);
    expect(replicator.isPaused('ap-southeast-1', 'eu-west-1')).toBe(true);
    expect(replicator.isPaused('us-east-1', 'eu-west-1')).toBe(false);

    const t = Date.now();
    for (let v = 1; v <= 3; v++) await put(clients['us-east-1'], TABLE, stamped('us-east-1', pk, t + v, { v: { N: String(v) } }));
    await eventually('v3 in eu-west-1', async () => ((await get(clients['eu-west-1'], TABLE, pk))?.v?.N === '3' ? true : undefined));
    await replicator.waitForIdle(); // idle apart from paused links
    expect(await get(clients['ap-southeast-1'], TABLE, pk)).toBeUndefined();
    const link = replicator.stats().find((s) => s.source === 'us-east-1' && s.target === 'ap-southeast-1');
    expect(link).toMatchObject({ paused: true });
    expect(link?.pending).toBeGreaterThanOrEqual(3);
    expect(replicator.status().isolated_regions).toEqual(['ap-southeast-1']);

    replicator.resume();
    await eventually('v3 in ap-southeast-1', async () => ((await get(clients['ap-southeast-1'], TABLE, pk))?.v?.N === '3' ? true : undefined));
    expect(replicator.stats().every((s) => !s.paused)).toBe(true);
    expect(() => replicator.pause(['mars-north-1'])).toThrow(/unknown region mars-north-1/);
  });

  it('retries transient errors without losing the change', async () => {
    const pk = uniqueKey('RETRY');
    const retriesBefore = replicator.stats().find((s) => s.source === 'us-east-1' && s.target === 'eu-west-1')?.retries ?? 0;
    failPuts['eu-west-1'] = 3;
    await put(clients['us-east-1'], TABLE, stamped('us-east-1', pk, Date.now()));
    await visibleIn('eu-west-1', pk);
    await visibleIn('ap-southeast-1', pk);
    const retriesAfter = replicator.stats().find((s) => s.source === 'us-east-1' && s.target === 'eu-west-1')?.retries ?? 0;
    expect(retriesAfter - retriesBefore).toBe(3);
    expect(events.some((e) => e.level === 'warn' && /injected failure/.test(e.message))).toBe(true);
  });

  it('measures replication lag per directed pair', async () => {
    await put(clients['us-east-1'], TABLE, stamped('us-east-1', uniqueKey('LAG'), Date.now()));
    await replicator.waitForIdle();
    const stats = replicator.stats();
    expect(stats).toHaveLength(6);
    const pair = stats.find((s) => s.source === 'us-east-1' && s.target === 'eu-west-1');
    expect(pair?.count).toBeGreaterThan(0);
    const { p50_ms, p99_ms, max_ms, last_applied_at } = pair ?? {};
    for (const value of [p50_ms, p99_ms, max_ms, last_applied_at]) expect(typeof value).toBe('number');
    expect(p50_ms ?? -1).toBeGreaterThanOrEqual(0);
    expect(p50_ms ?? 0).toBeLessThanOrEqual(p99_ms ?? 0);
    expect(p99_ms ?? 0).toBeLessThanOrEqual(max_ms ?? 0);
    expect(replicator.status()).toMatchObject({ running: true, all_paused: false });
    expect(events.filter((e) => /unstamped|not replicating/.test(e.message))).toEqual([]);
  });

  it('start() names the regions whose stream is missing', async () => {
    const orphan = new GlobalTableReplicator({
      endpoint: ddb.endpoint,
      regions: ['us-east-1', 'eu-west-1'],
      tableName: 'no-such-table',
      startTimeoutMs: 300,
      onEvent: () => undefined,
    });
    await expect(orphan.start()).rejects.toThrow(/no stream for table no-such-table in us-east-1, eu-west-1 .*run ensureTables first/);
    expect(orphan.status().running).toBe(false);
  });

  it('does not replicate items without origin_region/updated_at, and says so', async () => {
    const pk = uniqueKey('UNSTAMPED');
    await put(clients['us-east-1'], TABLE, { pk: { S: pk }, sk: { S: 'ITEM' } });
    await replicator.waitForIdle();
    expect(await get(clients['eu-west-1'], TABLE, pk)).toBeUndefined();
    expect(replicator.status().streams.find((s) => s.region === 'us-east-1')?.unstamped).toBe(1);
    expect(events.some((e) => e.message.includes(pk) && /updated_at/.test(e.message))).toBe(true);
  });

  describe('with a checkpoint store (restart on persistent data)', () => {
    let dir: string;
    let tables = 0;
    const running: GlobalTableReplicator[] = [];

    /** A table of its own per test, so a replicator sees only that test's history. */
    async function freshConfig() {
      tables++;
      const config = testConfig(`ckpt${tables}`);
      await ensureTables({ endpoint: ddb.endpoint, config });
      return { config, table: globalTableName(config), file: join(dir, `checkpoints-${tables}.json`) };
    }

    /** A replicator as after a process restart: a new instance and a checkpoint store freshly loaded from `file`. */
    async function startReplicator(config: ReturnType<typeof testConfig>, file: string): Promise<GlobalTableReplicator> {
      const r = GlobalTableReplicator.forSupercluster(ddb.endpoint, config, { checkpoints: fileCheckpointStore(file), onEvent: (event) => events.push(event) });
      running.push(r);
      await r.start();
      return r;
    }

    const countOf = (r: GlobalTableReplicator, source: string, target: string) => r.stats().find((s) => s.source === source && s.target === target)?.count;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'replicator-checkpoints-'));
    });
    afterAll(async () => {
      for (const r of running) await r.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a restarted replicator resumes after what it applied: nothing is re-applied and a deleted item does not reappear', async () => {
      const { config, table, file } = await freshConfig();
      const first = await startReplicator(config, file);
      const t = Date.now();
      await put(clients['us-east-1'], table, stamped('us-east-1', 'KEPT', t));
      await put(clients['us-east-1'], table, stamped('us-east-1', 'DELETED', t));
      await put(clients['eu-west-1'], table, stamped('eu-west-1', 'KEPT-EU', t));
      await remove(clients['us-east-1'], table, 'DELETED');
      await first.waitForIdle();
      for (const region of ['eu-west-1', 'ap-southeast-1'] as const) {
        await eventually(`KEPT in ${region}`, () => get(clients[region], table, 'KEPT'));
        expect(await get(clients[region], table, 'DELETED'), region).toBeUndefined();
      }
      expect(countOf(first, 'us-east-1', 'eu-west-1')).toBe(3); // 2 puts, 1 delete
      await first.stop();
      expect(existsSync(file)).toBe(true);

      const second = await startReplicator(config, file);
      // watch the targets while the second replicator reads the streams: a replay would put DELETED back
      // until the replayed REMOVE deletes it again
      const seen: string[] = [];
      let watching = true;
      const watch = (async () => {
        while (watching) {
          for (const region of ['eu-west-1', 'ap-southeast-1'] as const) if (await get(clients[region], table, 'DELETED')) seen.push(region);
        }
      })();
      await second.waitForIdle();
      await sleep(300);
      watching = false;
      await watch;
      expect(seen).toEqual([]);
      expect(second.stats().map((s) => [s.source, s.target, s.count])).toEqual(first.stats().map((s) => [s.source, s.target, 0]));
      await second.stop();
    });

    it('changes made while the replicator was stopped are replicated after the restart', async () => {
      const { config, table, file } = await freshConfig();
      const first = await startReplicator(config, file);
      const t = Date.now();
      await put(clients['us-east-1'], table, stamped('us-east-1', 'BEFORE', t));
      await first.waitForIdle();
      await eventually('BEFORE in ap-southeast-1', () => get(clients['ap-southeast-1'], table, 'BEFORE'));
      await first.stop();

      await put(clients['eu-west-1'], table, stamped('eu-west-1', 'WHILE-STOPPED', t + 1));
      await remove(clients['us-east-1'], table, 'BEFORE');

      const second = await startReplicator(config, file);
      await second.waitForIdle();
      for (const region of ['us-east-1', 'ap-southeast-1'] as const) expect(await get(clients[region], table, 'WHILE-STOPPED'), region).toBeDefined();
      for (const region of ['eu-west-1', 'ap-southeast-1'] as const) expect(await get(clients[region], table, 'BEFORE'), region).toBeUndefined();
      // exactly the two new changes, not the history before them
      expect(second.stats().filter((s) => s.count > 0).map((s) => [s.source, s.target, s.count, s.deletes])).toEqual([
        ['us-east-1', 'eu-west-1', 1, 1],
        ['us-east-1', 'ap-southeast-1', 1, 1],
        ['eu-west-1', 'us-east-1', 1, 0],
        ['eu-west-1', 'ap-southeast-1', 1, 0],
      ]);
      await second.stop();
    });

    it('a paused link holds the checkpoint back: what it had not applied is applied after the restart', async () => {
      const { config, table, file } = await freshConfig();
      const first = await startReplicator(config, file);
      first.setLinkPaused('us-east-1', 'ap-southeast-1', true);
      await put(clients['us-east-1'], table, stamped('us-east-1', 'HELD', Date.now()));
      await eventually('HELD in eu-west-1', () => get(clients['eu-west-1'], table, 'HELD'));
      await first.waitForIdle(); // idle apart from the paused link
      await sleep(700); // past the checkpoint store's flush interval
      await first.stop();
      expect(await get(clients['ap-southeast-1'], table, 'HELD')).toBeUndefined();

      const second = await startReplicator(config, file);
      await eventually('HELD in ap-southeast-1', () => get(clients['ap-southeast-1'], table, 'HELD'));
      // the link counts an item once its write returned, a moment after the item is readable
      await eventually('the us-east-1 -> ap-southeast-1 count', async () => ((countOf(second, 'us-east-1', 'ap-southeast-1') ?? 0) > 0 ? true : undefined));
      expect(countOf(second, 'us-east-1', 'ap-southeast-1')).toBe(1);
      await second.stop();
    });
  });
});
