/** Shared setup for the local-cloud integration tests: a real DynamoDB Local (in memory, random port). */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseSuperclusterConfig, type SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { rawConfig } from '../../helpers/config.ts';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { DynamoDbLeaderRecordStore } from '../../../shared/storage/dynamodb/leader-record.ts';
import { globalTableName } from '../../../shared/storage/tables.ts';
import { sleep } from '../../../shared/runtime/sleep.ts';

export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;
export type TestRegion = (typeof REGIONS)[number];

/** The shared 3-PCE test config (test/helpers/config.ts: us-east-1 leader, eu-west-1, ap-southeast-1), named `name`. */
export function testConfig(name = 'lc'): SuperclusterConfig {
  return parseSuperclusterConfig({ ...rawConfig(), name });
}

/** A JVM starting on a loaded machine (tests of several worktrees at once) may take longer than the default 30 s. */
const TEST_DYNAMODB_START_TIMEOUT_MS = 120_000;

export function startTestDynamoDb(): Promise<DynamoDbLocal> {
  return startDynamoDbLocal({ inMemory: true, startTimeoutMs: TEST_DYNAMODB_START_TIMEOUT_MS });
}

/**
 * DynamoDB Local with the config's tables, a document client in `region` and a leader record (epoch 1,
 * the leader in `region`): what the storage adapter tests start from.
 */
export async function startLeaderStorage(config: SuperclusterConfig, region: string) {
  const ddb = await startTestDynamoDb();
  await ensureTables({ endpoint: ddb.endpoint, config });
  const client = dynamoDbDocumentClient(ddb.endpoint, region);
  const table = globalTableName(config);
  const leader = new DynamoDbLeaderRecordStore(client, table, region);
  await leader.createIfAbsent({ leaderRegion: region, leaderFqdn: 'pce-us.sc.example.com', epoch: 1, assignedAt: 1, previousLeaderFqdn: null });
  return {
    ddb,
    client,
    table,
    leader,
    async stop() {
      client.destroy();
      await ddb.stop();
    },
  };
}

export { sleep };

/** Polls `probe` until it returns something other than undefined; fails after timeoutMs naming `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(intervalMs);
  }
}

export type Item = Record<string, AttributeValue>;

/** A global-table item stamped as the design requires (origin_region, updated_at). */
export function stamped(region: string, pk: string, updatedAt: number, extra: Item = {}): Item {
  return { pk: { S: pk }, sk: { S: 'ITEM' }, origin_region: { S: region }, updated_at: { N: String(updatedAt) }, ...extra };
}

export async function put(client: DynamoDBClient, table: string, item: Item): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: item }));
}

export async function get(client: DynamoDBClient, table: string, pk: string, sk = 'ITEM'): Promise<Item | undefined> {
  return (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }))).Item;
}

export async function remove(client: DynamoDBClient, table: string, pk: string, sk = 'ITEM'): Promise<void> {
  await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }));
}

let counter = 0;
/** A key unique within the test run. */
export function uniqueKey(prefix: string): string {
  counter++;
  return `${prefix}#${Date.now().toString(36)}#${counter}`;
}
