/**
 * npm run bench:partition -- [--json] [--lease-seconds 6] [--skew-seconds 1] [--writers 4] [--pause-ms 20]
 *                             [--before-seconds 3] [--after-seconds 5] [--verbose]
 * The failed-leader procedure under a partition, with a history check (issue 9; docs/failed-leader.md):
 * 1. its own local supercluster (bench/lib/local-cluster.ts: fresh, API rate limit off, 127.0.37.11.., port
 *    19037, any free DNS port) with a short lease (`--lease-seconds`, `--skew-seconds`) and 1 s probes;
 * 2. `--writers` loops create labels (role = "pbench-<run>-<writer>-<seq>") against every PCE in turn for the
 *    whole run, `--pause-ms` between two requests of a loop, recording each request (PCE, sent and answer
 *    times, status, token, href): the history (bench/lib/partition-history.ts). Members' 403s are refusals;
 * 3. the leader's region partitioned (the control route of `pce-ctl local partition`, POST /replication/pause,
 *    called directly to time the cut: its endpoint keeps serving, its links and lease proxy are cut), then the
 *    seed's procedure as an operator runs it, each step timed: set-runlevel 2 on each survivor,
 *    supercluster-drop <old> --pce <new> (waits out the old lease), supercluster-assign-leader <new>,
 *    set-runlevel 5 on each survivor; the writers go on until the new leader acknowledged a write and
 *    `--after-seconds` more;
 * 4. heal (POST /replication/resume), the old leader at runlevel 2 (dropped), `supercluster-rejoin <old>`, a few more seconds of writes;
 *    then every label any PCE acknowledged must be on every PCE with its value once replication settles.
 * Goals: acked_by_old_leader_after_new_leader_first_write 0, acked_writes_lost 0 (exit 1 if missed).
 * Progress on stderr; one JSON object as the last stdout line.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSuperclusterConfig } from '../infra/config/load.ts';
import { parseSuperclusterConfig } from '../shared/supercluster/config.ts';
import { leaseTimings } from '../shared/supercluster/lease-config.ts';
import { sleep } from '../shared/runtime/sleep.ts';
import { startBenchCluster } from './lib/local-cluster.ts';
import { ackedWritesLost, analyzeHistory, firstAck, leaseBounds, type WriteRecord } from './lib/partition-history.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    'lease-seconds': { type: 'string', default: '6' },
    'skew-seconds': { type: 'string', default: '1' },
    writers: { type: 'string', default: '4' },
    'pause-ms': { type: 'string', default: '20' },
    'before-seconds': { type: 'string', default: '3' },
    'after-seconds': { type: 'string', default: '5' },
  },
});
const num = (name: string, raw: string | undefined, min: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
  return n;
};
const LEASE_SECONDS = num('lease-seconds', values['lease-seconds'], 3);
const SKEW_SECONDS = num('skew-seconds', values['skew-seconds'], 0);
const WRITERS = num('writers', values.writers, 1);
const PAUSE_MS = num('pause-ms', values['pause-ms'], 0);
const BEFORE_MS = num('before-seconds', values['before-seconds'], 0) * 1000;
const AFTER_MS = num('after-seconds', values['after-seconds'], 0) * 1000;
const FIRST_ADDRESS = '127.0.37.11';
const PORT = 19037;
const ROOT = resolve(import.meta.dirname, '..');

const t0 = performance.now();
const log = (m: string) => process.stderr.write(`[bench:partition ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);

const shipped = loadSuperclusterConfig();
const config = parseSuperclusterConfig({
  ...shipped,
  probe_interval_seconds: 1,
  leader_lease: { ...shipped.leader_lease, duration_seconds: LEASE_SECONDS, clock_skew_seconds: SKEW_SECONDS },
  gslb: { ...shipped.gslb, ttl_seconds: 2, failure_threshold: 1 },
});
const timings = leaseTimings(config.leader_lease);

log(`starting a local supercluster on ${FIRST_ADDRESS}.. port ${PORT} (lease ${LEASE_SECONDS} s, skew ${SKEW_SECONDS} s, renewal every ${timings.renewEveryMs} ms; API rate limit off)`);
const cluster = await startBenchCluster({ config, firstAddress: FIRST_ADDRESS, port: PORT, dnsPort: 0, log: values.verbose ? log : undefined });

interface CtlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}
function ctl(...args: string[]): Promise<CtlResult> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'pce-ctl.mjs'), '--state', cluster.stateFile, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

const steps: Record<string, { ms: number; code: number | null; start: number; end: number }> = {};
const failures: string[] = [];
/** Runs a pce-ctl command as a timed step; its JSON output when `--json` is among the args. */
async function step(name: string, ...args: string[]): Promise<Record<string, unknown> | null> {
  log(`step ${name}: pce-ctl ${args.join(' ')}`);
  const res = await ctl(...args);
  const end = Date.now();
  steps[name] = { ms: res.ms, code: res.code, start: end - res.ms, end };
  if (res.code !== 0) {
    failures.push(`${name}: pce-ctl ${args.join(' ')} exited ${res.code}: ${(res.stderr || res.stdout).trim().slice(0, 500)}`);
    log(`  exited ${res.code}: ${(res.stderr || res.stdout).trim().slice(0, 500)}`);
    return null;
  }
  log(`  done in ${res.ms} ms`);
  if (!args.includes('--json')) return null;
  try {
    return JSON.parse(res.stdout) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** POST a region fault to the local cloud's control server, as `pce-ctl local partition|heal` does: the time it took effect. */
async function control(name: string, path: string, region: string): Promise<number> {
  log(`step ${name}: POST ${cluster.state.local.control}${path} {"regions": ["${region}"]}`);
  const start = Date.now();
  const res = await fetch(`${cluster.state.local.control}${path}`, { method: 'POST', body: JSON.stringify({ regions: [region] }) });
  const text = await res.text();
  const end = Date.now();
  steps[name] = { ms: end - start, code: res.status === 200 ? 0 : res.status, start, end };
  if (res.status !== 200) failures.push(`${name}: ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  return end;
}

const { state } = cluster;
const auth = `Basic ${Buffer.from(`${state.api_key.username}:${state.api_key.secret}`).toString('base64')}`;
const labelsPath = `/api/v2/orgs/${state.org_id}/labels`;
const oldLeader = state.pces.find((p) => p.role === 'leader');
if (!oldLeader) throw new Error('no leader in the state');
const newLeader = state.pces.find((p) => p.fqdn === oldLeader.buddy) ?? state.pces.find((p) => p.fqdn !== oldLeader.fqdn);
if (!newLeader) throw new Error('no survivor');
const survivors = state.pces.filter((p) => p.fqdn !== oldLeader.fqdn);
const runId = Date.now().toString(36);
const prefix = `pbench-${runId}-`;

const history: WriteRecord[] = [];
let writing = true;
async function writer(w: number): Promise<void> {
  for (let seq = 0; writing; seq++) {
    const pce = state.pces[(w + seq) % state.pces.length];
    if (!pce) continue;
    const value = `${prefix}${w}-${seq}`;
    const sentAt = Date.now();
    let status: number | null = null;
    let token: string | null = null;
    let href: string | null = null;
    try {
      const res = await fetch(`${pce.url}${labelsPath}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ key: 'role', value }), signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      status = res.status;
      const body = text ? (JSON.parse(text) as unknown) : null;
      if (status === 201) href = (body as { href?: string } | null)?.href ?? null;
      else token = Array.isArray(body) ? ((body[0] as { token?: string } | undefined)?.token ?? null) : null;
    } catch (err) {
      token = (err as Error).name;
    }
    history.push({ writer: w, seq, pce: pce.fqdn, value, sentAt, answeredAt: Date.now(), status, token, href });
    if (PAUSE_MS > 0) await sleep(PAUSE_MS);
  }
}

/** Polls `check` every 100 ms until it returns a value (null when the time is up). */
async function until<T>(check: () => T | null | Promise<T | null>, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (Date.now() > deadline) return null;
    await sleep(100);
  }
}

/** Every bench label a PCE holds: href -> value. */
async function held(url: string): Promise<Map<string, string>> {
  const res = await fetch(`${url}${labelsPath}?key=role&max_results=1000000`, { headers: { authorization: auth } });
  if (res.status !== 200) throw new Error(`GET labels on ${url} -> ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const labels = (await res.json()) as { href: string; value: string }[];
  return new Map(labels.filter((l) => l.value?.startsWith(prefix)).map((l) => [l.href, l.value]));
}

let exitCode = 0;
try {
  const ready = await until(async () => {
    const res = await fetch(`${oldLeader.url}${labelsPath}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ key: 'role', value: `${prefix}ready` }) });
    await res.text();
    return res.status === 201 ? true : null;
  }, 30_000);
  if (!ready) throw new Error(`the leader ${oldLeader.fqdn} takes no write`);

  log(`${WRITERS} writers on ${state.pces.map((p) => p.fqdn).join(', ')} (every PCE in turn, ${PAUSE_MS} ms pause)`);
  const writers = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  await sleep(BEFORE_MS);

  // the cut: the old leader keeps its endpoint, loses replication and the lease authority (the control route
  // `pce-ctl local partition` calls, called directly so that the time is the cut's, not the CLI's start-up)
  const partitionAt = await control('partition', '/replication/pause', oldLeader.region);
  log(`partitioned ${oldLeader.region} (${oldLeader.fqdn}) at ${new Date(partitionAt).toISOString()}`);

  // the seed's procedure (the new leader first at runlevel 5: its writes start then)
  const procedureStart = Date.now();
  for (const s of survivors) await step(`set_runlevel_2_${s.region}`, 'set-runlevel', '2', '--pce', s.fqdn, '--json');
  const dropped = await step('drop', 'supercluster-drop', oldLeader.fqdn, '--pce', newLeader.fqdn, '--json');
  const assigned = await step('assign_leader', 'supercluster-assign-leader', newLeader.fqdn, '--json');
  for (const s of [newLeader, ...survivors.filter((p) => p !== newLeader)]) await step(`set_runlevel_5_${s.region}`, 'set-runlevel', '5', '--pce', s.fqdn, '--json');
  const procedureEnd = Date.now();
  const newLeaderWritable = steps[`set_runlevel_5_${newLeader.region}`]?.end ?? procedureEnd;

  const first = await until(() => firstAck(history, newLeader.fqdn, partitionAt), 30_000);
  if (first) log(`the new leader ${newLeader.fqdn} acknowledged its first write ${first.answeredAt - partitionAt} ms after the partition`);
  else failures.push(`the new leader ${newLeader.fqdn} acknowledged no write within 30 s of the procedure`);
  await sleep(AFTER_MS);

  // the old leader returns as a member
  const healAt = await control('heal', '/replication/resume', oldLeader.region);
  const atRunlevel2 = await until(async () => {
    const res = await ctl('cluster-status', '--pce', oldLeader.fqdn, '--json');
    if (res.code !== 0) return null;
    const s = JSON.parse(res.stdout) as { runlevel: number | null; dropped: boolean };
    return s.runlevel === 2 && s.dropped ? Date.now() : null;
  }, 60_000);
  steps.old_leader_at_runlevel_2 = { ms: (atRunlevel2 ?? Date.now()) - healAt, code: atRunlevel2 === null ? 1 : 0, start: healAt, end: atRunlevel2 ?? Date.now() };
  if (atRunlevel2 === null) failures.push(`${oldLeader.fqdn} did not reach runlevel 2 (dropped) within 60 s of heal`);
  else log(`${oldLeader.fqdn} is dropped at runlevel 2, ${atRunlevel2 - healAt} ms after heal`);
  await step('rejoin', 'supercluster-rejoin', oldLeader.fqdn, '--json');
  await sleep(2_000);
  writing = false;
  await writers;
  log(`writers stopped: ${history.length} requests`);

  // every acknowledged label on every PCE, once replication settles
  const settleStart = Date.now();
  let lost = ackedWritesLost(history, new Map());
  for (;;) {
    const holds = new Map<string, Map<string, string>>();
    for (const p of state.pces) holds.set(p.fqdn, await held(p.url));
    lost = ackedWritesLost(history, holds);
    if (lost.length === 0 || Date.now() - settleStart > 60_000) break;
    await sleep(1_000);
  }
  const settleMs = Date.now() - settleStart;
  log(`read back on every PCE: ${lost.length} acknowledged writes missing after ${settleMs} ms`);

  const analysis = analyzeHistory(history, { oldLeader: oldLeader.fqdn, newLeaderFirstAckSentAt: first?.sentAt ?? null, partitionAt });
  const dropWait = typeof dropped?.waited_ms === 'number' ? dropped.waited_ms : null;
  const assignWait = typeof assigned?.waited_for_lease_ms === 'number' ? assigned.waited_for_lease_ms : null;
  const dropLease = (dropped?.lease ?? null) as { expires_at: string; over_at: string } | null;
  const stepMs = (prefixName: string) => Object.entries(steps).filter(([k]) => k.startsWith(prefixName)).reduce((a, [, v]) => a + v.ms, 0);
  const timeToNewLeader = first ? first.answeredAt - partitionAt : null;
  const result = {
    bench: 'partition_failed_leader',
    method: `${WRITERS} writer loops POST labels on every PCE in turn (${PAUSE_MS} ms pause); partition ${oldLeader.region} (POST /replication/pause); set-runlevel 2 on survivors, supercluster-drop, supercluster-assign-leader, set-runlevel 5; heal, supercluster-rejoin; every 201 read back on every PCE`,
    old_leader: oldLeader.fqdn,
    new_leader: newLeader.fqdn,
    writes_total: analysis.writes_total,
    acked_total: analysis.acked_total,
    acked_by_pce: analysis.acked_by_pce,
    refused_by_member_403: analysis.refused_by_member,
    refused_by_reason: analysis.refused_by_reason,
    no_answer: analysis.no_answer,
    acked_by_old_leader_after_new_leader_first_write: analysis.acked_by_old_leader_after_new_leader_first_write,
    acked_by_old_leader_after_partition: analysis.acked_by_old_leader_after_partition,
    old_leader_last_ack_after_partition_ms: analysis.old_leader_last_ack_after_partition_ms,
    old_leader_first_refusal_after_partition_ms: analysis.old_leader_first_refusal_after_partition_ms,
    old_leader_stopped_within_lease_bound: analysis.old_leader_last_ack_after_partition_ms === null || analysis.old_leader_last_ack_after_partition_ms <= leaseBounds(timings).old_leader_stops_within_ms,
    old_lease: dropLease,
    old_lease_over_after_partition_ms: dropLease ? Date.parse(dropLease.over_at) - partitionAt : null,
    new_leader_first_ack_sent_after_partition_ms: first ? first.sentAt - partitionAt : null,
    acked_writes_lost: lost.length,
    lost_samples: lost.slice(0, 10),
    duplicate_hrefs: analysis.duplicate_hrefs,
    settle_ms: settleMs,
    time_to_new_leader_ms: timeToNewLeader,
    time_to_new_leader_breakdown_ms: {
      runlevel_2: stepMs('set_runlevel_2_'),
      drop: steps.drop?.ms ?? null,
      drop_lease_wait: dropWait,
      assign_leader: steps.assign_leader?.ms ?? null,
      assign_leader_lease_wait: assignWait,
      runlevel_5_on_new_leader: steps[`set_runlevel_5_${newLeader.region}`]?.ms ?? null,
      first_write_after_new_leader_at_runlevel_5: first ? first.answeredAt - newLeaderWritable : null,
      runlevel_5_on_the_others: stepMs('set_runlevel_5_') - (steps[`set_runlevel_5_${newLeader.region}`]?.ms ?? 0),
      procedure: procedureEnd - procedureStart,
    },
    lease: { duration_ms: timings.durationMs, clock_skew_ms: timings.clockSkewMs, renew_every_ms: timings.renewEveryMs, bounds: leaseBounds(timings) },
    steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, { ms: v.ms, code: v.code, start_after_partition_ms: v.start - partitionAt, end_after_partition_ms: v.end - partitionAt }])),
    failures,
    ok: false,
  };
  result.ok = failures.length === 0 && result.acked_by_old_leader_after_new_leader_first_write === 0 && result.acked_writes_lost === 0 && first !== null;
  if (!result.ok) exitCode = 1;
  if (!values.json) console.log(JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
} finally {
  writing = false;
  await cluster.stop();
}
process.exitCode = exitCode;
