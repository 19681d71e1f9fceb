/**
 * npm run bench:api -- [--seconds 10] [--concurrency 64] [--vens 200] [--warmup 2] [--rounds 3] [--storage-warmup 20] [--pce 1] [--disk] [--json]
 * Heartbeats per second ONE PCE process serves on loopback, against a bare node:http server doing the same
 * single durable write, measured in the same run against the same DynamoDB Local:
 * 1. a temporary local supercluster (bench/lib/local-cluster.ts: fresh, API rate limit off, 127.0.22.x), its
 *    data dir on /dev/shm when there is one (--disk: in the OS temp dir), so that disk write-back does not
 *    set (and drift) the pace of both sides;
 * 2. `--vens` VENs pair with the PCE at index `--pce` (config order; default 1, a member) and heartbeat once
 *    (the real path, warm: token and workload state cached as in steady operation); the bench then waits
 *    for the pairings' compute runs (every VEN's policy computed) so that they do not load the measurement;
 * 3. `--concurrency` keep-alive connections POST /api/v2/ven/v1/heartbeat round-robin over the VENs, closed
 *    loop, for `--warmup` + `--seconds` s (only the last `--seconds` count);
 * 4. the same load against bench/lib/bare-heartbeat-server.ts (its own process, on 127.0.22.100): the same
 *    request, one PutItem of the same heartbeat item into the same PCE's local table, the same answer shape;
 *    the two alternate (ABBA) for `--rounds` rounds each, the median round of each side counts;
 * 5. the storage alone, before (`--storage-warmup` s: it warms DynamoDB Local's JVM up) and after the rounds: the same PutItem from
 *    the bench process at the same concurrency, the ceiling of both sides.
 * Progress on stderr; one JSON object as the last stdout line: heartbeat_rps, bare_node_rps, ratio (goal >= 0.5).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSuperclusterConfig } from '../infra/config/load.ts';
import { percentile } from '../shared/runtime/stats.ts';
import { sleep } from '../shared/runtime/sleep.ts';
import { localTableName } from '../shared/storage/tables.ts';
import { VEN_API_BASE, type ActivateResponseV1, type HeartbeatResponseV1 } from '../shared/ven/protocol.ts';
import { dynamoDbDocumentClient } from '../infra/local/clients.ts';
import { DynamoDbHeartbeatStore } from '../shared/storage/dynamodb/ven-local.ts';
import { startBenchCluster } from './lib/local-cluster.ts';
import { errorToken, httpJson, keepAliveAgent } from './lib/ven-http.ts';
import { SimulatorSetup } from './lib/ven-setup.ts';
import { venAddress } from './lib/ven-sim-args.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    vens: { type: 'string', default: '200' },
    pce: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    'storage-warmup': { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    disk: { type: 'boolean', default: false },
  },
});
const num = (name: string, raw: string | undefined, min: number, integer = true): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${raw}`);
  return n;
};
const SECONDS = num('seconds', values.seconds, 1, false);
const WARMUP = num('warmup', values.warmup, 0, false);
const CONCURRENCY = num('concurrency', values.concurrency, 1);
const VENS = num('vens', values.vens, 1);
const PCE_INDEX = num('pce', values.pce, 0);
const ROUNDS = num('rounds', values.rounds, 1);
const STORAGE_WARMUP = num('storage-warmup', values['storage-warmup'], 1, false);
const FIRST_ADDRESS = '127.0.22.11';
const BARE_HOST = '127.0.22.100';

const t0 = performance.now();
const log = (m: string) => process.stderr.write(`[bench:api ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);

interface Ven {
  readonly agentId: string;
  readonly workloadId: string;
  readonly auth: Record<string, string>;
  readonly body: { uptime_seconds: number; policy_version: number | null; rules_hash: string | null };
}

interface LoadResult {
  readonly rps: number;
  readonly requests: number;
  readonly errors: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly error_samples: string[];
}

/** Closed-loop load: `concurrency` workers on keep-alive connections, each sending the next VEN's heartbeat as soon as the last answered. */
async function load(url: string, vens: readonly Ven[]): Promise<LoadResult> {
  const agent = keepAliveAgent(CONCURRENCY);
  const start = performance.now();
  const measureFrom = start + WARMUP * 1000;
  const end = measureFrom + SECONDS * 1000;
  let next = 0;
  let requests = 0;
  let errors = 0;
  const samples: string[] = [];
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const ven = vens[next++ % vens.length] as Ven;
        const sent = performance.now();
        let ok = false;
        let detail = '';
        try {
          const answer = await httpJson(agent, `${url}${VEN_API_BASE}/heartbeat`, 'POST', ven.auth, ven.body);
          ok = answer.status === 200;
          if (!ok) detail = `${answer.status} ${errorToken(answer) ?? answer.text.slice(0, 200)}`;
        } catch (err) {
          detail = (err as Error).message;
        }
        const done = performance.now();
        if (sent < measureFrom || done > end) continue;
        if (ok) {
          requests++;
          latencies.push(done - sent);
        } else {
          errors++;
          if (samples.length < 5) samples.push(detail);
        }
      }
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: +(requests / SECONDS).toFixed(0), requests, errors, p50_ms: +percentile(latencies, 0.5).toFixed(2), p99_ms: +percentile(latencies, 0.99).toFixed(2), error_samples: samples };
}

function startBare(env: Record<string, string>, vens: readonly Ven[]): Promise<{ child: ChildProcess; url: string }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'bare-heartbeat-server.ts');
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { type: string; url: string }) => (m.type === 'ready' ? resolve({ child, url: m.url }) : reject(new Error(JSON.stringify(m)))));
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)));
    child.send({ type: 'vens', vens: vens.map((v) => ({ agentId: v.agentId, workloadId: v.workloadId })) });
  });
}

const config = loadSuperclusterConfig();
const pceConfig = config.pces[PCE_INDEX];
if (!pceConfig) throw new Error(`--pce ${PCE_INDEX}: the config has ${config.pces.length} PCEs`);
// DynamoDB Local's database on a tmpfs when there is one: on a VM disk its writes are bound by (and drift
// with) the disk's write-back, and the bench would measure the disk instead of the two servers
const storage = values.disk || !existsSync('/dev/shm') ? 'disk' : 'tmpfs';
log(`starting a local supercluster on ${FIRST_ADDRESS}.. (API rate limit off; DynamoDB Local data on ${storage})`);
const cluster = await startBenchCluster({ config, firstAddress: FIRST_ADDRESS, log: values.verbose ? log : undefined, ...(storage === 'tmpfs' ? { parentDir: '/dev/shm' } : {}) });
let bare: ChildProcess | null = null;
try {
  const { state } = cluster;
  const pce = state.pces[PCE_INDEX];
  if (!pce) throw new Error(`no PCE ${PCE_INDEX} in the state`);
  const setup = new SimulatorSetup(state);
  const code = await setup.pairingKey(pce.url, await setup.pairingProfile());

  log(`pairing ${VENS} VENs with ${pce.fqdn} (${pce.url})`);
  const agent = keepAliveAgent(32);
  const vens: Ven[] = [];
  let next = 0;
  let intervalSeconds = 60;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < VENS) {
        const i = next++;
        const res = await httpJson(agent, `${pce.url}${VEN_API_BASE}/activate`, 'POST', {}, { activation_code: code, hostname: `bench-api-${i}`, interfaces: [{ name: 'eth0', address: venAddress(PCE_INDEX, i) }] });
        if (res.status !== 201) throw new Error(`activate -> ${res.status}: ${res.text}`);
        const a = JSON.parse(res.text) as ActivateResponseV1;
        const auth = { authorization: `Bearer ${a.agent_token}` };
        const first = await httpJson(agent, `${pce.url}${VEN_API_BASE}/heartbeat`, 'POST', auth, { uptime_seconds: 1, policy_version: null, rules_hash: null });
        if (first.status !== 200) throw new Error(`first heartbeat -> ${first.status}: ${first.text}`);
        const hb = JSON.parse(first.text) as HeartbeatResponseV1;
        intervalSeconds = hb.heartbeat_interval_seconds;
        // what a VEN in sync sends: the version and hash it was told to hold
        vens.push({ agentId: a.agent_id, workloadId: a.workload_href.split('/').pop() ?? '', auth, body: { uptime_seconds: 60, policy_version: hb.policy_version, rules_hash: hb.rules_hash } });
      }
    }),
  );
  // steady state first: the pairings' compute runs done (every VEN's policy computed), then a breath
  log('waiting for the compute runs of the pairings (every VEN policy computed)');
  const settleDeadline = performance.now() + 120_000;
  for (const v of vens) {
    for (;;) {
      const res = await httpJson(agent, `${pce.url}${VEN_API_BASE}/policy`, 'POST', v.auth, {});
      if (res.status === 200) break;
      if (res.status !== 404 || performance.now() > settleDeadline) throw new Error(`policy of ${v.agentId} -> ${res.status}: ${res.text.slice(0, 300)}`);
      await sleep(500);
    }
  }
  await sleep(3_000);
  agent.destroy();

  const started = await startBare(
    {
      BARE_HOST,
      BARE_PORT: '8443',
      BARE_TABLE: localTableName(config, pce.region),
      BARE_REGION: pce.region,
      BARE_ENDPOINT: state.local.dynamodb,
      BARE_ORG: String(state.org_id),
      BARE_FQDN: pce.fqdn,
      BARE_INTERVAL: String(intervalSeconds),
    },
    vens,
  );
  bare = started.child;

  // the storage alone: the same PutItem from this process at the same concurrency (the ceiling of both
  // sides); run first to warm DynamoDB Local's JVM up, so that the rounds do not measure its JIT
  const store = new DynamoDbHeartbeatStore(dynamoDbDocumentClient(state.local.dynamodb, pce.region), localTableName(config, pce.region));
  const storagePuts = async (seconds: number): Promise<number> => {
    const end = performance.now() + seconds * 1000;
    let puts = 0;
    let k = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const v = vens[k++ % vens.length] as Ven;
          await store.put(state.org_id, { agentId: v.agentId, workloadId: v.workloadId, lastHeartbeatAt: Date.now(), uptimeSeconds: 60, appliedVersion: v.body.policy_version, appliedRulesHash: v.body.rules_hash, appliedAt: null, goodbyeAt: null });
          puts++;
        }
      }),
    );
    return Math.round(puts / seconds);
  };
  const storageBefore = await storagePuts(STORAGE_WARMUP);
  log(`storage alone (warm-up): ${storageBefore} PutItem/s of the heartbeat item at ${CONCURRENCY} in flight`);

  // rounds in ABBA order (PCE, bare | bare, PCE | ...): DynamoDB Local's pace drifts, so neither side is
  // always measured first; the median round of each side counts
  const pceRounds: LoadResult[] = [];
  const bareRounds: LoadResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['pce', 'bare'] as const) : (['bare', 'pce'] as const);
    for (const side of order) {
      const url = side === 'pce' ? pce.url : started.url;
      const res = await load(url, vens);
      (side === 'pce' ? pceRounds : bareRounds).push(res);
      log(`round ${r + 1}/${ROUNDS} ${side === 'pce' ? 'PCE ' : 'bare'} ${url}: ${res.rps} heartbeats/s (p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, ${res.errors} errors)`);
    }
  }
  const median = (rounds: LoadResult[]): LoadResult => [...rounds].sort((a, b) => a.rps - b.rps)[Math.floor((rounds.length - 1) / 2)] as LoadResult;
  const pceResult = median(pceRounds);
  const bareResult = median(bareRounds);
  const storagePutRps = await storagePuts(SECONDS);
  log(`storage alone (after): ${storagePutRps} PutItem/s`);

  const result = {
    bench: 'ven_heartbeat_api',
    method: `POST /api/v2/ven/v1/heartbeat round-robin over ${VENS} paired VENs from ${CONCURRENCY} keep-alive connections (closed loop), ${SECONDS} s after ${WARMUP} s warm-up; the same load on a bare node:http server doing one PutItem of the same heartbeat item into the same DynamoDB Local table`,
    pce: pce.fqdn,
    vens: VENS,
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    storage,
    heartbeat_rps: pceResult.rps,
    bare_node_rps: bareResult.rps,
    ratio: bareResult.rps > 0 ? +(pceResult.rps / bareResult.rps).toFixed(2) : null,
    heartbeat_p50_ms: pceResult.p50_ms,
    heartbeat_p99_ms: pceResult.p99_ms,
    bare_p50_ms: bareResult.p50_ms,
    bare_p99_ms: bareResult.p99_ms,
    rounds: ROUNDS,
    heartbeat_rps_rounds: pceRounds.map((r) => r.rps),
    bare_node_rps_rounds: bareRounds.map((r) => r.rps),
    storage_put_rps: storagePutRps,
    storage_put_rps_warmup: storageBefore,
    heartbeat_errors: pceResult.errors,
    bare_errors: bareResult.errors,
    error_samples: [...pceResult.error_samples, ...bareResult.error_samples],
  };
  if (!values.json) console.log(JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
} finally {
  bare?.kill('SIGTERM');
  await cluster.stop();
}
