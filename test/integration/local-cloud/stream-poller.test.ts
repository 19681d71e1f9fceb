import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ExpiredIteratorException } from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { GLOBAL_TABLE } from '../../../shared/storage/tables.ts';
import { dynamoDbClient, dynamoDbStreamsClient } from '../../../infra/local/clients.ts';
import type { DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { fileCheckpointStore } from '../../../infra/local/stream-reader.ts';
import { pollTableStream, type StreamBatchFailure } from '../../../infra/local/stream-poller.ts';
import { ensureTable } from '../../../infra/local/tables.ts';
import { eventually, put, remove, sleep, stamped, startTestDynamoDb } from './helpers.ts';

const REGION = 'eu-west-1';

describe('pollTableStream', () => {
  let ddb: DynamoDbLocal;
  let client: DynamoDBClient;
  let tables = 0;

  /** A fresh table with a stream, so each test sees only its own records. */
  async function freshTable(): Promise<string> {
    tables++;
    const name = `poller-${tables}`;
    await ensureTable(client, name, GLOBAL_TABLE, REGION);
    return name;
  }

  const sequenceOf = (r: DynamoDBRecord): string => r.dynamodb?.SequenceNumber ?? '';
  const pkOf = (r: DynamoDBRecord): string => r.dynamodb?.Keys?.pk?.S ?? '';

  beforeAll(async () => {
    ddb = await startTestDynamoDb();
    client = dynamoDbClient(ddb.endpoint, REGION);
  });
  afterAll(async () => {
    client?.destroy();
    await ddb?.stop();
  });

  it('delivers Lambda-shaped records (INSERT, MODIFY, REMOVE) with DynamoDB JSON images', async () => {
    const table = await freshTable();
    const events: DynamoDBStreamEvent[] = [];
    const contexts: Context[] = [];
    const poller = pollTableStream({
      client: dynamoDbStreamsClient(ddb.endpoint, REGION),
      tableName: table,
      region: REGION,
      batchSize: 10,
      handler: async (event, context) => {
        events.push(event);
        contexts.push(context);
      },
    });
    try {
      const arn = await poller.ready;
      const t = Date.now();
      await put(client, table, stamped(REGION, 'A', t, { bin: { B: new Uint8Array([1, 2, 3]) }, tags: { SS: ['x'] }, m: { M: { n: { N: '7' } } } }));
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'A' }, sk: { S: 'ITEM' } },
          UpdateExpression: 'SET updated_at = :t',
          ExpressionAttributeValues: { ':t': { N: String(t + 1) } },
        }),
      );
      await remove(client, table, 'A');
      const records = await eventually('3 records', async () => {
        const all = events.flatMap((e) => e.Records);
        return all.length >= 3 ? all : undefined;
      });
      expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
      const [insert, modify, removal] = records;
      const lambdaArn = arn.replace(/^arn:aws:dynamodb:[^:]*:/, `arn:aws:dynamodb:${REGION}:`);
      expect(insert).toMatchObject({
        eventSource: 'aws:dynamodb',
        eventVersion: '1.1',
        awsRegion: REGION,
        eventSourceARN: lambdaArn,
        dynamodb: {
          Keys: { pk: { S: 'A' }, sk: { S: 'ITEM' } },
          NewImage: {
            pk: { S: 'A' },
            sk: { S: 'ITEM' },
            origin_region: { S: REGION },
            updated_at: { N: String(t) },
            bin: { B: 'AQID' },
            tags: { SS: ['x'] },
            m: { M: { n: { N: '7' } } },
          },
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      });
      expect(insert?.eventSourceARN).toMatch(new RegExp(`^arn:aws:dynamodb:${REGION}:\\d+:table/${table}/stream/`));
      expect(insert?.eventID).toEqual(expect.any(String));
      expect(insert?.dynamodb?.OldImage).toBeUndefined();
      expect(insert?.dynamodb?.SequenceNumber).toEqual(expect.any(String));
      expect(Math.abs((insert?.dynamodb?.ApproximateCreationDateTime ?? 0) - t / 1000)).toBeLessThan(120);
      expect(modify?.dynamodb?.OldImage?.updated_at).toEqual({ N: String(t) });
      expect(modify?.dynamodb?.NewImage?.updated_at).toEqual({ N: String(t + 1) });
      expect(removal?.dynamodb?.NewImage).toBeUndefined();
      expect(removal?.dynamodb?.OldImage?.updated_at).toEqual({ N: String(t + 1) });
      expect(contexts[0]?.functionName).toBe(`stream-${table}-${REGION}`);
      expect(contexts[0]?.getRemainingTimeInMillis()).toBeGreaterThan(0);
    } finally {
      await poller.stop();
    }
  });

  it('retries from the first record the handler reported as failed', async () => {
    const table = await freshTable();
    for (const pk of ['R1', 'R2', 'R3']) await put(client, table, stamped(REGION, pk, Date.now()));
    const invocations: string[][] = [];
    const poller = pollTableStream({
      client: dynamoDbStreamsClient(ddb.endpoint, REGION),
      tableName: table,
      region: REGION,
      retryBaseDelayMs: 10,
      handler: async (event): Promise<DynamoDBBatchResponse> => {
        invocations.push(event.Records.map(pkOf));
        const r2 = event.Records.find((r) => pkOf(r) === 'R2');
        return invocations.length === 1 && r2 ? { batchItemFailures: [{ itemIdentifier: sequenceOf(r2) }] } : { batchItemFailures: [] };
      },
    });
    try {
      await eventually('the retry', async () => (invocations.length >= 2 ? true : undefined));
      await sleep(200);
      expect(invocations).toEqual([
        ['R1', 'R2', 'R3'],
        ['R2', 'R3'],
      ]);
    } finally {
      await poller.stop();
    }
  });

  it('gives up after maximumRetryAttempts, reports to onFailure, and moves on', async () => {
    const table = await freshTable();
    await put(client, table, stamped(REGION, 'POISON', Date.now()));
    const seen: string[] = [];
    const failures: StreamBatchFailure[] = [];
    const errors: Error[] = [];
    const poller = pollTableStream({
      client: dynamoDbStreamsClient(ddb.endpoint, REGION),
      tableName: table,
      region: REGION,
      maximumRetryAttempts: 2,
      retryBaseDelayMs: 10,
      onFailure: (failure) => {
        failures.push(failure);
      },
      onError: (error) => errors.push(error),
      handler: async (event) => {
        for (const record of event.Records) {
          seen.push(pkOf(record));
          if (pkOf(record) === 'POISON') throw new Error('cannot handle POISON');
        }
      },
    });
    try {
      await eventually('onFailure', async () => (failures.length > 0 ? true : undefined));
      expect(seen).toEqual(['POISON', 'POISON', 'POISON']); // 1 attempt + 2 retries
      expect(failures[0]).toMatchObject({ condition: 'RetryAttemptsExhausted', attempts: 3, lastError: 'Error: cannot handle POISON', region: REGION });
      expect(failures[0]?.records.map(pkOf)).toEqual(['POISON']);
      expect(errors.filter((e) => /cannot handle POISON/.test(e.message))).toHaveLength(3);

      await put(client, table, stamped(REGION, 'NEXT', Date.now()));
      await eventually('the next record', async () => (seen.includes('NEXT') ? true : undefined));
      expect(failures).toHaveLength(1);
    } finally {
      await poller.stop();
    }
  });

  it('renews an expired shard iterator without losing or repeating records', async () => {
    const table = await freshTable();
    const streams = dynamoDbStreamsClient(ddb.endpoint, REGION);
    let expireNext = 0;
    streams.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetRecordsCommand' && expireNext > 0) {
          expireNext--;
          throw new ExpiredIteratorException({ message: 'injected: iterator expired', $metadata: {} });
        }
        return next(args);
      },
      { step: 'initialize', name: 'expireIterators' },
    );
    const seen: string[] = [];
    const poller = pollTableStream({ client: streams, tableName: table, region: REGION, handler: async (e) => void seen.push(...e.Records.map(pkOf)) });
    try {
      await put(client, table, stamped(REGION, 'E1', Date.now()));
      await eventually('E1', async () => (seen.includes('E1') ? true : undefined));
      expireNext = 3;
      await put(client, table, stamped(REGION, 'E2', Date.now()));
      await put(client, table, stamped(REGION, 'E3', Date.now()));
      await eventually('E3', async () => (seen.includes('E3') ? true : undefined));
      await sleep(200);
      expect(expireNext).toBe(0);
      expect(seen).toEqual(['E1', 'E2', 'E3']);
    } finally {
      await poller.stop();
    }
  });

  it('resumes after the last processed record with a checkpoint store', async () => {
    const table = await freshTable();
    const dir = mkdtempSync(join(tmpdir(), 'checkpoints-'));
    const file = join(dir, 'checkpoints.json');
    try {
      const seen: string[] = [];
      const start = () =>
        pollTableStream({
          client: dynamoDbStreamsClient(ddb.endpoint, REGION),
          tableName: table,
          region: REGION,
          checkpoints: fileCheckpointStore(file),
          handler: async (e) => void seen.push(...e.Records.map(pkOf)),
        });
      const first = start();
      await put(client, table, stamped(REGION, 'C1', Date.now()));
      await eventually('C1', async () => (seen.includes('C1') ? true : undefined));
      await first.stop();

      await put(client, table, stamped(REGION, 'C2', Date.now()));
      const second = start();
      await eventually('C2', async () => (seen.includes('C2') ? true : undefined));
      await sleep(200);
      await second.stop();
      expect(seen).toEqual(['C1', 'C2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
