/**
 * Dropping a failed PCE from the supercluster and bringing it back (the seed's supercluster-drop and, for a
 * PCE whose data survived, supercluster-restore; docs/failed-leader.md):
 * - `dropPce` (pce-ctl supercluster-drop <failed>, run on a survivor): writes the survivor region's drop mark
 *   of the failed PCE (membership.ts), fails its GSLB switch over so Route 53 / the local GSLB send its clients
 *   to its buddy, and, when it led the supercluster, waits until its leader lease is provably over;
 * - `holdDroppedPce` (each PCE's probe): a PCE that finds itself dropped in its own replica goes to runlevel 2
 *   (reads and replication, no API writes, no new policy for VENs) and stays there;
 * - `rejoinPce` (pce-ctl supercluster-rejoin <fqdn>): clears the drop mark and the GSLB switch, waits until the
 *   PCE's own replica shows it a member again, then sets it to runlevel 5.
 */
import { sleep as sleepFor } from '../runtime/sleep.ts';
import { pceByFqdn, type PceConfig, type SuperclusterConfig } from './config.ts';
import { SuperclusterTimeoutError, SuperclusterUsageError } from './errors.ts';
import type { GslbSwitchService } from './gslb-switch.ts';
import { NORMAL_RUNLEVEL } from './health.ts';
import type { LeaderRecordStore } from './leader.ts';
import { leaseOverAt, type LeaderLease, type LeaseStore, type LeaseTimings } from './lease.ts';
import { isDropped, newestDropMark, type PceDropStore } from './membership.ts';
import { nextChangedAt } from './writer-marks.ts';
import { REPLICATION_ONLY_RUNLEVEL } from './runlevel.ts';
import type { RuntimeStateStore } from './runtime-state.ts';

/** The lease is still renewed by its holder after the wait: the old leader is alive and reaches the lease authority. */
export class LeaseStillHeldError extends Error {
  override readonly name = 'LeaseStillHeldError';
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The PCE of `fqdn`, or a usage error listing the PCEs. */
export function requirePce(config: SuperclusterConfig, fqdn: string, what = 'PCE'): PceConfig {
  const pce = pceByFqdn(config, fqdn.toLowerCase().replace(/\.$/, ''));
  if (!pce) throw new SuperclusterUsageError(`${fqdn} is not a ${what} of this supercluster (PCEs: ${config.pces.map((p) => p.fqdn).join(', ')})`);
  return pce;
}

// ------------------------------------------------------------------------------------------ the old lease

export interface LeaseWaitDeps {
  readonly lease: LeaseStore;
  readonly timings: LeaseTimings;
  readonly progress: (message: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface LeaseWait {
  /** the lease that had to end (null: none was held, or it was not one to wait for) */
  readonly lease: LeaderLease | null;
  /** when it was provably over for everyone: expires_at + clock skew (null: nothing to wait for) */
  readonly overAt: number | null;
  readonly waitedMs: number;
}

/**
 * Waits until the lease the authority holds is provably over (`now > leaseOverAt`), unless `mustEnd` says it
 * is not one to wait for (absent, another holder's, or already ours). A holder that keeps renewing pushes the
 * end out; past `deadline` that is an error: the old leader is alive.
 */
export async function waitOutLease(deps: LeaseWaitDeps, mustEnd: (lease: LeaderLease) => boolean, deadline: number): Promise<LeaseWait> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleepFor;
  const started = now();
  let announced: number | null = null;
  let first: LeaderLease | null = null;
  for (;;) {
    const lease = await deps.lease.get();
    if (!lease || !mustEnd(lease)) return { lease: first, overAt: first ? leaseOverAt(first, deps.timings) : null, waitedMs: now() - started };
    first ??= lease;
    const overAt = leaseOverAt(lease, deps.timings);
    const t = now();
    if (t > overAt) return { lease, overAt, waitedMs: t - started };
    if (t > deadline) {
      throw new LeaseStillHeldError(
        `the lease of ${lease.holderFqdn} (epoch ${lease.epoch}) was still renewed at ${iso(lease.renewedAt)} and holds until ${iso(overAt)}: it is alive and reaches the lease authority. Isolate it (the seed's warning), or hand over with the connected procedure`,
      );
    }
    if (announced !== overAt) {
      deps.progress(`${announced === null ? 'waiting' : 'the lease was renewed: still waiting'} for the old lease to end at ${iso(overAt)} (${lease.holderFqdn}, epoch ${lease.epoch}: expires ${iso(lease.expiresAt)} + clock skew ${deps.timings.clockSkewMs / 1000} s; ${Math.ceil((overAt - t) / 1000)} s)`);
      announced = overAt;
    }
    await sleep(Math.max(1, Math.min(overAt - t + 1, deadline - t + 1)));
  }
}

// ------------------------------------------------------------------------------------------ drop

export interface DropDeps {
  readonly config: SuperclusterConfig;
  /** the surviving PCE the command runs on: its region writes the drop mark and the GSLB switch */
  readonly survivor: PceConfig;
  readonly drops: PceDropStore;
  readonly leaderRecord: LeaderRecordStore;
  readonly switches: GslbSwitchService;
  /** the leader lease (null: not reachable from here; nothing is waited for) */
  readonly lease: LeaseStore | null;
  readonly timings: LeaseTimings;
  /** GET `path` on PCE `fqdn`: its HTTP status, null when it does not answer */
  readonly probe: (fqdn: string, path: string) => Promise<number | null>;
  readonly progress: (message: string) => void;
  readonly changedBy: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface DropResult {
  readonly pce_fqdn: string;
  readonly dropped: true;
  /** false when it was dropped already (nothing new written) */
  readonly changed: boolean;
  readonly written_in_region: string;
  readonly changed_at: string;
  readonly was_leader: boolean;
  /** whether the failed PCE still answered its API when it was dropped (it should be isolated) */
  readonly still_answers: boolean;
  readonly gslb: { readonly failed_over: boolean; readonly clients_sent_to: string };
  readonly lease: { readonly holder_fqdn: string; readonly epoch: number; readonly expires_at: string; readonly over_at: string } | null;
  readonly waited_ms: number;
  readonly next: readonly string[];
}

export async function dropPce(deps: DropDeps, failedFqdn: string, options: { readonly timeoutMs: number }): Promise<DropResult> {
  const now = deps.now ?? Date.now;
  const { config, survivor } = deps;
  const failed = requirePce(config, failedFqdn);
  if (failed.fqdn === survivor.fqdn) {
    throw new SuperclusterUsageError(`refusing to drop ${failed.fqdn} from itself: run supercluster-drop on a surviving PCE (--pce one of ${config.pces.filter((p) => p.fqdn !== failed.fqdn).map((p) => p.fqdn).join(', ')})`);
  }
  const marks = await deps.drops.list();
  if (isDropped(marks, survivor.fqdn)) throw new SuperclusterUsageError(`${survivor.fqdn} is itself dropped from the supercluster: run supercluster-drop on a PCE that is a member`);
  const started = now();
  const leader = await deps.leaderRecord.get({ consistent: true });
  const wasLeader = leader?.leaderFqdn === failed.fqdn;
  const stillAnswers = (await deps.probe(failed.fqdn, '/api/v2/node_available')) !== null;
  if (stillAnswers) deps.progress(`WARNING: ${failed.fqdn} still answers on its API: isolate it from the network before a new leader is assigned (the seed's warning)`);

  const already = newestDropMark(marks, failed.fqdn);
  const changed = !(already?.dropped ?? false);
  const changedAt = changed ? nextChangedAt(now(), already) : (already?.changedAt ?? now());
  if (changed) {
    deps.progress(`recording ${failed.fqdn} as dropped in ${survivor.region}${wasLeader ? ` (it is the leader, epoch ${leader?.epoch ?? '?'})` : ''}`);
    await deps.drops.put({ pceFqdn: failed.fqdn, dropped: true, changedAt, changedBy: deps.changedBy, wasLeader });
  } else deps.progress(`${failed.fqdn} is already dropped (since ${iso(changedAt)})`);

  deps.progress(`failing ${failed.fqdn}'s GSLB switch over: its clients and VENs are sent to its buddy ${failed.buddy}`);
  const gslb = await deps.switches.set(failed.fqdn, true, deps.changedBy);

  let wait: LeaseWait = { lease: null, overAt: null, waitedMs: 0 };
  if (wasLeader) {
    const unreachable = (why: string) => deps.progress(`the leader lease is not reachable from here (${why}): nothing to wait for now (supercluster-assign-leader waits for it before it assigns)`);
    if (deps.lease === null) unreachable('no lease table');
    else {
      try {
        wait = await waitOutLease({ ...deps, lease: deps.lease }, (lease) => lease.holderRegion === failed.region, started + options.timeoutMs + deps.timings.durationMs + deps.timings.clockSkewMs);
      } catch (err) {
        if (err instanceof LeaseStillHeldError) throw err;
        unreachable((err as Error).message);
      }
    }
    if (wait.overAt !== null) deps.progress(`the old lease ended at ${iso(wait.overAt)}: ${failed.fqdn} accepts no write`);
  }
  return {
    pce_fqdn: failed.fqdn,
    dropped: true,
    changed,
    written_in_region: survivor.region,
    changed_at: iso(changedAt),
    was_leader: wasLeader,
    still_answers: stillAnswers,
    gslb: { failed_over: gslb.failedOver, clients_sent_to: failed.buddy },
    lease: wait.lease && wait.overAt !== null ? { holder_fqdn: wait.lease.holderFqdn, epoch: wait.lease.epoch, expires_at: iso(wait.lease.expiresAt), over_at: iso(wait.overAt) } : null,
    waited_ms: wait.waitedMs,
    next: wasLeader
      ? [`pce-ctl supercluster-assign-leader ${survivor.fqdn}`, 'pce-ctl set-runlevel 5 --pce <each surviving PCE>']
      : ['pce-ctl set-runlevel 5 --pce <each surviving PCE>'],
  };
}

// ------------------------------------------------------------------------------------------ a dropped PCE's own view

/** Run by each PCE's probe: a PCE dropped in its own replica goes to runlevel 2 (a lower runlevel is kept). */
export async function holdDroppedPce(deps: { readonly selfFqdn: string; readonly drops: PceDropStore; readonly runtime: RuntimeStateStore; readonly now: () => number }): Promise<{ dropped: boolean; lowered: boolean }> {
  if (!isDropped(await deps.drops.list(), deps.selfFqdn)) return { dropped: false, lowered: false };
  const state = await deps.runtime.getOrCreate({ startedAt: deps.now(), runlevel: NORMAL_RUNLEVEL });
  if (state.runlevel <= REPLICATION_ONLY_RUNLEVEL) return { dropped: true, lowered: false };
  await deps.runtime.setRunlevel(REPLICATION_ONLY_RUNLEVEL);
  return { dropped: true, lowered: true };
}

// ------------------------------------------------------------------------------------------ rejoin

export interface RejoinDeps {
  readonly config: SuperclusterConfig;
  /** the PCE the command runs on: its region writes the cleared drop mark and the GSLB switch */
  readonly writer: PceConfig;
  readonly drops: PceDropStore;
  readonly switches: GslbSwitchService;
  /** the drop marks as `region`'s replica holds them (the rejoining PCE's, to wait for the clear) */
  readonly dropsIn: (region: string) => PceDropStore;
  /** the runtime state in the local table of the PCE of `region` */
  readonly runtimeIn: (region: string) => RuntimeStateStore;
  readonly probe: (fqdn: string, path: string) => Promise<number | null>;
  readonly progress: (message: string) => void;
  readonly changedBy: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RejoinResult {
  readonly pce_fqdn: string;
  /** false when it was not dropped (the runlevel and switch are set anyway) */
  readonly was_dropped: boolean;
  readonly written_in_region: string;
  readonly gslb_restored: boolean;
  readonly runlevel: number;
  /** node_available answered 202 before the timeout */
  readonly serving: boolean;
  readonly waited_ms: number;
}

async function until(check: () => Promise<boolean>, deadline: number, now: () => number, sleep: (ms: number) => Promise<void>): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (now() > deadline) return false;
    await sleep(250);
  }
}

export async function rejoinPce(deps: RejoinDeps, fqdn: string, options: { readonly timeoutMs: number }): Promise<RejoinResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleepFor;
  const { config, writer } = deps;
  const pce = requirePce(config, fqdn);
  const marks = await deps.drops.list();
  if (writer.fqdn !== pce.fqdn && isDropped(marks, writer.fqdn)) throw new SuperclusterUsageError(`${writer.fqdn} is itself dropped: run supercluster-rejoin on a PCE that is a member (--pce)`);
  if ((await deps.probe(pce.fqdn, '/api/v2/node_available')) === null) {
    throw new SuperclusterUsageError(`${pce.fqdn} does not answer on its API: bring it back first (restore or restart it; locally \`pce-ctl local region-up ${pce.region}\`), then rejoin it`);
  }
  const started = now();
  const deadline = started + options.timeoutMs;
  const newest = newestDropMark(marks, pce.fqdn);
  const wasDropped = newest?.dropped ?? false;
  if (wasDropped) {
    deps.progress(`clearing ${pce.fqdn}'s drop mark in ${writer.region}`);
    await deps.drops.put({ pceFqdn: pce.fqdn, dropped: false, changedAt: nextChangedAt(now(), newest), changedBy: deps.changedBy, wasLeader: false });
  } else deps.progress(`${pce.fqdn} is not dropped (as ${writer.region} sees it)`);

  const gslb = await deps.switches.readFresh(pce.fqdn);
  if (gslb.failedOver) {
    deps.progress(`restoring ${pce.fqdn}'s GSLB switch: its clients come back from ${pce.buddy}`);
    await deps.switches.set(pce.fqdn, false, deps.changedBy);
  }

  deps.progress(`waiting for ${pce.fqdn}'s replica to show it a member again`);
  const seen = await until(async () => !isDropped(await deps.dropsIn(pce.region).list(), pce.fqdn), deadline, now, sleep);
  if (!seen) throw new SuperclusterTimeoutError(`${pce.fqdn}'s replica still holds it dropped after ${options.timeoutMs / 1000} s: is its region partitioned? The clear is written in ${writer.region}; re-run when replication catches up`);

  deps.progress(`setting ${pce.fqdn} to runlevel ${NORMAL_RUNLEVEL}`);
  await deps.runtimeIn(pce.region).setRunlevel(NORMAL_RUNLEVEL);
  const serving = await until(async () => (await deps.probe(pce.fqdn, '/api/v2/node_available')) === 202, deadline, now, sleep);
  deps.progress(serving ? `${pce.fqdn} serves at runlevel ${NORMAL_RUNLEVEL} (node_available 202)` : `${pce.fqdn} is at runlevel ${NORMAL_RUNLEVEL} but node_available does not answer 202 yet`);
  return { pce_fqdn: pce.fqdn, was_dropped: wasDropped, written_in_region: writer.region, gslb_restored: gslb.failedOver, runlevel: NORMAL_RUNLEVEL, serving, waited_ms: now() - started };
}
