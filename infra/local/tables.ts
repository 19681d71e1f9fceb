/**
 * Creates the supercluster's tables in DynamoDB Local from the shared definitions (shared/storage/tables.ts):
 * in each PCE region's database, the `global` table (with its NEW_AND_OLD_IMAGES stream) and that PCE's
 * `local` table (with TTL when the definition has one). Idempotent: existing tables are checked and kept.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { GLOBAL_TABLE, LEASE_TABLE, LOCAL_TABLE, globalTableName, leaseTableName, localTableName, type TableDefinition } from '../../shared/storage/tables.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { dynamoDbClient, LOCAL_LEASE_REGION } from './clients.ts';
import { errorMessage, sleep } from './internal.ts';

export { dynamoDbClient, localAwsClients, LOCAL_CREDENTIALS } from './clients.ts';

export class TableSetupError extends Error {
  override readonly name = 'TableSetupError';
}

export type TableOutcome = 'created' | 'exists';

export interface RegionTables {
  readonly region: string;
  readonly globalTable: { readonly name: string; readonly outcome: TableOutcome; readonly streamArn: string | undefined };
  readonly localTable: { readonly name: string; readonly outcome: TableOutcome };
}

export interface EnsureTablesOptions {
  readonly endpoint: string;
  readonly config: Pick<SuperclusterConfig, 'name' | 'pces'>;
  /** Per-table wait for ACTIVE (default 30 s). */
  readonly timeoutMs?: number;
}

/** The CreateTable input for `definition` (on-demand billing, stream as defined). */
export function createTableInput(tableName: string, definition: TableDefinition): CreateTableCommandInput {
  const { partitionKey, sortKey } = definition;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
      { AttributeName: sortKey.name, AttributeType: sortKey.type },
    ],
    KeySchema: [
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      { AttributeName: sortKey.name, KeyType: 'RANGE' },
    ],
    ...(definition.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } } : {}),
  };
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}

async function waitActive(client: DynamoDBClient, tableName: string, where: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = await describe(client, tableName);
    if (table?.TableStatus === 'ACTIVE') return table;
    if (Date.now() > deadline) throw new TableSetupError(`table ${tableName} in ${where} is not ACTIVE after ${timeoutMs} ms (status ${table?.TableStatus ?? 'missing'})`);
    await sleep(100);
  }
}

function checkKeySchema(table: TableDescription, tableName: string, where: string, definition: TableDefinition): void {
  const hash = table.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = table.KeySchema?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  if (hash !== definition.partitionKey.name || range !== definition.sortKey.name) {
    throw new TableSetupError(
      `table ${tableName} in ${where} exists with key (${hash ?? '-'}, ${range ?? '-'}) but the definition wants (${definition.partitionKey.name}, ${definition.sortKey.name}); delete it or use another supercluster name`,
    );
  }
}

/**
 * Creates `tableName` from `definition` in the database `client` points at, unless it exists;
 * waits until ACTIVE, enables a missing stream and TTL. `where` names the region in error messages.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  definition: TableDefinition,
  where: string,
  timeoutMs = 30_000,
): Promise<{ outcome: TableOutcome; table: TableDescription }> {
  let outcome: TableOutcome = 'exists';
  try {
    const existing = await describe(client, tableName);
    if (!existing) {
      try {
        await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
        outcome = 'created';
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err; // created concurrently: fine
      }
    }
    let table = await waitActive(client, tableName, where, timeoutMs);
    checkKeySchema(table, tableName, where, definition);

    if (definition.stream) {
      const spec = table.StreamSpecification;
      if (!spec?.StreamEnabled) {
        await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } }));
        table = await waitActive(client, tableName, where, timeoutMs);
      } else if (spec.StreamViewType !== definition.stream) {
        throw new TableSetupError(`table ${tableName} in ${where} has a ${spec.StreamViewType ?? 'unknown'} stream; the definition wants ${definition.stream}`);
      }
    }

    if (definition.timeToLiveAttribute) {
      const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
      if (ttl?.TimeToLiveStatus !== 'ENABLED' && ttl?.TimeToLiveStatus !== 'ENABLING') {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: definition.timeToLiveAttribute } }),
        );
      } else if (ttl.AttributeName !== definition.timeToLiveAttribute) {
        throw new TableSetupError(`table ${tableName} in ${where} has TTL on ${ttl.AttributeName ?? '?'}; the definition wants ${definition.timeToLiveAttribute}`);
      }
    }
    return { outcome, table };
  } catch (err) {
    if (err instanceof TableSetupError) throw err;
    throw new TableSetupError(`cannot set up table ${tableName} in ${where}: ${errorMessage(err)}`, { cause: err });
  }
}

/** In every PCE region's database: the global table (with stream) and that PCE's local table. */
export async function ensureTables(options: EnsureTablesOptions): Promise<RegionTables[]> {
  const { endpoint, config, timeoutMs } = options;
  return Promise.all(
    config.pces.map(async ({ region }): Promise<RegionTables> => {
      const client = dynamoDbClient(endpoint, region);
      try {
        const where = `region ${region} (${endpoint})`;
        const globalName = globalTableName(config);
        const localName = localTableName(config, region);
        const global = await ensureTable(client, globalName, GLOBAL_TABLE, where, timeoutMs);
        const local = await ensureTable(client, localName, LOCAL_TABLE, where, timeoutMs);
        return {
          region,
          globalTable: { name: globalName, outcome: global.outcome, streamArn: global.table.LatestStreamArn },
          localTable: { name: localName, outcome: local.outcome },
        };
      } finally {
        client.destroy();
      }
    }),
  );
}

/** The leader lease table in the lease database (LOCAL_LEASE_REGION), the local lease authority (docs/adr/0012). */
export async function ensureLeaseTable(options: EnsureTablesOptions): Promise<{ readonly name: string; readonly outcome: TableOutcome }> {
  const client = dynamoDbClient(options.endpoint, LOCAL_LEASE_REGION);
  try {
    const name = leaseTableName(options.config);
    const { outcome } = await ensureTable(client, name, LEASE_TABLE, `the lease database (${options.endpoint})`, options.timeoutMs);
    return { name, outcome };
  } finally {
    client.destroy();
  }
}
