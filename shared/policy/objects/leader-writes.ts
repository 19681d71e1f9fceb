/**
 * The write discipline the policy use cases share: take the leader's fence, run one optimistic
 * attempt (read drafts, validate, one fenced transaction), retry when another write on the leader
 * got there first, and translate storage outcomes into API errors.
 */
import { UnavailableError, ValidationError } from '../../api/errors.ts';
import { FenceFailedError, type LeaderView, type WriteFence } from '../../supercluster/leader.ts';
import { SnapshotIncompleteError } from '../snapshot/errors.ts';
import { ActivePolicyChangedError, DraftChangedError, PolicyObjectTooLargeError } from './errors.ts';
import { POLICY_IDS_PER_EPOCH } from './defaults.ts';
import type { IdCounter } from './ports.ts';
import { sleep } from '../../runtime/sleep.ts';
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../../api/leader-fence.ts';

/** enough for ~10 concurrent writers (automation tools run writes in parallel): each round lets at least one through */
const ATTEMPTS = 12;

/** Reads that depend on a provisioned version: 503 while it is still replicating to this PCE. */
export function translateRead(err: unknown): unknown {
  if (err instanceof SnapshotIncompleteError) {
    return new UnavailableError([{ token: 'policy_version_replicating', message: `${err.message}; retry in a moment` }], { cause: err });
  }
  return err;
}

export class LeaderWrites {
  constructor(private readonly leader: LeaderView) {}

  fence(): Promise<WriteFence> {
    return requireLeaderFence(this.leader);
  }

  /** Runs `attempt` under a fresh fence until it succeeds, retrying optimistic-lock conflicts a few times. */
  async run<T>(attempt: (fence: WriteFence) => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      const fence = await this.fence();
      try {
        return await attempt(fence);
      } catch (err) {
        if ((err instanceof DraftChangedError || err instanceof ActivePolicyChangedError) && n < ATTEMPTS) {
          await sleep(Math.floor(Math.random() * 20 * n));
          continue;
        }
        throw await this.translate(err);
      }
    }
  }

  private async translate(err: unknown): Promise<unknown> {
    if (err instanceof FenceFailedError) return notLeaderAfterFenceFailure(this.leader, err);
    if (err instanceof DraftChangedError) return new ValidationError([{ token: 'policy_write_conflict', message: `the draft policy kept changing during this write; retry (${err.message})` }], { cause: err });
    if (err instanceof ActivePolicyChangedError) return new ValidationError([{ token: 'provision_conflict', message: `another provision happened at the same time; retry (${err.message})` }], { cause: err });
    if (err instanceof PolicyObjectTooLargeError) return new ValidationError([{ token: 'object_too_large', message: err.message }], { cause: err });
    return translateRead(err);
  }
}

/** Hands out ids of the fence's epoch, continuing that epoch's counter. */
export class IdAllocator {
  private readonly from: number | null;
  private last: number;

  constructor(
    counters: readonly IdCounter[],
    private readonly epoch: number,
  ) {
    this.from = counters.find((c) => c.epoch === epoch)?.last ?? null;
    this.last = this.from ?? 0;
  }

  next(): number {
    this.last += 1;
    return this.epoch * POLICY_IDS_PER_EPOCH + this.last;
  }

  /** The counter move to store with the write, or null if no id was handed out. */
  change(): { from: number | null; to: number } | null {
    return this.last === (this.from ?? 0) ? null : { from: this.from, to: this.last };
  }
}
