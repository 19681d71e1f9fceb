/**
 * The local embedded cloud: a whole supercluster on loopback, driving the same Lambda handlers with
 * the same AWS SDK clients.
 *   DynamoDB Local (one JVM, one database per region)  <- global + local tables from shared/storage/tables.ts
 *   GlobalTableReplicator                              <- emulates global-table replication between regions
 *   local-aws-sqs                                      <- each PCE's compute queue + DLQ
 *   one process per PCE (pce-process.ts)               <- API on its own loopback address, stream router, compute, probes
 */
import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../../shared/runtime/env.ts';
import { globalTableName, localTableName } from '../../shared/storage/tables.ts';
import { bootstrapDeps, initializeSupercluster } from '../../shared/supercluster/bootstrap.ts';
import { globalTableAdapters } from '../../shared/storage/dynamodb/adapters.ts';
import { initialLeader, type SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { dynamoDbDocumentClient, localAwsEnvironment } from './clients.ts';
import { startControlServer, type ControlServer } from './control-server.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { isPortFree, sleep } from './internal.ts';
import { LOCAL_PCE_ENV, type PceProcessMessage } from './pce-protocol.ts';
import { GlobalTableReplicator } from './replicator.ts';
import { ensureQueues, startSqsServer, type SqsServer } from './sqs-server.ts';
import { fileCheckpointStore } from './stream-reader.ts';
import { ensureTables } from './tables.ts';

const PCE_PROCESS = resolve(dirname(fileURLToPath(import.meta.url)), 'pce-process.ts');

export interface LocalSuperclusterOptions {
  readonly config: SuperclusterConfig;
  /** where data persists across restarts (default .local) */
  readonly dataDir: string;
  /** start empty */
  readonly fresh?: boolean;
  /** first PCE address; the others follow (127.0.0.11, 127.0.0.12, ...) */
  readonly firstAddress?: string;
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface LocalPce {
  readonly fqdn: string;
  readonly region: string;
  readonly url: string;
  readonly role: 'leader' | 'member';
  readonly buddy: string;
  /** the PCE's VEN channel (WebSocket), handed to VENs at activation as push_url */
  readonly ven_channel_url: string;
  /** the PCE's compute queue on the local SQS server (tools wait for it to drain, e.g. the VEN simulator before it times a provision) */
  readonly compute_queue_url: string;
}

/** The facts written to <dataDir>/supercluster.json for scripts and users. */
export interface LocalSuperclusterState {
  readonly org_id: number;
  readonly api_key: { readonly username: string; readonly secret: string };
  readonly supercluster_fqdn: string;
  readonly leader_fqdn: string;
  readonly gslb: { readonly dns: string | null; readonly client_subnets: Record<string, string> };
  readonly pces: LocalPce[];
  readonly local: { readonly dynamodb: string; readonly sqs: string; readonly control: string; readonly data_dir: string; readonly started_at: string; readonly ready_ms: number };
}

export interface LocalSupercluster {
  readonly state: LocalSuperclusterState;
  readonly replicator: GlobalTableReplicator;
  stop(): Promise<void>;
}

export class LocalCloudError extends Error {
  override readonly name = 'LocalCloudError';
}

export function pceAddress(firstAddress: string, index: number): string {
  const parts = firstAddress.split('.').map(Number);
  const last = (parts[3] ?? 0) + index;
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p)) || parts[0] !== 127 || last > 254) throw new LocalCloudError(`${firstAddress} + ${index} is not a usable loopback address`);
  return [parts[0], parts[1], parts[2], last].join('.');
}

interface StoredKey {
  username: string;
  secret: string;
}

async function waitForHttp(url: string, expect: (status: number) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (expect(res.status)) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new LocalCloudError(`${url} did not become ready within ${timeoutMs} ms (last: ${last})`);
}

function forkPce(env: Record<string, string>, log: (line: string) => void, fqdn: string): Promise<{ child: ChildProcess; url: string; venChannelUrl: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(PCE_PROCESS, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const prefix = (chunk: Buffer) =>
      chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .forEach((l) => log(`[${fqdn}] ${l}`));
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    child.once('message', (message: PceProcessMessage) => {
      if (message.type === 'ready') resolvePromise({ child, url: message.url, venChannelUrl: message.venChannelUrl });
      else reject(new LocalCloudError(`${fqdn} failed to start: ${message.error}`));
    });
    child.once('exit', (code) => reject(new LocalCloudError(`${fqdn} exited during start (code ${code})`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

export async function startLocalSupercluster(options: LocalSuperclusterOptions): Promise<LocalSupercluster> {
  const started = Date.now();
  const { config } = options;
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const firstAddress = options.firstAddress ?? '127.0.0.11';
  const port = options.port ?? 8443;
  const addresses = config.pces.map((_, i) => pceAddress(firstAddress, i));
  for (const address of addresses) {
    // the PCE's HTTP API on `port`, its VEN channel on port + 1
    if (!(await isPortFree(port, address)) || !(await isPortFree(port + 1, address))) throw new LocalCloudError(`${address}:${port} is in use: is another \`npm start\` running? Stop it, or pick other addresses with --first-address / --port`);
  }
  if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const stateFile = join(dataDir, 'supercluster.json');
  rmSync(stateFile, { force: true });

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`shutdown: ${(err as Error).message}`));
    stops.length = 0;
  };

  try {
    log('starting DynamoDB Local ...');
    const ddb: DynamoDbLocal = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb') });
    stops.push(() => ddb.stop());
    log('starting the SQS server ...');
    const sqs: SqsServer = await startSqsServer({ dataDir: join(dataDir, 'sqs') });
    stops.push(() => sqs.stop());

    await ensureTables({ endpoint: ddb.endpoint, config });
    const queues = new Map<string, { computeQueueUrl: string; dlqUrl: string }>();
    for (const pce of config.pces) {
      const q = await ensureQueues(sqs.endpoint, pce.region, { compute: `${config.name}-compute-${pce.region}.fifo`, dlq: `${config.name}-compute-dlq-${pce.region}.fifo` });
      queues.set(pce.region, q);
    }

    // first start: org, members, leader record and the bootstrap admin key (stored hashed in DynamoDB;
    // the plain secret is kept for the local user in <dataDir>/admin-api-key.json, mode 0600)
    const leaderRegion = initialLeader(config).region;
    const ddbDoc = dynamoDbDocumentClient(ddb.endpoint, leaderRegion);
    const g = globalTableName(config);
    const keyFile = join(dataDir, 'admin-api-key.json');
    const boot = await initializeSupercluster(bootstrapDeps(config, globalTableAdapters(ddbDoc, g, leaderRegion), leaderRegion), { apiKey: existsSync(keyFile) ? 'none' : 'new' });
    ddbDoc.destroy();
    if (boot.createdApiKey) {
      writeFileSync(keyFile, JSON.stringify({ username: boot.createdApiKey.authUsername, secret: boot.createdApiKey.secret }), { mode: 0o600 });
      log(`created the bootstrap admin API key ${boot.createdApiKey.authUsername}`);
    }
    const apiKey = JSON.parse(readFileSync(keyFile, 'utf8')) as StoredKey;

    const replicator = new GlobalTableReplicator({
      endpoint: ddb.endpoint,
      tableName: g,
      regions: config.pces.map((p) => p.region),
      // resume the streams on existing data instead of replaying them (replays briefly resurrect deleted items)
      checkpoints: fileCheckpointStore(join(dataDir, 'replicator-checkpoints.json')),
    });
    await replicator.start();
    stops.push(() => replicator.stop());

    const control: ControlServer = await startControlServer({ replicator });
    stops.push(() => control.close());

    log(`starting ${config.pces.length} PCEs ...`);
    const children = await Promise.all(
      config.pces.map(async (pce, i) => {
        const env: Record<string, string> = {
          ...localAwsEnvironment({ dynamodb: ddb.endpoint, sqs: sqs.endpoint }, pce.region),
          [ENV.config]: JSON.stringify(config),
          [ENV.globalTable]: g,
          [ENV.localTable]: localTableName(config, pce.region),
          [ENV.computeQueueUrl]: queues.get(pce.region)?.computeQueueUrl ?? '',
          [ENV.computeDlqUrl]: queues.get(pce.region)?.dlqUrl ?? '',
          [LOCAL_PCE_ENV.host]: addresses[i] ?? '',
          [LOCAL_PCE_ENV.port]: String(port),
          // pairing commands name the port the local gateways listen on (443 in AWS)
          [ENV.managementServerPort]: String(port),
          [LOCAL_PCE_ENV.dataDir]: dataDir,
        };
        const forked = await forkPce(env, log, pce.fqdn);
        stops.push(() => stopChild(forked.child));
        return { pce, url: forked.url, venChannelUrl: forked.venChannelUrl };
      }),
    );

    for (const { url } of children) await waitForHttp(`${url}/api/v2/node_available`, (s) => s === 202, 60_000);

    const state: LocalSuperclusterState = {
      org_id: config.org_id,
      api_key: { username: apiKey.username, secret: apiKey.secret },
      supercluster_fqdn: config.supercluster_fqdn,
      leader_fqdn: config.leader_fqdn,
      gslb: { dns: null, client_subnets: {} },
      pces: children.map(({ pce, url, venChannelUrl }) => ({ fqdn: pce.fqdn, region: pce.region, url, role: boot.leader.leaderRegion === pce.region ? 'leader' : 'member', buddy: pce.buddy, ven_channel_url: venChannelUrl, compute_queue_url: queues.get(pce.region)?.computeQueueUrl ?? '' })),
      local: { dynamodb: ddb.endpoint, sqs: sqs.endpoint, control: control.url, data_dir: dataDir, started_at: new Date(started).toISOString(), ready_ms: Date.now() - started },
    };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    chmodSync(stateFile, 0o600);
    stops.unshift(async () => rmSync(stateFile, { force: true }));

    return { state, replicator, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
