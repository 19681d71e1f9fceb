/**
 * supercluster-assign-leader when the leader has failed (the seed's "Assign New Leader When Leader Has
 * Failed"; docs/failed-leader.md). The old leader was dropped (drop.ts) and does not answer, so its region
 * cannot write the handover as in the connected procedure (assign-leader.ts). Instead:
 * 1. report what may be missing: the newest item the new leader's region received from the old leader's
 *    region (its last replication probe) against the end of the old lease: writes acknowledged in between
 *    may not have arrived yet;
 * 2. wait until the old lease is provably over (`now > leaseOverAt(old)`): from then on the old leader
 *    cannot write, whatever its replica says (its own lease check fails: the self-fence);
 * 3. the new leader's region writes the leader record {new leader, epoch + 1} (the one moment that item's
 *    writer moves without the old writer's help: docs/adr/0005-leader-handover.md);
 * 4. take the lease at the new epoch; only then do the new leader's writes pass;
 * 5. wait (best effort) for the other surviving regions to receive the new epoch.
 */
import { sleep as sleepFor } from '../runtime/sleep.ts';
import type { SuperclusterConfig } from './config.ts';
import { AssignLeaderError, type AssignLeaderResult } from './assign-leader.ts';
import { requirePce, waitOutLease } from './drop.ts';
import { SuperclusterUsageError } from './errors.ts';
import type { PeerLag } from './health.ts';
import type { LeaderRecord, LeaderRecordStore } from './leader.ts';
import type { LeaderLease, LeaseStore, LeaseTimings } from './lease.ts';
import { isDropped, type PceDropStore } from './membership.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

/** What may not have reached the new leader's region from the old leader's. */
export interface MissingWritesReport {
  readonly old_leader_fqdn: string;
  readonly old_leader_region: string;
  readonly new_leader_region: string;
  /** t1: when the old leader wrote the newest item this region received from it (its last probe), null: none ever */
  readonly newest_received_written_at: string | null;
  readonly newest_received_at: string | null;
  /** t2: the last moment the old leader could acknowledge a write (its lease's expiry), null: no lease known */
  readonly old_lease_expires_at: string | null;
  /** t2 - t1 when positive: how long a window of acknowledged writes may be missing (0: none) */
  readonly window_ms: number | null;
  readonly message: string;
}

export function missingWritesReport(input: {
  readonly oldLeader: { readonly fqdn: string; readonly region: string };
  readonly newLeaderRegion: string;
  /** what the new leader's region measured of the old leader's region (its local table) */
  readonly lag: PeerLag | undefined;
  readonly lease: LeaderLease | null;
  readonly now: number;
}): MissingWritesReport {
  const { oldLeader, lag, lease } = input;
  const t1 = lag ? lag.receivedAt - lag.lagMs : null;
  const t2 = lease && lease.holderRegion === oldLeader.region ? lease.expiresAt : null;
  const until = t2 ?? input.now;
  const base = {
    old_leader_fqdn: oldLeader.fqdn,
    old_leader_region: oldLeader.region,
    new_leader_region: input.newLeaderRegion,
    newest_received_written_at: t1 === null ? null : iso(t1),
    newest_received_at: lag ? iso(lag.receivedAt) : null,
    old_lease_expires_at: t2 === null ? null : iso(t2),
  };
  const tail = 'they replicate when its region returns (per-item last-writer-wins keeps newer writes)';
  const upTo = t2 === null ? `until it failed (no lease of it is known; now ${iso(until)})` : iso(t2);
  if (t1 === null) {
    return { ...base, window_ms: null, message: `${input.newLeaderRegion} never received an item from ${oldLeader.region}: writes the old leader acknowledged up to ${upTo} may not have reached this region yet; ${tail}` };
  }
  if (t2 !== null && t1 >= t2) {
    return { ...base, window_ms: 0, message: `${input.newLeaderRegion} received items ${oldLeader.fqdn} wrote up to ${iso(t1)}, after its lease expired at ${iso(t2)}: no write it acknowledged is missing here` };
  }
  return {
    ...base,
    window_ms: until - t1,
    message: `writes the old leader acknowledged between ${iso(t1)} and ${upTo} may not have reached this region yet; ${tail}`,
  };
}

export interface AssignLeaderFailedDeps {
  readonly config: SuperclusterConfig;
  readonly leaderStoreFor: (region: string) => LeaderRecordStore;
  readonly dropsIn: (region: string) => PceDropStore;
  /** the replication lag readings in the local table of the PCE of `region` */
  readonly lagsIn: (region: string) => { list(): Promise<PeerLag[]> };
  readonly lease: LeaseStore;
  readonly timings: LeaseTimings;
  readonly progress: (message: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AssignLeaderFailedResult extends AssignLeaderResult {
  readonly mode: 'failed';
  readonly missing_writes: MissingWritesReport | null;
  readonly old_lease_over_at: string | null;
  readonly waited_for_lease_ms: number;
  readonly lease: { readonly epoch: number; readonly expires_at: string } | null;
  /** surviving PCEs that had not received the new epoch when the wait ended */
  readonly not_yet_replicated_to: readonly string[];
}

export async function assignLeaderFailed(deps: AssignLeaderFailedDeps, targetFqdn: string, options: { readonly timeoutMs: number }): Promise<AssignLeaderFailedResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleepFor;
  const { config, timings } = deps;
  const target = requirePce(config, targetFqdn);
  const store = deps.leaderStoreFor(target.region);
  const current = await store.get({ consistent: true });
  if (!current) throw new AssignLeaderError(`${target.region} holds no leader record: initialise the supercluster first (supercluster-init-leader)`);
  const marks = await deps.dropsIn(target.region).list();
  if (isDropped(marks, target.fqdn)) throw new SuperclusterUsageError(`${target.fqdn} is dropped from the supercluster: rejoin it first (supercluster-rejoin), or promote a member`);
  const started = now();
  const takeLease = async (record: LeaderRecord): Promise<LeaderLease> => {
    const t = now();
    const next: LeaderLease = { holderRegion: record.leaderRegion, holderFqdn: record.leaderFqdn, epoch: record.epoch, expiresAt: t + timings.durationMs, renewedAt: t };
    const taken = await deps.lease.tryAcquire(next, { takeOverExpiredBefore: t - timings.clockSkewMs });
    if (!taken) {
      const held = await deps.lease.get();
      throw new AssignLeaderError(`the leader lease is held by ${held?.holderFqdn ?? 'another PCE'} (epoch ${held?.epoch ?? '?'}, until ${held ? iso(held.expiresAt) : '?'}): ${record.leaderFqdn} is the leader at epoch ${record.epoch} in ${record.leaderRegion} but cannot write until it holds the lease; re-run when it has ended`);
    }
    deps.progress(`took the leader lease at epoch ${taken.epoch} (until ${iso(taken.expiresAt)}, renewed by ${taken.holderFqdn} from now on): it accepts writes`);
    return taken;
  };

  if (current.leaderFqdn === target.fqdn) {
    // a re-run after the record was written (e.g. the lease authority did not answer): make sure the lease is ours
    deps.progress(`${target.fqdn} is already the leader (epoch ${current.epoch})`);
    const held = await deps.lease.get();
    const lease = held && held.holderRegion === target.region && held.epoch === current.epoch ? held : await takeLease(current);
    return { previous: current, current, changed: false, handoverMs: 0, mode: 'failed', missing_writes: null, old_lease_over_at: null, waited_for_lease_ms: 0, lease: { epoch: lease.epoch, expires_at: iso(lease.expiresAt) }, not_yet_replicated_to: [] };
  }
  if (!isDropped(marks, current.leaderFqdn)) {
    throw new SuperclusterUsageError(`the leader ${current.leaderFqdn} is not dropped (as ${target.region} sees it): drop it first (pce-ctl supercluster-drop ${current.leaderFqdn} --pce ${target.fqdn}), or use the connected procedure if it answers`);
  }
  const oldLeader = requirePce(config, current.leaderFqdn);

  // 1. what may be missing, before anything changes
  const [oldLease, lags] = await Promise.all([deps.lease.get(), deps.lagsIn(target.region).list()]);
  const report = missingWritesReport({ oldLeader, newLeaderRegion: target.region, lag: lags.find((l) => l.peerRegion === oldLeader.region), lease: oldLease, now: now() });
  deps.progress(report.message);

  // 2. the old lease must be provably over (any lease not already this handover's own)
  const nextEpoch = current.epoch + 1;
  const wait = await waitOutLease({ ...deps, sleep }, (lease) => !(lease.holderRegion === target.region && lease.epoch === nextEpoch), started + options.timeoutMs + timings.durationMs + timings.clockSkewMs);
  if (wait.overAt !== null) deps.progress(`the old lease ended at ${iso(wait.overAt)}: ${oldLeader.fqdn} can no longer write`);
  else deps.progress('no live leader lease: nothing to wait for');

  // 3. the leader record, written in the new leader's region
  const next: LeaderRecord = { leaderRegion: target.region, leaderFqdn: target.fqdn, epoch: nextEpoch, assignedAt: now(), previousLeaderFqdn: current.leaderFqdn };
  deps.progress(`writing leader epoch ${next.epoch} in ${target.region} (${oldLeader.fqdn} failed; its region cannot write the handover)`);
  await store.replace(current, next);

  // 4. the lease at the new epoch: only now do the new leader's writes pass
  const lease = await takeLease(next);

  // 5. the other surviving regions learn of it (best effort: a partitioned one learns when it heals)
  const deadline = now() + options.timeoutMs;
  const pending = config.pces.filter((p) => p.region !== target.region && p.fqdn !== oldLeader.fqdn && !isDropped(marks, p.fqdn));
  const notYet: string[] = [];
  for (const pce of pending) {
    let seen = false;
    for (;;) {
      const record = await deps.leaderStoreFor(pce.region).get().catch(() => null);
      if (record && record.epoch >= next.epoch) {
        seen = true;
        break;
      }
      if (now() > deadline) break;
      await sleep(100);
    }
    if (seen) deps.progress(`${pce.fqdn} knows the new leader`);
    else {
      notYet.push(pce.fqdn);
      deps.progress(`${pce.fqdn} has not received epoch ${next.epoch} yet (it will when replication reaches it)`);
    }
  }
  return {
    previous: current,
    current: next,
    changed: true,
    handoverMs: now() - started,
    mode: 'failed',
    missing_writes: report,
    old_lease_over_at: wait.overAt === null ? null : iso(wait.overAt),
    waited_for_lease_ms: wait.waitedMs,
    lease: { epoch: lease.epoch, expires_at: iso(lease.expiresAt) },
    not_yet_replicated_to: notYet,
  };
}
