/**
 * The two leader checks every leader-only write makes (labels, policy, workloads, settings): take the
 * fence before writing, and turn a failed fence into the member's 403 naming the new leader.
 */
import type { LeaderView, WriteFence } from '../supercluster/leader.ts';
import { NotLeaderError } from './errors.ts';

/** The fence for a write made now; 403 naming the leader when this PCE is not it. */
export async function requireLeaderFence(leader: LeaderView): Promise<WriteFence> {
  const fence = await leader.fence();
  if (!fence) throw new NotLeaderError((await leader.current())?.leaderFqdn ?? null);
  return fence;
}

/** The 403 for a write whose fence failed: the cached leader record is stale, so it is read again to name the new leader. */
export async function notLeaderAfterFenceFailure(leader: LeaderView, cause?: unknown): Promise<NotLeaderError> {
  leader.invalidate();
  return new NotLeaderError((await leader.current())?.leaderFqdn ?? null, cause === undefined ? undefined : { cause });
}
