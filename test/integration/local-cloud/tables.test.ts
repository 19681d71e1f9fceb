import { DescribeTableCommand, DescribeTimeToLiveCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { dynamoDbClient, ensureTables } from '../../../infra/local/tables.ts';
import { REGIONS, get, put, stamped, startTestDynamoDb, testConfig } from './helpers.ts';

describe('ensureTables', () => {
  let ddb: DynamoDbLocal;
  const config = testConfig('tbl');

  beforeAll(async () => {
    ddb = await startTestDynamoDb();
  });
  afterAll(async () => {
    await ddb?.stop();
  });

  it('creates the global table (with stream) and the own local table (with TTL) in every region, idempotently', async () => {
    const first = await ensureTables({ endpoint: ddb.endpoint, config });
    expect(first.map((r) => r.region)).toEqual([...REGIONS]);
    for (const r of first) {
      expect(r.globalTable).toMatchObject({ name: 'tbl-global', outcome: 'created' });
      expect(r.globalTable.streamArn).toMatch(/table\/tbl-global\/stream\//);
      expect(r.localTable).toEqual({ name: `tbl-local-${r.region}`, outcome: 'created' });
    }

    for (const region of REGIONS) {
      const client = dynamoDbClient(ddb.endpoint, region);
      const names = (await client.send(new ListTablesCommand({}))).TableNames;
      expect(names).toEqual(['tbl-global', `tbl-local-${region}`]);
      const global = (await client.send(new DescribeTableCommand({ TableName: 'tbl-global' }))).Table;
      expect(global?.TableStatus).toBe('ACTIVE');
      expect(global?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
      expect(global?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: `tbl-local-${region}` }))).TimeToLiveDescription;
      expect(ttl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
      client.destroy();
    }

    const again = await ensureTables({ endpoint: ddb.endpoint, config });
    expect(again.every((r) => r.globalTable.outcome === 'exists' && r.localTable.outcome === 'exists')).toBe(true);
  });

  it('keeps each region in its own database: nothing crosses without the replicator', async () => {
    await ensureTables({ endpoint: ddb.endpoint, config });
    const us = dynamoDbClient(ddb.endpoint, 'us-east-1');
    const eu = dynamoDbClient(ddb.endpoint, 'eu-west-1');
    try {
      await put(us, 'tbl-global', stamped('us-east-1', 'SEPARATE', Date.now()));
      expect(await get(us, 'tbl-global', 'SEPARATE')).toBeDefined();
      expect(await get(eu, 'tbl-global', 'SEPARATE')).toBeUndefined();
    } finally {
      us.destroy();
      eu.destroy();
    }
  });
});
