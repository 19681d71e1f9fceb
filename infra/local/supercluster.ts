/**
 * The local embedded cloud: a whole supercluster on loopback, driving the same Lambda handlers with
 * the same AWS SDK clients.
 *   DynamoDB Local (one JVM, one database per region)  <- global + local tables from shared/storage/tables.ts
 *   GlobalTableReplicator                              <- emulates global-table replication between regions
 *   local-aws-sqs                                      <- each PCE's compute queue + DLQ
 *   one process per PCE (pce-process.ts)               <- API on its own loopback address, stream router, compute, probes
 *   the local GSLB (gslb-health.ts, gslb-dns.ts)       <- Route 53's health checks and records, DNS on 127.0.0.1:8053
 *   the lease database + one proxy per PCE (lease-proxy.ts) <- the leader-lease authority, cut off with a partitioned region
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../../shared/runtime/env.ts';
import { globalTableName, leaseTableName, localTableName } from '../../shared/storage/tables.ts';
import { BOOTSTRAP_ADMIN_USERNAME, bootstrapDeps, initializeSupercluster } from '../../shared/supercluster/bootstrap.ts';
import { setPassword } from '../../shared/auth/console-sessions.ts';
import { generatePassword } from '../../shared/auth/passwords.ts';
import { globalTableAdapters, leaseTableAdapters } from '../../shared/storage/dynamodb/adapters.ts';
import { initialLeader, type SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { dynamoDbDocumentClient, LOCAL_LEASE_REGION, localAwsEnvironment } from './clients.ts';
import { startLeaseProxies } from './lease-proxy.ts';
import { startControlServer, type ControlServer } from './control-server.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { addressesInClientSubnets, clientSubnets, startGslbDns } from './gslb-dns.ts';
import { GslbHealthChecker } from './gslb-health.ts';
import { waitUntilHealthy } from './ready.ts';
import { gslbModel } from '../../shared/supercluster/gslb.ts';
import { isPortFree, privateDir, sleep, writePrivateFile } from './internal.ts';
import { DEFAULT_LOCAL_MAX_CONCURRENCY } from './concurrency.ts';
import { LOCAL_PCE_ENV, type PceProcessMessage } from './pce-protocol.ts';
import { GlobalTableReplicator } from './replicator.ts';
import { ensureQueues, startSqsServer, type SqsServer } from './sqs-server.ts';
import { fileCheckpointStore } from './stream-reader.ts';
import { ensureLeaseTable, ensureTables } from './tables.ts';

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
  /** the local GSLB's DNS server port on 127.0.0.1, UDP and TCP (default 8053; 0: any free port) */
  readonly dnsPort?: number;
  /** ms between the local GSLB's health-check rounds: for tests only (default: gslb.health_check_interval_seconds) */
  readonly gslbProbeIntervalMs?: number;
  /** each PCE's API and VEN-channel functions run at most this many invocations at once (default DEFAULT_LOCAL_MAX_CONCURRENCY) */
  readonly maxConcurrency?: number;
  /** how long to wait for every PCE's /api/v2/health to show normal (default 60 s) */
  readonly healthyTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /**
   * Extra environment of a PCE's process (benchmarks: e.g. AWS_ENDPOINT_URL_DYNAMODB of a metering proxy
   * in front of `dynamodb`, DynamoDB Local's endpoint); applied over the defaults.
   */
  readonly pceEnvironment?: (region: string, endpoints: { readonly dynamodb: string }) => Promise<Record<string, string>>;
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
/** How long `npm start` waits for DynamoDB Local to answer. */
export const DYNAMODB_LOCAL_START_TIMEOUT_MS = 120_000;

export interface LocalSuperclusterState {
  readonly org_id: number;
  readonly api_key: { readonly username: string; readonly secret: string };
  readonly supercluster_fqdn: string;
  readonly leader_fqdn: string;
  readonly gslb: { readonly dns: string | null; readonly client_subnets: Record<string, string> };
  readonly pces: LocalPce[];
  readonly local: { readonly dynamodb: string; readonly sqs: string; readonly control: string; readonly data_dir: string; readonly started_at: string; readonly ready_ms: number };
  /** the web console of the leader and the bootstrap owner's console credentials (docs/console.md) */
  readonly console: { readonly url: string; readonly username: string; readonly password: string } | null;
}

export interface LocalSupercluster {
  readonly state: LocalSuperclusterState;
  readonly replicator: GlobalTableReplicator;
  /** region fault injection (`pce-ctl local region-down|region-up`): each PCE's process, by region */
  readonly pceProcesses: LocalPceProcesses;
  stop(): Promise<void>;
}

/** Whether each PCE's process (its endpoint, VEN channel, stream and queue pollers) runs. */
export interface LocalPceProcessStatus {
  readonly region: string;
  readonly fqdn: string;
  readonly url: string;
  readonly up: boolean;
}

export interface LocalPceProcesses {
  readonly regions: readonly string[];
  list(): LocalPceProcessStatus[];
  /** stops the PCE of `region` (its data stays in DynamoDB Local); already down: nothing to do */
  stopPce(region: string): Promise<LocalPceProcessStatus>;
  /** starts it again on the same address and ports, resolved once node_available answers (202, or 404 below runlevel 5); already up: nothing to do */
  startPce(region: string): Promise<LocalPceProcessStatus>;
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
  const gslb = gslbModel(config);
  const inClientSubnets = addressesInClientSubnets(gslb, addresses);
  if (inClientSubnets.length > 0) throw new LocalCloudError(`${inClientSubnets.join(', ')} fall in the local GSLB's client subnets (${Object.values(clientSubnets(gslb)).join(', ')}): pick PCE addresses in 127.0.x.y with --first-address`);
  const dnsPort = options.dnsPort ?? 8053;
  if (dnsPort !== 0 && !(await isPortFree(dnsPort, '127.0.0.1'))) throw new LocalCloudError(`127.0.0.1:${dnsPort} (the local GSLB's DNS port) is in use: is another \`npm start\` running? Stop it, or pick another with --dns-port`);
  for (const address of addresses) {
    // the PCE's HTTP API on `port`, its VEN channel on port + 1
    if (!(await isPortFree(port, address)) || !(await isPortFree(port + 1, address))) throw new LocalCloudError(`${address}:${port} is in use: is another \`npm start\` running? Stop it, or pick other addresses with --first-address / --port`);
  }
  if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
  privateDir(dataDir, { files: true });
  const stateFile = join(dataDir, 'supercluster.json');
  rmSync(stateFile, { force: true });

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`shutdown: ${(err as Error).message}`));
    stops.length = 0;
  };

  try {
    log('starting DynamoDB Local ...');
    // a JVM on a loaded 2-core machine (several clusters and test runs at once) takes well over 30 s to answer
    const ddb: DynamoDbLocal = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb'), startTimeoutMs: DYNAMODB_LOCAL_START_TIMEOUT_MS });
    stops.push(() => ddb.stop());
    log('starting the SQS server ...');
    const sqs: SqsServer = await startSqsServer({ dataDir: join(dataDir, 'sqs') });
    stops.push(() => sqs.stop());

    await ensureTables({ endpoint: ddb.endpoint, config });
    await ensureLeaseTable({ endpoint: ddb.endpoint, config });
    // each PCE reaches the lease authority through its own proxy, which `local partition` cuts
    const leaseProxies = await startLeaseProxies({ target: ddb.endpoint, regions: config.pces.map((p) => p.region) });
    stops.push(() => leaseProxies.close());
    const queues = new Map<string, { computeQueueUrl: string; dlqUrl: string }>();
    for (const pce of config.pces) {
      const q = await ensureQueues(sqs.endpoint, pce.region, { compute: `${config.name}-compute-${pce.region}.fifo`, dlq: `${config.name}-compute-dlq-${pce.region}.fifo` });
      queues.set(pce.region, q);
    }

    // first start: org, members, leader record and the bootstrap admin key (stored hashed in DynamoDB;
    // the plain secret is kept for the local user in <dataDir>/admin-api-key.json, mode 0600)
    const leaderRegion = initialLeader(config).region;
    const ddbDoc = dynamoDbDocumentClient(ddb.endpoint, leaderRegion);
    const leaseDoc = dynamoDbDocumentClient(ddb.endpoint, LOCAL_LEASE_REGION);
    const g = globalTableName(config);
    const keyFile = join(dataDir, 'admin-api-key.json');
    const stores = { ...globalTableAdapters(ddbDoc, g, leaderRegion), ...leaseTableAdapters(leaseDoc, leaseTableName(config)) };
    const boot = await initializeSupercluster(bootstrapDeps(config, stores, leaderRegion), { apiKey: existsSync(keyFile) ? 'none' : 'new' });
    // the bootstrap owner's console password: kept for the local user in <dataDir>/console-password.json (0600), its scrypt hash in DynamoDB
    const consoleFile = join(dataDir, 'console-password.json');
    if (!existsSync(consoleFile) && boot.leader.leaderRegion === leaderRegion) {
      const password = generatePassword();
      await setPassword({ passwords: stores.passwords, users: stores.identity }, BOOTSTRAP_ADMIN_USERNAME, password, { region: leaderRegion, epoch: boot.leader.epoch }, Date.now());
      writePrivateFile(consoleFile, JSON.stringify({ username: BOOTSTRAP_ADMIN_USERNAME, password }));
      log(`set the console password of ${BOOTSTRAP_ADMIN_USERNAME}`);
    }
    const consoleLogin = existsSync(consoleFile) ? (JSON.parse(readFileSync(consoleFile, 'utf8')) as { username: string; password: string }) : null;
    ddbDoc.destroy();
    leaseDoc.destroy();
    if (boot.createdApiKey) {
      writePrivateFile(keyFile, JSON.stringify({ username: boot.createdApiKey.authUsername, secret: boot.createdApiKey.secret }));
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

    // each PCE's process by region; region-down stops one, region-up forks it again with the same environment
    const processes = new Map<string, { env: Record<string, string>; fqdn: string; url: string; child: ChildProcess | null; change: Promise<unknown> }>();
    const processOf = (region: string) => {
      const p = processes.get(region);
      if (!p) throw new LocalCloudError(`${region} is not a PCE region of this supercluster (regions: ${config.pces.map((c) => c.region).join(', ')})`);
      return p;
    };
    const isUp = (child: ChildProcess | null) => child !== null && child.exitCode === null && child.signalCode === null;
    const statusOf = (region: string): LocalPceProcessStatus => {
      const p = processOf(region);
      return { region, fqdn: p.fqdn, url: p.url, up: isUp(p.child) };
    };
    /** one change at a time per PCE (a region-up while its region-down still runs waits for it) */
    const serially = (region: string, change: () => Promise<void>): Promise<LocalPceProcessStatus> => {
      const p = processOf(region);
      const next = p.change.then(change, change);
      p.change = next.catch(() => undefined);
      return next.then(() => statusOf(region));
    };
    const pceProcesses: LocalPceProcesses = {
      regions: config.pces.map((p) => p.region),
      list: () => [...processes.keys()].map(statusOf),
      stopPce: (region) =>
        serially(region, async () => {
          const p = processOf(region);
          if (p.child) await stopChild(p.child);
          p.child = null;
          log(`${p.fqdn} (${region}) is down`);
        }),
      startPce: (region) =>
        serially(region, async () => {
          const p = processOf(region);
          if (isUp(p.child)) return;
          p.child = (await forkPce(p.env, log, p.fqdn)).child;
          // 404: it serves below runlevel 5 (a PCE dropped from the supercluster comes back at runlevel 2)
          await waitForHttp(`${p.url}/api/v2/node_available`, (st) => st === 202 || st === 404, 60_000);
          log(`${p.fqdn} (${region}) is up again`);
        }),
    };

    // the local GSLB's checker starts once every PCE answers; the control server's GET /gslb reads it from then on
    const gslbHolder: { checker?: GslbHealthChecker } = {};
    const control: ControlServer = await startControlServer({ replicator, pces: pceProcesses, leaseProxies, gslb: () => gslbHolder.checker?.status() ?? null });
    stops.push(() => control.close());

    log(`starting ${config.pces.length} PCEs ...`);
    // each PCE's console names the others' (and the leader's) URLs
    const consolePceUrls = port === 0 ? null : JSON.stringify(Object.fromEntries(config.pces.map((pce, i) => [pce.fqdn, `http://${addresses[i] ?? ''}:${port}`])));
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
          [LOCAL_PCE_ENV.maxConcurrency]: String(options.maxConcurrency ?? DEFAULT_LOCAL_MAX_CONCURRENCY),
          // the leader lease: the lease database, through this region's proxy
          [ENV.leaseTable]: leaseTableName(config),
          [ENV.leaseRegion]: LOCAL_LEASE_REGION,
          [ENV.leaseEndpoint]: leaseProxies.endpointOf(pce.region),
          ...(consolePceUrls ? { [ENV.consolePceUrls]: consolePceUrls } : {}),
          ...(options.pceEnvironment ? await options.pceEnvironment(pce.region, { dynamodb: ddb.endpoint }) : {}),
        };
        const forked = await forkPce(env, log, pce.fqdn);
        processes.set(pce.region, { env, fqdn: pce.fqdn, url: forked.url, child: forked.child, change: Promise.resolve() });
        stops.push(async () => {
          const child = processes.get(pce.region)?.child;
          if (child) await stopChild(child);
        });
        return { pce, url: forked.url, venChannelUrl: forked.venChannelUrl };
      }),
    );

    for (const { url } of children) await waitForHttp(`${url}/api/v2/node_available`, (s) => s === 202, 60_000);

    // the local GSLB: health checks like Route 53's, and a DNS server answering from them (docs/gslb.md)
    const checker = new GslbHealthChecker({ model: gslb, endpoints: new Map(children.map(({ pce, url }) => [pce.fqdn, url])), probeIntervalMs: options.gslbProbeIntervalMs });
    await checker.start();
    gslbHolder.checker = checker;
    stops.push(() => checker.stop());
    const dns = await startGslbDns({ model: gslb, zone: config.hosted_zone.name, endpoints: new Map(children.map(({ pce, url }) => [pce.fqdn, new URL(url).hostname])), states: (fqdn) => checker.states(fqdn), port: dnsPort, log });
    stops.push(() => dns.close());

    await waitUntilHealthy(children.map(({ pce, url }) => ({ fqdn: pce.fqdn, url })), apiKey, { timeoutMs: options.healthyTimeoutMs, log });

    const state: LocalSuperclusterState = {
      org_id: config.org_id,
      api_key: { username: apiKey.username, secret: apiKey.secret },
      supercluster_fqdn: config.supercluster_fqdn,
      leader_fqdn: config.leader_fqdn,
      gslb: { dns: dns.address, client_subnets: clientSubnets(gslb) },
      pces: children.map(({ pce, url, venChannelUrl }) => ({ fqdn: pce.fqdn, region: pce.region, url, role: boot.leader.leaderRegion === pce.region ? 'leader' : 'member', buddy: pce.buddy, ven_channel_url: venChannelUrl, compute_queue_url: queues.get(pce.region)?.computeQueueUrl ?? '' })),
      local: { dynamodb: ddb.endpoint, sqs: sqs.endpoint, control: control.url, data_dir: dataDir, started_at: new Date(started).toISOString(), ready_ms: Date.now() - started },
      console: consoleLogin ? { url: `${children.find(({ pce }) => pce.region === boot.leader.leaderRegion)?.url ?? children[0]?.url ?? ''}/`, username: consoleLogin.username, password: consoleLogin.password } : null,
    };
    writePrivateFile(stateFile, `${JSON.stringify(state, null, 2)}\n`);
    stops.unshift(async () => rmSync(stateFile, { force: true }));

    return { state, replicator, pceProcesses, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
