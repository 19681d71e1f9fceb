/**
 * The VEN simulator's failover drill (`npm run vens -- --failover <pce>`), as an operator runs a game day
 * on the local cloud:
 *   1. `pce-ctl local region-down <region>`: the PCE's endpoint and compute stop (its data stays);
 *   2. manual mode: `pce-ctl gslb failover <pce>` (automatic mode: nothing, the health checks alone);
 *   3. timed: every VEN of that PCE's client subnet finds the buddy through the GSLB (its heartbeats
 *      fail, it asks the GSLB again once the answer's TTL is over), heartbeats there and holds current
 *      policy (the buddy took it over and computed it);
 *   4. a provision on the leader meanwhile: timed until every VEN, failed over or not, applied it;
 *   5. `pce-ctl local region-up <region>`, manual mode: `pce-ctl gslb restore <pce>`; timed until every
 *      such VEN heartbeats to its own PCE again with current policy (its heartbeat at the buddy says
 *      target_available once the PCE reports and is no longer failed over).
 * The commands run as a person runs them (child processes of pce-ctl against the state file).
 */
import { spawn } from 'node:child_process';
import { sleep } from '../../shared/runtime/sleep.ts';
import { latencySummary } from './latency.ts';
import type { SimVen, PceEndpoint } from './ven-client.ts';

export interface DrillContext {
  readonly state: string;
  readonly config: string | null;
  readonly failoverMode: 'manual' | 'automatic';
  readonly log: (line: string) => void;
  readonly timeoutMs: number;
  /** provisions one rule change on the leader; resolves with the new version once the 201 is in */
  readonly provision: () => Promise<number>;
}

export class DrillError extends Error {
  override readonly name = 'DrillError';
}

/** Runs `npx pce-ctl <args>` (this checkout's) against the simulator's state file; rejects with its output on a non-zero exit. */
export function pceCtl(ctx: Pick<DrillContext, 'state' | 'config'>, args: readonly string[]): Promise<string> {
  const full = [...args, '--state', ctx.state, ...(ctx.config ? ['--config', ctx.config] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pce-ctl.ts', ...full], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new DrillError(`pce-ctl ${args.join(' ')} exited ${code}: ${out.trim().slice(-800)}`))));
  });
}

const ms = (x: number) => Math.round(x);
const summary = latencySummary;

/** Waits until `done(v)` holds for every VEN (or the timeout); returns each VEN's first time it held, from `from`. */
async function timeEach(vens: readonly SimVen[], done: (v: SimVen) => boolean, from: number, timeoutMs: number): Promise<{ times: number[]; missing: number }> {
  const at = new Map<SimVen, number>();
  const deadline = performance.now() + timeoutMs;
  while (at.size < vens.length && performance.now() < deadline) {
    const now = performance.now();
    for (const v of vens) if (!at.has(v) && (v.state !== 'running' || done(v))) at.set(v, now - from);
    if (at.size < vens.length) await sleep(50);
  }
  return { times: [...at.values()], missing: vens.length - at.size };
}

/** Every VEN of `vens` whose last answered heartbeat is on `pce` after `since` and which holds at least `version`, in sync. */
const settledOn = (pce: PceEndpoint, since: number, version: number) => (v: SimVen) =>
  v.lastHeartbeat !== null && v.lastHeartbeat.fqdn === pce.fqdn && v.lastHeartbeat.at > since && v.inSync() && (v.held?.version ?? 0) >= version;

export async function runFailoverDrill(ctx: DrillContext, all: readonly SimVen[], victim: PceEndpoint, buddy: PceEndpoint, policyVersion: number): Promise<Record<string, unknown>> {
  const vens = all.filter((v) => v.home === victim && v.state === 'running');
  if (vens.length === 0) throw new DrillError(`no running VEN of ${victim.fqdn} to fail over`);
  const result: Record<string, unknown> = { pce: victim.fqdn, buddy: buddy.fqdn, mode: ctx.failoverMode, vens: vens.length };
  const problems: string[] = [];

  // ------------------------------------------------------------------ down + failover
  ctx.log(`failover drill: ${victim.region} down (${vens.length} VENs of ${victim.fqdn}; buddy ${buddy.fqdn}, ${ctx.failoverMode} mode)`);
  const down = performance.now();
  await pceCtl(ctx, ['local', 'region-down', victim.region]);
  result.region_down_ms = ms(performance.now() - down);
  let from = down;
  if (ctx.failoverMode === 'manual') {
    const started = performance.now();
    await pceCtl(ctx, ['gslb', 'failover', victim.fqdn]);
    from = performance.now();
    result.gslb_failover_command_ms = ms(from - started);
    ctx.log(`failover drill: gslb failover ${victim.fqdn} done (${ms(from - started)} ms); waiting for its VENs on ${buddy.fqdn}`);
  }
  const over = await timeEach(vens, settledOn(buddy, down, policyVersion), from, ctx.timeoutMs);
  Object.assign(result, { failover: { ...summary(over.times), vens_moved: over.times.length, vens_not_moved: over.missing }, failover_from: ctx.failoverMode === 'manual' ? 'gslb failover command done' : 'region down' });
  if (over.missing > 0) problems.push(`${over.missing} VENs of ${victim.fqdn} did not settle on ${buddy.fqdn}`);
  ctx.log(`failover drill: ${over.times.length}/${vens.length} VENs heartbeat to ${buddy.fqdn} with current policy; p50 ${summary(over.times).p50_ms} ms, p99 ${summary(over.times).p99_ms} ms, max ${summary(over.times).max_ms} ms`);

  // ------------------------------------------------------------------ a provision while failed over
  const running = all.filter((v) => v.state === 'running');
  const requested = performance.now();
  const version = await ctx.provision();
  const at201 = performance.now();
  const reach = await timeEach(running, (v) => (v.held?.version ?? 0) >= version && v.inSync(), at201, ctx.timeoutMs);
  result.provision_while_failed_over = { version, post_ms: ms(at201 - requested), ...summary(reach.times), vens_applied: reach.times.length, vens_not_applied: reach.missing };
  if (reach.missing > 0) problems.push(`${reach.missing} VENs did not apply version ${version} while ${victim.fqdn} was failed over`);
  ctx.log(`failover drill: version ${version} provisioned meanwhile reached ${reach.times.length}/${running.length} VENs; p99 ${summary(reach.times).p99_ms} ms`);

  // ------------------------------------------------------------------ up + restore
  const up = performance.now();
  await pceCtl(ctx, ['local', 'region-up', victim.region]);
  result.region_up_ms = ms(performance.now() - up);
  let back = up;
  if (ctx.failoverMode === 'manual') {
    const started = performance.now();
    await pceCtl(ctx, ['gslb', 'restore', victim.fqdn]);
    back = performance.now();
    result.gslb_restore_command_ms = ms(back - started);
  }
  ctx.log(`failover drill: ${victim.region} up${ctx.failoverMode === 'manual' ? ' and restored' : ''} (${ms(performance.now() - up)} ms); waiting for its VENs to return`);
  const home = await timeEach(vens, settledOn(victim, up, version), back, ctx.timeoutMs);
  Object.assign(result, { failback: { ...summary(home.times), vens_returned: home.times.length, vens_not_returned: home.missing } });
  if (home.missing > 0) problems.push(`${home.missing} VENs did not return to ${victim.fqdn}`);
  ctx.log(`failover drill: ${home.times.length}/${vens.length} VENs back on ${victim.fqdn} with current policy; p50 ${summary(home.times).p50_ms} ms, p99 ${summary(home.times).p99_ms} ms, max ${summary(home.times).max_ms} ms`);
  result.problems = problems;
  return result;
}
