/**
 * npm run bench:api-cost -- [--workloads 10000] [--groups 10000] [--measured-groups 10] [--chain 10000]
 *   [--requests 30] [--bulk-size 100] [--seed storage|api] [--first-address 127.0.48.11] [--port 19548] [--verbose]
 * What the hot API paths cost at 10,000 objects (issue 10, "Hardening found by review"), measured on a
 * fresh local supercluster of its own (bench/lib/local-cluster.ts). Each PCE's DynamoDB traffic passes
 * through a metering proxy (bench/lib/dynamodb-meter.ts), so every figure of items read/written is what
 * the leader's process asked DynamoDB for during that request (background work of the same process, e.g.
 * pollers, falls in the window too: the medians are given, and the idle rate over the same window).
 * 1. labels, then `--workloads` workloads via PUT /workloads/bulk_create (`--bulk-size` per request: 100 by
 *    default, since on a loaded 2-core machine a 1,000-item request outlasts the API's 29 s timeout and answers 500;
 *    a 5xx bulk is counted and the run goes on from the workloads that exist); requests answered 5xx are kept
 *    in the figures (`statuses`), since that is what the path costs on this machine;
 * 2. `--groups` - `--measured-groups` flat label groups seeded (`--seed storage`: written straight into the
 *    draft partition in the shape the API writes, ids in a range the id allocator never hands out, because
 *    creating them one by one through an API whose every create reads every group would take half an hour;
 *    `--seed api`: through the API), then `--measured-groups` created through POST .../label_groups: the
 *    last is the `--groups`th group; latency and items read/written of each;
 * 3. GET /workloads?max_results=50, `--requests` times: p50/p99 latency, items read per request; the same
 *    with max_results=0 (the count only) and with a name filter;
 * 4. label DELETE of an unused label (`--requests`/3 times) and of a label every workload has: latency,
 *    items read (before ADR 0015 both listed the org's workloads; now they Query the label's use items);
 *    a label change of one workload (PUT /workloads/{id}, the role swapped; `--requests`/3 times): items
 *    written (META and the label uses that changed);
 * 5. GET /workloads with `Prefer: respond-async` (3 times, nothing changing in between): latency and items
 *    written (the first writes the datafile, the repeats only their job);
 * 6. a chain of `--chain` label groups seeded (each containing the next), then POST a group containing its
 *    top: the HTTP status (500: stack overflow; 406: refused by the nesting cap) and latency.
 * Progress on stderr; one JSON object as the last stdout line.
 */
import { parseArgs } from 'node:util';
import { loadSuperclusterConfig } from '../infra/config/load.ts';
import { dynamoDbDocumentClient } from '../infra/local/clients.ts';
import { percentile } from '../shared/runtime/stats.ts';
import { sleep } from '../shared/runtime/sleep.ts';
import { batchPutAll } from '../shared/storage/dynamodb/client.ts';
import { policyKeys } from '../shared/storage/policy-keys.ts';
import { globalTableName } from '../shared/storage/tables.ts';
import { ApiClient } from './lib/api-client.ts';
import { diffCounts, startDynamoDbMeter, type DynamoDbMeter, type MeterCounts } from './lib/dynamodb-meter.ts';
import { startBenchCluster } from './lib/local-cluster.ts';

const { values } = parseArgs({
  options: {
    workloads: { type: 'string', default: '10000' },
    groups: { type: 'string', default: '10000' },
    'measured-groups': { type: 'string', default: '10' },
    chain: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '30' },
    'bulk-size': { type: 'string', default: '100' },
    seed: { type: 'string', default: 'storage' },
    'first-address': { type: 'string', default: '127.0.48.11' },
    port: { type: 'string', default: '19548' },
    verbose: { type: 'boolean', default: false },
  },
});
const int = (name: string, min: number): number => {
  const raw = (values as Record<string, unknown>)[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(raw)}`);
  return n;
};
const WORKLOADS = int('workloads', 1);
const GROUPS = int('groups', 1);
const MEASURED_GROUPS = Math.min(int('measured-groups', 1), GROUPS);
const CHAIN = int('chain', 0);
const REQUESTS = int('requests', 3);
const PORT = int('port', 1);
const BULK = Math.min(int('bulk-size', 1), 1000);
if (values.seed !== 'storage' && values.seed !== 'api') throw new Error('--seed must be storage or api');

const t0 = performance.now();
const log = (m: string) => process.stderr.write(`[bench:api-cost ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);

/** ids of seeded groups: an epoch far above any the bench cluster reaches (ids are epoch * 1e9 + n) */
const SEED_EPOCH = 900;
const seedId = (n: number) => SEED_EPOCH * 1_000_000_000 + n;

const config = loadSuperclusterConfig();
const meters = new Map<string, DynamoDbMeter>();
const cluster = await startBenchCluster({
  config,
  firstAddress: values['first-address'] ?? '127.0.48.11',
  port: PORT,
  dnsPort: 0,
  log: values.verbose ? log : undefined,
  pceEnvironment: async (region, endpoints) => {
    const meter = await startDynamoDbMeter(endpoints.dynamodb);
    meters.set(region, meter);
    return { AWS_ENDPOINT_URL_DYNAMODB: meter.endpoint };
  },
});

interface Sample {
  readonly ms: number;
  readonly status: number;
  readonly cost: MeterCounts;
}

const summary = (samples: readonly Sample[]) => {
  const sorted = (f: (s: Sample) => number) => samples.map(f).sort((a, b) => a - b);
  const ms = sorted((s) => s.ms);
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    n: samples.length,
    statuses: [...new Set(samples.map((s) => s.status))],
    p50_ms: r(percentile(ms, 0.5)),
    p99_ms: r(percentile(ms, 0.99)),
    items_read_p50: percentile(sorted((s) => s.cost.itemsRead), 0.5),
    items_read_max: Math.max(...samples.map((s) => s.cost.itemsRead)),
    items_returned_p50: percentile(sorted((s) => s.cost.itemsReturned), 0.5),
    items_written_p50: percentile(sorted((s) => s.cost.itemsWritten), 0.5),
    items_written_max: Math.max(...samples.map((s) => s.cost.itemsWritten)),
    dynamodb_calls_p50: percentile(sorted((s) => s.cost.calls), 0.5),
    response_bytes_p50: percentile(sorted((s) => s.cost.responseBytes), 0.5),
  };
};

let exitCode = 0;
try {
  const { state } = cluster;
  const leaderPce = state.pces.find((p) => p.role === 'leader') ?? state.pces[0];
  if (!leaderPce) throw new Error('no PCE');
  const meter = meters.get(leaderPce.region);
  if (!meter) throw new Error(`no meter for ${leaderPce.region}`);
  const api = new ApiClient(leaderPce.url, state.api_key);
  const auth = `Basic ${Buffer.from(`${state.api_key.username}:${state.api_key.secret}`).toString('base64')}`;
  const org = `/orgs/${state.org_id}`;

  /** one request, timed and metered (status as answered; no throw) */
  const measure = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Sample & { body: unknown; headers: Headers }> => {
    const before = meter.snapshot();
    const start = performance.now();
    const res = await fetch(`${leaderPce.url}/api/v2${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const ms = performance.now() - start;
    return { ms, status: res.status, cost: diffCounts(meter.snapshot(), before), body: text ? (JSON.parse(text) as unknown) : null, headers: res.headers };
  };

  // ---- 1. labels and workloads ----
  log('creating labels ...');
  const label = async (key: string, value: string) => (await api.call<{ href: string }>('POST', `${org}/labels`, { key, value })).body.href;
  const roles = [await label('role', 'web'), await label('role', 'app'), await label('role', 'db')];
  const env = await label('env', 'prod');
  const apps = await Promise.all(Array.from({ length: 10 }, (_, i) => label('app', `app-${i}`)));
  log(`creating ${WORKLOADS} workloads (bulk_create, ${BULK} per request) ...`);
  const bulk: Sample[] = [];
  /** X-Total-Count, retried: on a loaded machine the count itself can outlast the API's timeout */
  const workloadCount = async (): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const s = await measure('GET', `${org}/workloads?max_results=0`);
      if (s.status === 200) return Number(s.headers.get('x-total-count'));
      if (attempt >= 5) throw new Error(`GET /workloads?max_results=0 -> ${s.status} ${attempt} times`);
      await sleep(5_000);
    }
  };
  let failedBulks = 0;
  for (let start = 0; start < WORKLOADS; ) {
    const batch = Array.from({ length: Math.min(BULK, WORKLOADS - start) }, (_, k) => {
      const i = start + k;
      return {
        name: `w-${i}`,
        hostname: `w-${i}.example.internal`,
        labels: [{ href: roles[i % 3] ?? '' }, { href: env }, { href: apps[i % apps.length] ?? '' }],
        interfaces: [{ name: 'eth0', address: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` }],
        enforcement_mode: 'visibility_only',
      };
    });
    const s = await measure('PUT', `${org}/workloads/bulk_create`, batch);
    if (s.status >= 500 && ++failedBulks <= 5) {
      // e.g. the API's timeout on a loaded machine, after some batches committed: go on from what exists
      start = await workloadCount();
      log(`  bulk_create -> ${s.status} after ${s.ms.toFixed(0)} ms; ${start} workloads exist, going on from there`);
      continue;
    }
    const bad = Array.isArray(s.body) ? (s.body as { status: string }[]).filter((r) => r.status !== 'created') : [];
    if (s.status !== 200 || bad.length > 0) throw new Error(`bulk_create -> ${s.status}: ${bad.length} failed: ${JSON.stringify(bad[0] ?? s.body).slice(0, 300)}`);
    bulk.push(s);
    start += batch.length;
    log(`  ${start} workloads (${s.ms.toFixed(0)} ms, ${s.cost.itemsWritten} items written)`);
  }

  // ---- 2. label groups ----
  const seeded = GROUPS - MEASURED_GROUPS;
  const doc = dynamoDbDocumentClient(state.local.dynamodb, leaderPce.region);
  const table = globalTableName(config);
  const groupItem = (id: number, name: string, subGroups: number[]) => {
    const now = Date.now();
    const object = { id, createdAt: now, updatedAt: now, createdBy: 1, updatedBy: 1, name, description: '', key: 'app', labels: [], subGroups, externalDataSet: null, externalDataReference: null };
    return { ...policyKeys.draftObject(state.org_id, 'label_groups', id), org_id: state.org_id, object_type: 'label_groups', id, name, object, origin_region: leaderPce.region, updated_at: now };
  };
  if (values.seed === 'storage') {
    log(`seeding ${seeded} flat label groups into the draft partition ...`);
    await batchPutAll(doc, table, Array.from({ length: seeded }, (_, i) => groupItem(seedId(i + 1), `seeded-${i + 1}`, [])), { concurrency: 4 });
  } else {
    log(`creating ${seeded} flat label groups through the API ...`);
    for (let i = 1; i <= seeded; i++) {
      await api.call('POST', `${org}/sec_policy/draft/label_groups`, { name: `seeded-${i}`, key: 'app', labels: [{ href: apps[i % apps.length] }] });
      if (i % 500 === 0) log(`  ${i}`);
    }
  }
  log(`creating ${MEASURED_GROUPS} label groups through the API (groups ${seeded + 1}..${GROUPS}) ...`);
  const groupCreates: Sample[] = [];
  for (let i = seeded + 1; i <= GROUPS; i++) {
    const s = await measure('POST', `${org}/sec_policy/draft/label_groups`, { name: `measured-${i}`, key: 'app', labels: [{ href: apps[i % apps.length] }] });
    if (s.status !== 201) log(`  label group create -> ${s.status}: ${JSON.stringify(s.body).slice(0, 300)}`);
    groupCreates.push(s);
  }
  const last = groupCreates.at(-1);

  // ---- 3. GET /workloads ----
  await sleep(1_000);
  const idleBefore = meter.snapshot();
  const idleStart = performance.now();
  await sleep(2_000);
  const idle = diffCounts(meter.snapshot(), idleBefore);
  const idleSeconds = (performance.now() - idleStart) / 1000;
  log(`GET /workloads?max_results=50 x ${REQUESTS} ...`);
  const page: Sample[] = [];
  let total: string | null = null;
  for (let i = 0; i < REQUESTS; i++) {
    const s = await measure('GET', `${org}/workloads?max_results=50`);
    page.push(s);
    if (s.status !== 200) {
      log(`  -> ${s.status} after ${s.ms.toFixed(0)} ms`);
      continue;
    }
    total = s.headers.get('x-total-count');
    if ((s.body as unknown[]).length !== 50) throw new Error(`GET /workloads?max_results=50 returned ${(s.body as unknown[]).length}`);
  }
  log(`GET /workloads?max_results=0 and ?name=w-99&max_results=50 x ${Math.ceil(REQUESTS / 3)} ...`);
  const countOnly: Sample[] = [];
  const filtered: Sample[] = [];
  for (let i = 0; i < Math.ceil(REQUESTS / 3); i++) {
    countOnly.push(await measure('GET', `${org}/workloads?max_results=0`));
    filtered.push(await measure('GET', `${org}/workloads?name=w-99&max_results=50`));
  }

  // ---- 4. label DELETE ----
  log(`label DELETE x ${Math.ceil(REQUESTS / 3)} ...`);
  const deletes: Sample[] = [];
  for (let i = 0; i < Math.ceil(REQUESTS / 3); i++) {
    const href = await label('loc', `unused-${i}`);
    const s = await measure('DELETE', href);
    if (s.status !== 204) log(`  DELETE ${href} -> ${s.status}: ${JSON.stringify(s.body).slice(0, 300)}`);
    deletes.push(s);
  }
  const inUse = await measure('DELETE', env);
  log(`workload label change x ${Math.ceil(REQUESTS / 3)} ...`);
  const labelChanges: Sample[] = [];
  const targets = (await api.call<{ href: string; labels: { href: string }[] }[]>('GET', `${org}/workloads?max_results=${Math.ceil(REQUESTS / 3)}`)).body;
  for (const [i, w] of targets.entries()) {
    const role = w.labels.find((l) => roles.includes(l.href))?.href;
    const next = roles.find((r) => r !== role) ?? roles[0] ?? '';
    const s = await measure('PUT', w.href, { labels: [...w.labels.filter((l) => l.href !== role), { href: next }].map((l) => ({ href: l.href })) });
    if (s.status !== 204) log(`  PUT ${w.href} #${i} -> ${s.status}: ${JSON.stringify(s.body).slice(0, 300)}`);
    labelChanges.push(s);
  }

  // ---- 5. async collection ----
  log('GET /workloads with Prefer: respond-async x 3 ...');
  const asyncJobs: Sample[] = [];
  for (let i = 0; i < 3; i++) asyncJobs.push(await measure('GET', `${org}/workloads`, undefined, { prefer: 'respond-async' }));

  // ---- 6. the chain ----
  let chainProbe: { depth: number; status: number; ms: number; token: string | null } | null = null;
  if (CHAIN > 0) {
    log(`seeding a chain of ${CHAIN} label groups (each containing the next) ...`);
    const base = seedId(500_000_000);
    await batchPutAll(doc, table, Array.from({ length: CHAIN }, (_, i) => groupItem(base + i, `chain-${i}`, i + 1 < CHAIN ? [base + i + 1] : [])), { concurrency: 4 });
    const s = await measure('POST', `${org}/sec_policy/draft/label_groups`, { name: 'chain-top', key: 'app', sub_groups: [{ href: `${org}/sec_policy/draft/label_groups/${base}` }] });
    const token = Array.isArray(s.body) ? (((s.body as { token?: string }[])[0]?.token ?? null)) : null;
    chainProbe = { depth: CHAIN + 1, status: s.status, ms: Math.round(s.ms), token };
    log(`  chain-top -> ${s.status} ${token ?? ''} (${s.ms.toFixed(0)} ms)`);
  }

  const result = {
    bench: 'api-cost',
    measured_at: new Date().toISOString(),
    workloads: WORKLOADS,
    label_groups: GROUPS,
    seed: values.seed,
    leader: leaderPce.fqdn,
    note: 'items_read: items DynamoDB evaluated for the leader process during the request (Query/Scan ScannedCount, Get/BatchGet items); background work of that process in the same window included (see idle)',
    idle_per_second: { calls: Math.round(idle.calls / idleSeconds), items_read: Math.round(idle.itemsRead / idleSeconds), items_written: Math.round(idle.itemsWritten / idleSeconds) },
    bulk_create: { size: BULK, failed_5xx: failedBulks, ...summary(bulk) },
    x_total_count: total,
    get_workloads_max_results_50: summary(page),
    get_workloads_max_results_0: summary(countOnly),
    get_workloads_name_filter: summary(filtered),
    label_group_create_at_n: { groups: GROUPS, last: last ? { ms: Math.round(last.ms), items_read: last.cost.itemsRead, items_written: last.cost.itemsWritten, calls: last.cost.calls } : null, ...summary(groupCreates) },
    label_delete_unused: summary(deletes),
    label_delete_in_use: { status: inUse.status, ms: Math.round(inUse.ms), items_read: inUse.cost.itemsRead, items_written: inUse.cost.itemsWritten },
    bulk_create_items_written_per_workload: bulk.length > 0 ? Math.round((percentile([...bulk.map((s) => s.cost.itemsWritten)].sort((a, b) => a - b), 0.5) / BULK) * 100) / 100 : null,
    workload_label_change: summary(labelChanges),
    async_workloads_job: summary(asyncJobs),
    chain_probe: chainProbe,
  };
  console.log(JSON.stringify(result));
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  exitCode = 1;
} finally {
  await cluster.stop();
  await Promise.all([...meters.values()].map((m) => m.close()));
}
process.exit(exitCode);
