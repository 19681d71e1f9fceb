/**
 * npm run vens -- --per-region N [--provision] [--hold SECONDS] [--json] [--state .local/supercluster.json] [--storm N] ...
 * The VEN simulator: N VENs per PCE of a running local supercluster (the state file of `npm start`), each
 * paired with a key of THAT PCE, holding its channel open, heartbeating, fetching and verifying its policy,
 * taking pushes and moves, reporting flows (bench/lib/ven-client.ts). With --provision it then changes the
 * `ven-simulator` rule on the leader, provisions it and measures, per VEN, the time from the 201 to that
 * VEN having applied (and verified) the new version. With --storm N, N more VENs pair at once with one
 * member, timed. Progress on stderr; one JSON object as the last stdout line. Usage: VEN_SIM_USAGE.
 */
import { readFileSync } from 'node:fs';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../infra/local/clients.ts';
import type { Agent } from 'node:http';
import type { LocalSuperclusterState } from '../infra/local/supercluster.ts';
import { sleep } from '../shared/runtime/sleep.ts';
import { VEN_API_BASE, type ActivateResponseV1 } from '../shared/ven/protocol.ts';
import { SimVen, VenStats, type PceEndpoint } from './lib/ven-client.ts';
import { errorToken, httpJson, keepAliveAgent, NetworkError } from './lib/ven-http.ts';
import { latencySummary } from './lib/latency.ts';
import { runFailoverDrill } from './lib/ven-drill.ts';
import { GslbResolver } from './lib/ven-gslb.ts';
import { SIMULATOR_NAME, SimulatorSetup } from './lib/ven-setup.ts';
import { retryBackoffMs, parseVenSimArgs, UsageError, VEN_SIM_USAGE, venAddress, type VenSimOptions } from './lib/ven-sim-args.ts';

let options: VenSimOptions;
try {
  options = parseVenSimArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`${err.message}\n${VEN_SIM_USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(VEN_SIM_USAGE);
  process.exit(0);
}
const opts = options;

const t0 = performance.now();
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1);
const log = (msg: string): void => {
  if (!opts.quiet) process.stderr.write(`[vens ${elapsed()}s] ${msg}\n`);
};
const ms = (x: number) => Math.round(x);
const summary = latencySummary;

// ------------------------------------------------------------------------------------------ state, fds

let state: LocalSuperclusterState;
try {
  state = JSON.parse(readFileSync(opts.state, 'utf8')) as LocalSuperclusterState;
} catch (err) {
  console.error(`cannot read the supercluster state file ${opts.state} (is \`npm start\` running? --state names another): ${(err as Error).message}`);
  process.exit(2);
}

/** The soft limit of open files (Linux; the npm script raises it to the hard limit first). */
function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.split(/\s{2,}/)[1]) : NaN;
    return Number.isFinite(soft) ? soft : null;
  } catch {
    return null;
  }
}
const neededFds = opts.perRegion * state.pces.length + opts.storm + opts.concurrency * state.pces.length + 256;
const fdLimit = openFileLimit();
if (fdLimit !== null && neededFds > fdLimit) {
  console.error(`${opts.perRegion} VENs per PCE (+ ${opts.storm} storm) need about ${neededFds} open files (one channel per VEN, the HTTP pools), over this process's limit of ${fdLimit}: raise it (ulimit -n) or simulate fewer VENs`);
  process.exit(2);
}

// ------------------------------------------------------------------------------------------ the run

const stats = new VenStats();
const pces: PceEndpoint[] = state.pces.map((p, index) => ({ index, fqdn: p.fqdn, region: p.region, url: p.url, agent: keepAliveAgent(opts.concurrency), pushUrl: null }));
const byFqdn = new Map(pces.map((p) => [p.fqdn, p]));
/** the local GSLB (state file gslb.dns): VENs pair where it sends their subnet, and follow it when their PCE stops answering */
const gslb = GslbResolver.of(state, pces);
const ctx = { pces: byFqdn, stats, heartbeatIntervalMs: opts.heartbeatIntervalSeconds === null ? null : opts.heartbeatIntervalSeconds * 1000, flowsEvery: opts.flowsEvery, gslb };
const vens: SimVen[] = [];
const runId = Date.now().toString(36);
const setup = new SimulatorSetup(state);
const problems: string[] = [];
let gslbMismatches = 0;

interface PairTally {
  paired: number;
  errors: number;
  failed: number;
  latencies: number[];
}
const tally = new Map<string, PairTally>(pces.map((p) => [p.fqdn, { paired: 0, errors: 0, failed: 0, latencies: [] }]));

/** How long no VEN must have been pushed anything before the provision is measured. */
const SETTLE_QUIET_MS = 5_000;

/** Attempts of one activation before the VEN gives up (a real VEN keeps trying; the run has to end). */
const ACTIVATE_ATTEMPTS = 10;

/** One VEN's activation with retries on 5xx, 429 and network errors (each failed attempt counts as an error). */
async function activate(pce: PceEndpoint, agent: Agent, code: string, hostname: string, address: string, t: PairTally): Promise<ActivateResponseV1 | null> {
  const body = {
    activation_code: code,
    hostname,
    interfaces: [{ name: 'eth0', address, cidr_block: 8, link_state: 'up' }],
    os_id: 'ubuntu-x86_64-noble',
    os_detail: '6.8.0-51-generic',
    agent_version: '24.2.0-sim',
  };
  for (let attempt = 0; attempt < ACTIVATE_ATTEMPTS; attempt++) {
    const started = performance.now();
    let retryAfter: string | string[] | undefined;
    try {
      const answer = await httpJson(agent, `${pce.url}${VEN_API_BASE}/activate`, 'POST', {}, body, 120_000);
      if (answer.status === 201) {
        t.latencies.push(performance.now() - started);
        const activation = JSON.parse(answer.text) as ActivateResponseV1;
        if (pce.pushUrl === null && activation.push_url) pce.pushUrl = activation.push_url;
        return activation;
      }
      t.errors++;
      stats.error(`activate ${answer.status} ${errorToken(answer) ?? ''}`, `${pce.fqdn} after ${ms(performance.now() - started)} ms: ${answer.text}`);
      if (answer.status < 500 && answer.status !== 429) return null;
      retryAfter = answer.headers['retry-after'];
    } catch (err) {
      t.errors++;
      stats.error(`activate ${(err as NetworkError).code ?? 'network'}`, `${pce.fqdn}: ${(err as Error).message}`);
    }
    if (attempt + 1 < ACTIVATE_ATTEMPTS) await sleep(retryBackoffMs(attempt, retryAfter));
  }
  return null;
}

async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/**
 * Jobs queued or in flight on every PCE's compute queue (the local SQS server of the state file): the
 * pairings' compute runs that do not move a version push to no one, so "no push for a while" alone does not
 * show the pipeline idle. Null when the state file names no queues (an older `npm start`).
 */
const queueUrls = state.pces.map((p) => p.compute_queue_url).filter((u): u is string => typeof u === 'string' && u !== '');
const queues = queueUrls.length > 0 && state.local?.sqs ? sqsClient(state.local.sqs, state.pces[0]?.region ?? 'us-east-1') : null;
async function computeBacklog(): Promise<number | null> {
  if (!queues) return null;
  const counts = await Promise.all(
    queueUrls.map(async (QueueUrl) => {
      const { Attributes: a = {} } = await queues.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
    }),
  );
  return counts.reduce((n, c) => n + c, 0);
}

const onlineCount = () => vens.filter((v) => v.state === 'running').length;
const syncedCount = () => vens.filter((v) => v.state === 'running' && v.inSync()).length;

let progressTimer: NodeJS.Timeout | null = null;
let phase = 'setup';
function progressLine(): string {
  const perPce = pces.map((p) => `${p.region} ${tally.get(p.fqdn)?.paired ?? 0}`).join(' ');
  const errs = stats.heartbeatErrors + stats.policyErrors + stats.channelErrors + stats.flowErrors + stats.verifyErrors;
  const pairErrors = [...tally.values()].reduce((n, t) => n + t.errors, 0);
  return `${phase}: paired ${perPce} | channels ${stats.channelOpen} | heartbeats ${stats.heartbeats} | in sync ${syncedCount()}/${onlineCount()} | pushes ${stats.pushes} | errors: pair ${pairErrors}, other ${errs}, lost ${stats.lost}`;
}
function startProgress(): void {
  if (opts.quiet) return;
  progressTimer = setInterval(() => log(progressLine()), 2_000);
  progressTimer.unref();
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) {
      log(`${what}: not reached in ${(timeoutMs / 1000).toFixed(0)} s`);
      return false;
    }
    await sleep(50);
  }
  return true;
}

const result: Record<string, unknown> = {
  bench: 'ven_simulator',
  state: opts.state,
  pces: pces.length,
  per_region_requested: opts.perRegion,
};
let exitCode = 0;

try {
  startProgress();
  const pairingPces = opts.perRegion > 0 ? pces : [];
  const stormPce = opts.storm > 0 ? (opts.stormPce ? byFqdn.get(opts.stormPce) : pces.find((p) => state.pces[p.index]?.role === 'member')) : undefined;
  if (opts.storm > 0 && !stormPce) throw new Error(opts.stormPce ? `--storm-pce ${opts.stormPce} is not a PCE of the state file` : 'the state file names no member PCE for the storm');

  log(`setup: pairing profile "${SIMULATOR_NAME}" on the leader, a pairing key on each PCE`);
  const profileHref = await setup.pairingProfile();
  const keyPces = [...new Set([...pairingPces, ...(stormPce ? [stormPce] : [])])];
  const keys = new Map(await Promise.all(keyPces.map(async (p) => [p.fqdn, await setup.pairingKey(p.url, profileHref)] as const)));
  let ruleSetHref: string | null = null;
  if (opts.provision || opts.failover) {
    const rs = await setup.ensureRuleSet();
    ruleSetHref = rs.href;
    if (rs.provisionedVersion !== null) log(`setup: provisioned the rule set ${rs.href} (version ${rs.provisionedVersion})`);
  }

  // ---------------------------------------------------------------------------------------- pairing
  if (opts.perRegion > 0) {
    phase = 'pairing';
    log(`pairing ${opts.perRegion} VENs with each of ${pces.length} PCEs (${opts.concurrency} in flight per PCE)`);
    const pairStart = performance.now();
    await Promise.all(
      pairingPces.map((pce) => {
        const t = tally.get(pce.fqdn) as PairTally;
        const code = keys.get(pce.fqdn) as string;
        return pool(opts.perRegion, opts.concurrency, async (i) => {
          const hostname = `ven-${pce.region}-${runId}-${i}`;
          const address = venAddress(pce.index, i);
          // the pairing command names the supercluster FQDN: the GSLB answers this subnet's PCE
          const reached = gslb ? await gslb.resolve(pce) : pce;
          if (reached !== pce) {
            gslbMismatches++;
            stats.error('gslb: pairing answer', `${pce.region}'s client subnet was answered ${reached?.fqdn ?? 'nothing'}`);
          }
          const activation = await activate(pce, pce.agent, code, hostname, address, t);
          if (!activation) {
            t.failed++;
            return;
          }
          t.paired++;
          const ven = new SimVen(ctx, pce, hostname, address, activation);
          vens.push(ven);
          ven.start();
        });
      }),
    );
    const pairMs = performance.now() - pairStart;
    const paired = vens.length;
    const expected = opts.perRegion * pces.length;
    log(`paired ${paired}/${expected} VENs in ${(pairMs / 1000).toFixed(1)} s`);
    Object.assign(result, {
      paired,
      pair_errors: [...tally.values()].reduce((n, t) => n + t.errors, 0),
      pair_failed: [...tally.values()].reduce((n, t) => n + t.failed, 0),
      pair_ms: ms(pairMs),
      pair_rate_per_s: +(paired / (pairMs / 1000)).toFixed(1),
    });
    if (paired < expected) problems.push(`${expected - paired} VENs did not pair`);

    // -------------------------------------------------------------------------------------- first policy
    phase = 'first policy';
    const intervalS = opts.heartbeatIntervalSeconds ?? vens[0]?.activation.heartbeat_interval_seconds ?? 60;
    const timeoutMs = (opts.timeoutSeconds ?? Math.max(120, intervalS * 1.5 + 30)) * 1000;
    const syncStart = performance.now();
    const synced = await waitFor('every VEN holding its policy', () => syncedCount() === onlineCount() && onlineCount() > 0, timeoutMs);
    result.initial_sync_ms = ms(performance.now() - pairStart);
    if (!synced) problems.push(`${onlineCount() - syncedCount()} VENs did not get their policy (in sync ${syncedCount()}/${onlineCount()} after ${((performance.now() - syncStart) / 1000).toFixed(0)} s)`);
    else log(`every VEN holds its policy (${syncedCount()} VENs, ${((performance.now() - pairStart) / 1000).toFixed(1)} s after pairing started)`);
    // the pairings' compute runs may still be queued (each new VEN changes the sets of the others): a
    // provision measured behind them would time the backlog. Settled: no push for SETTLE_QUIET_MS, every VEN
    // in sync and holding its channel (a VEN whose handshake timed out during the pairings is still in its
    // reconnect backoff: what is measured is the steady state, each VEN listening).
    if (synced && (opts.provision || opts.failover)) {
      phase = 'settling';
      const settleStart = performance.now();
      let backlog = await computeBacklog();
      const pollBacklog = setInterval(() => void computeBacklog().then((n) => (backlog = n), () => (backlog = null)), 500);
      const settled = await waitFor(
        `the compute pipeline to settle (no push for ${SETTLE_QUIET_MS / 1000} s, every VEN's channel open, the compute queues empty)`,
        () => performance.now() - stats.lastPushAt >= SETTLE_QUIET_MS && syncedCount() === onlineCount() && stats.channelOpen >= onlineCount() && (backlog ?? 0) === 0,
        timeoutMs,
      );
      clearInterval(pollBacklog);
      result.settle_ms = ms(performance.now() - settleStart);
      if (settled) log(`settled: no push for ${SETTLE_QUIET_MS / 1000} s, ${stats.channelOpen} channels open (${((performance.now() - settleStart) / 1000).toFixed(1)} s)`);
      else problems.push(`not settled before the provision: ${onlineCount() - Math.min(onlineCount(), stats.channelOpen)} VENs without an open channel, ${onlineCount() - syncedCount()} not in sync`);
    }
    const versions = vens.filter((v) => v.held).map((v) => v.held?.version ?? 0);
    let policyVersion = versions.length > 0 ? Math.max(...versions) : null;

    // -------------------------------------------------------------------------------------- provision
    if (opts.provision && ruleSetHref && synced) {
      phase = 'provision';
      const rounds: Record<string, unknown>[] = [];
      const allLatencies: number[] = [];
      let converged = 0;
      let notConvergedTotal = 0;
      let rulesUnchanged = 0;
      const via = { push: 0, fetch: 0 };
      for (let round = 1; round <= opts.provisions; round++) {
        const baseline = Math.max(policyVersion ?? 0, ...vens.map((v) => v.held?.version ?? 0));
        const before = new Map(vens.map((v) => [v, v.held?.rulesHash ?? null]));
        const change = await setup.toggleRule(ruleSetHref);
        const running = vens.filter((v) => v.state === 'running');
        for (const v of running) v.watch(baseline);
        const requested = performance.now();
        const provisioned = await setup.provision(ruleSetHref, `VEN simulator ${runId}: rule to ${change}`);
        const at201 = performance.now();
        const provisionedAt = new Date().toISOString();
        policyVersion = provisioned.version;
        log(`provision ${round}/${opts.provisions}: version ${provisioned.version} (rule to ${change}) in ${ms(at201 - requested)} ms: waiting for ${running.length} VENs to apply it`);
        const applied = (v: SimVen) => v.watchHit !== null && v.watchHit.version >= provisioned.version && (v.held?.version ?? 0) >= provisioned.version;
        await waitFor(`every VEN on version ${provisioned.version}`, () => running.every((v) => v.state !== 'running' || applied(v)), timeoutMs);
        const done = running.filter(applied);
        const latencies = done.map((v) => Math.max(0, (v.watchHit?.at ?? at201) - at201));
        allLatencies.push(...latencies);
        const lat = summary(latencies);
        const notConverged = running.length - done.length;
        converged += done.length;
        notConvergedTotal += notConverged;
        rulesUnchanged += done.filter((v) => v.held?.rulesHash === before.get(v)).length;
        const roundVia = { push: done.filter((v) => v.watchHit?.via === 'push').length, fetch: done.filter((v) => v.watchHit?.via === 'fetch').length };
        via.push += roundVia.push;
        via.fetch += roundVia.fetch;
        rounds.push({ version: provisioned.version, change, provisioned_at: provisionedAt, post_ms: ms(at201 - requested), workloads_affected: provisioned.workloadsAffected, vens_converged: done.length, vens_not_converged: notConverged, ...(done.length > 0 ? lat : {}), converged_via: roundVia });
        if (notConverged > 0) problems.push(`${notConverged} VENs did not apply version ${provisioned.version}`);
        log(`version ${provisioned.version}: ${done.length}/${running.length} VENs applied it; p50 ${lat.p50_ms} ms, p99 ${lat.p99_ms} ms, max ${lat.max_ms} ms`);
        // the next provision once this one's pushes are over
        if (round < opts.provisions) await waitFor('quiet after the provision', () => performance.now() - stats.lastPushAt >= SETTLE_QUIET_MS, timeoutMs);
      }
      const lat = summary(allLatencies);
      Object.assign(result, {
        provision: rounds[0],
        provisions: rounds,
        converge_p50_ms: allLatencies.length > 0 ? lat.p50_ms : null,
        converge_p99_ms: allLatencies.length > 0 ? lat.p99_ms : null,
        converge_max_ms: allLatencies.length > 0 ? lat.max_ms : null,
        vens_converged: opts.provisions === 1 ? converged : Math.min(...rounds.map((r) => Number(r.vens_converged))),
        vens_not_converged: notConvergedTotal,
        converged_via: via,
        vens_rules_unchanged: rulesUnchanged,
      });
    } else {
      Object.assign(result, { converge_p50_ms: null, converge_p99_ms: null, converge_max_ms: null, vens_converged: syncedCount(), vens_not_converged: onlineCount() - syncedCount() });
    }
    // -------------------------------------------------------------------------------------- failover drill
    if (opts.failover && ruleSetHref && synced) {
      phase = 'failover drill';
      const victim = pces.find((p) => p.fqdn === opts.failover || p.region === opts.failover);
      if (!victim) throw new Error(`--failover ${opts.failover} is not a PCE (FQDN or region) of the state file`);
      const buddyFqdn = state.pces[victim.index]?.buddy ?? '';
      const buddy = byFqdn.get(buddyFqdn);
      if (!buddy) throw new Error(`${victim.fqdn}'s buddy ${buddyFqdn} is not in the state file`);
      if (!gslb || !state.local?.control) throw new Error('--failover needs the local GSLB and control server of `npm start` (state file gslb.dns, local.control)');
      const status = (await (await fetch(`${state.local.control}/gslb`)).json()) as { failover?: 'manual' | 'automatic' };
      const href = ruleSetHref;
      const drill = await runFailoverDrill(
        {
          state: opts.state,
          config: opts.config,
          failoverMode: status.failover === 'automatic' ? 'automatic' : 'manual',
          log,
          timeoutMs: Math.max(timeoutMs, 300_000),
          provision: async () => {
            const change = await setup.toggleRule(href);
            const provisioned = await setup.provision(href, `VEN simulator ${runId}: failover drill, rule to ${change}`);
            policyVersion = provisioned.version;
            return provisioned.version;
          },
        },
        vens,
        victim,
        buddy,
        Math.max(policyVersion ?? 0, ...vens.map((v) => v.held?.version ?? 0)),
      );
      result.failover_drill = drill;
      for (const p of (drill.problems as string[] | undefined) ?? []) problems.push(`failover drill: ${p}`);
    }
    result.policy_version = policyVersion;
  } else {
    Object.assign(result, { paired: 0, pair_errors: 0, pair_failed: 0, pair_ms: 0, converge_p50_ms: null, converge_p99_ms: null, converge_max_ms: null, vens_converged: 0, vens_not_converged: 0, policy_version: null });
  }

  // ---------------------------------------------------------------------------------------- storm
  const stormVens: { pce: PceEndpoint; activation: ActivateResponseV1 }[] = [];
  if (stormPce) {
    phase = 'storm';
    const t: PairTally = { paired: 0, errors: 0, failed: 0, latencies: [] };
    // every VEN at once: a pool as large as the storm (each VEN its own connection, as real VENs)
    const stormAgent = keepAliveAgent(opts.storm);
    const code = keys.get(stormPce.fqdn) as string;
    log(`storm: ${opts.storm} VENs pairing at once with ${stormPce.fqdn}`);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: opts.storm }, async (_, i) => {
        const activation = await activate(stormPce, stormAgent, code, `ven-storm-${stormPce.region}-${runId}-${i}`, venAddress(stormPce.index, i, 100), t);
        if (activation) {
          t.paired++;
          stormVens.push({ pce: stormPce, activation });
        } else t.failed++;
      }),
    );
    const stormMs = performance.now() - start;
    stormAgent.destroy();
    // each storm VEN's token must work: one heartbeat each (not timed)
    let stormHeartbeatErrors = 0;
    await pool(stormVens.length, opts.concurrency, async (i) => {
      const v = stormVens[i];
      if (!v) return;
      try {
        const answer = await httpJson(stormPce.agent, `${stormPce.url}${VEN_API_BASE}/heartbeat`, 'POST', { authorization: `Bearer ${v.activation.agent_token}` }, { uptime_seconds: 1, policy_version: null, rules_hash: null });
        if (answer.status !== 200) {
          stormHeartbeatErrors++;
          stats.error(`storm heartbeat ${answer.status} ${errorToken(answer) ?? ''}`, answer.text);
        }
      } catch (err) {
        stormHeartbeatErrors++;
        stats.error('storm heartbeat network', (err as Error).message);
      }
    });
    const lat = summary(t.latencies);
    Object.assign(result, {
      storm: opts.storm,
      storm_pce: stormPce.fqdn,
      storm_paired: t.paired,
      storm_errors: t.errors,
      storm_ms: ms(stormMs),
      storm_rate_per_s: +(t.paired / (stormMs / 1000)).toFixed(1),
      storm_activate_p50_ms: lat.p50_ms,
      storm_activate_p99_ms: lat.p99_ms,
      storm_heartbeat_errors: stormHeartbeatErrors,
    });
    log(`storm: ${t.paired}/${opts.storm} paired in ${(stormMs / 1000).toFixed(1)} s (${t.errors} errors); activation p50 ${lat.p50_ms} ms, p99 ${lat.p99_ms} ms`);
    if (t.paired < opts.storm) problems.push(`storm: ${opts.storm - t.paired} VENs did not pair`);
    if (stormHeartbeatErrors > 0) problems.push(`storm: ${stormHeartbeatErrors} paired VENs could not heartbeat`);
  }

  // ---------------------------------------------------------------------------------------- hold
  if (opts.holdSeconds > 0 && vens.length > 0) {
    phase = 'hold';
    log(`holding ${onlineCount()} VENs for ${opts.holdSeconds} s`);
    await sleep(opts.holdSeconds * 1000);
  }

  // ---------------------------------------------------------------------------------------- stop
  phase = 'stopping';
  if (vens.length > 0 || stormVens.length > 0) log(`stopping ${onlineCount()} VENs${opts.goodbye ? ' (goodbye)' : ''}`);
  await Promise.all([
    ...pces.map((pce) => {
      const mine = vens.filter((v) => v.pce === pce);
      return pool(mine.length, opts.concurrency, async (i) => mine[i]?.stop(opts.goodbye));
    }),
    opts.goodbye && stormPce
      ? pool(stormVens.length, opts.concurrency, async (i) => {
          const v = stormVens[i];
          if (!v) return;
          await httpJson(stormPce.agent, `${stormPce.url}${VEN_API_BASE}/goodbye`, 'POST', { authorization: `Bearer ${v.activation.agent_token}` }, {}).catch(() => undefined);
        })
      : Promise.resolve(),
  ]);
} catch (err) {
  problems.push(`failed: ${(err as Error).message}`);
  console.error(`vens: ${(err as Error).stack ?? (err as Error).message}`);
  for (const v of vens) await v.stop(false);
} finally {
  if (progressTimer) clearInterval(progressTimer);
  for (const p of pces) p.agent.destroy();
  queues?.destroy();
}

if (stats.lost > 0) problems.push(`${stats.lost} lost agents (401)`);
if (stats.verifyErrors > 0) problems.push(`${stats.verifyErrors} policy verification failures`);
const perRegion = Object.fromEntries(
  pces.map((p) => {
    const t = tally.get(p.fqdn) as PairTally;
    const lat = summary(t.latencies);
    return [p.region, { fqdn: p.fqdn, paired: t.paired, pair_errors: t.errors, pair_failed: t.failed, activate_p50_ms: t.latencies.length ? lat.p50_ms : null, activate_p99_ms: t.latencies.length ? lat.p99_ms : null }];
  }),
);
Object.assign(result, {
  per_region: perRegion,
  heartbeats: stats.heartbeats,
  heartbeat_errors: stats.heartbeatErrors,
  lost_agents: stats.lost,
  channel_connects: stats.channelConnects,
  channel_errors: stats.channelErrors,
  channel_repairs: stats.channelRepairs,
  policy_fetches: { full: stats.policyFull, delta: stats.policyDelta, not_computed_retries: stats.policyNotComputed, raced_with_push: stats.policyRaced, errors: stats.policyErrors },
  verify_errors: stats.verifyErrors,
  protocol_notes: stats.protocolNotes,
  pushes: { received: stats.pushes, applied: stats.pushesApplied, fetched: stats.pushesFetched, stale: stats.pushesStale, reassign: stats.reassignPushes, listen_only: stats.listenOnlyPushes, unpaired: stats.unpaired },
  moves: stats.moves,
  gslb: gslb ? { dns: state.gslb.dns, queries: gslb.queries, errors: gslb.errors, moves: stats.gslbMoves, pairing_answer_mismatches: gslbMismatches } : null,
  flows_sent: stats.flowsSent,
  flow_errors: stats.flowErrors,
  goodbyes: stats.goodbyes,
  goodbye_errors: stats.goodbyeErrors,
  errors: stats.errorSummary(),
  problems,
  ok: problems.length === 0,
  elapsed_ms: ms(performance.now() - t0),
});
if (problems.length > 0) {
  exitCode = 1;
  log(`problems: ${problems.join('; ')}`);
}
if (!opts.json) console.log(JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
process.exit(exitCode);
