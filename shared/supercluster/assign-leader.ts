/**
 * supercluster-assign-leader, for the seed's "Assign Leader When a Leader Is Connected":
 * 1. read the leader record in every region (all must answer: the leader is connected);
 * 2. in the current leader's region, replace the record by {new leader, epoch + 1}: from this moment
 *    the old leader's writes fail their fence (it stops accepting writes);
 * 3. wait until the new leader's replica holds the new epoch: only then does it accept writes;
 * 4. wait until every region holds it, so every PCE answers /supercluster/leader accordingly.
 * The record is written by the outgoing leader's region, so it keeps exactly one writer at a time.
 * With the leader lease (docs/adr/0012-leader-lease.md), step 2 is followed by releasing the old leader's
 * lease (it is fenced by the record already), so the new leader takes it within the clock-skew bound.
 */
import { sleep as sleepFor } from '../runtime/sleep.ts';
import { pceByFqdn, type SuperclusterConfig } from './config.ts';
import type { LeaderRecord, LeaderRecordStore } from './leader.ts';
import type { LeaseStore } from './lease.ts';
import { releaseLeaseOf } from './lease-keeper.ts';

export class AssignLeaderError extends Error {
  override readonly name = 'AssignLeaderError';
}

export interface AssignLeaderDeps {
  readonly config: SuperclusterConfig;
  readonly leaderStoreFor: (region: string) => LeaderRecordStore;
  readonly progress: (message: string) => void;
  /** the leader lease: the old leader's is released once the record fenced it (absent: no lease) */
  readonly leaderLease?: LeaseStore;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AssignLeaderResult {
  readonly previous: LeaderRecord;
  readonly current: LeaderRecord;
  readonly changed: boolean;
  readonly handoverMs: number;
}



async function waitForEpoch(deps: AssignLeaderDeps, region: string, epoch: number, deadline: number): Promise<void> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleepFor;
  const store = deps.leaderStoreFor(region);
  for (;;) {
    const record = await store.get();
    if (record && record.epoch >= epoch) return;
    if (now() > deadline) throw new AssignLeaderError(`timed out waiting for ${region} to replicate leader epoch ${epoch} (it has ${record?.epoch ?? 'none'}); the handover is written and will complete when replication catches up`);
    await sleep(100);
  }
}

export async function assignLeaderConnected(deps: AssignLeaderDeps, targetFqdn: string, options: { timeoutMs: number }): Promise<AssignLeaderResult> {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const target = pceByFqdn(config, targetFqdn);
  if (!target) throw new AssignLeaderError(`${targetFqdn} is not a PCE of this supercluster (PCEs: ${config.pces.map((p) => p.fqdn).join(', ')})`);

  deps.progress('reading the leader record in every region');
  const records = await Promise.all(
    config.pces.map(async (pce) => {
      try {
        return { pce, record: await deps.leaderStoreFor(pce.region).get({ consistent: true }) };
      } catch (cause) {
        throw new AssignLeaderError(`${pce.fqdn} (${pce.region}) does not answer: ${(cause as Error).message}. This command is for a connected leader; a failed leader must be dropped first`, { cause });
      }
    }),
  );
  const known = records.flatMap((r) => (r.record ? [r.record] : []));
  if (known.length === 0) throw new AssignLeaderError('the supercluster has no leader record yet: initialise it first (supercluster-init-leader)');
  const current = known.reduce((a, b) => (b.epoch > a.epoch ? b : a));
  const behind = records.filter((r) => (r.record?.epoch ?? 0) < current.epoch).map((r) => r.pce.fqdn);
  if (behind.length > 0) throw new AssignLeaderError(`replication has not converged: ${behind.join(', ')} still hold an older leader record; retry when supercluster-members shows one leader`);

  if (current.leaderFqdn === target.fqdn) {
    deps.progress(`${target.fqdn} is already the leader (epoch ${current.epoch})`);
    return { previous: current, current, changed: false, handoverMs: 0 };
  }

  const started = now();
  const next: LeaderRecord = { leaderRegion: target.region, leaderFqdn: target.fqdn, epoch: current.epoch + 1, assignedAt: started, previousLeaderFqdn: current.leaderFqdn };
  deps.progress(`fencing ${current.leaderFqdn}: writing leader epoch ${next.epoch} in ${current.leaderRegion} (the old leader stops accepting writes now)`);
  await deps.leaderStoreFor(current.leaderRegion).replace(current, next);
  if (deps.leaderLease) {
    try {
      const released = await releaseLeaseOf(deps.leaderLease, { region: current.leaderRegion, epoch: current.epoch }, now());
      deps.progress(released ? `released ${current.leaderFqdn}'s leader lease (epoch ${current.epoch}): ${target.fqdn} takes it at epoch ${next.epoch}` : `${current.leaderFqdn} held no live leader lease: ${target.fqdn} takes it at epoch ${next.epoch}`);
    } catch (cause) {
      // the record already fenced the old leader; the new one takes the lease once the old one expires
      deps.progress(`could not release ${current.leaderFqdn}'s leader lease (${(cause as Error).message}): ${target.fqdn} accepts writes once it expires`);
    }
  }

  const deadline = started + options.timeoutMs;
  deps.progress(`waiting for ${target.fqdn} to receive epoch ${next.epoch}`);
  await waitForEpoch(deps, target.region, next.epoch, deadline);
  deps.progress(`${target.fqdn} is the leader and accepts writes`);
  for (const pce of config.pces) {
    if (pce.region === target.region || pce.region === current.leaderRegion) continue;
    await waitForEpoch(deps, pce.region, next.epoch, deadline);
    deps.progress(`${pce.fqdn} knows the new leader`);
  }
  return { previous: current, current: next, changed: true, handoverMs: now() - started };
}
