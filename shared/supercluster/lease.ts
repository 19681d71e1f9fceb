/**
 * The leader lease (docs/adr/0012-leader-lease.md): one item in a small table that only the leadership
 * path touches, linearizable across regions (AWS: a DynamoDB table with multi-Region strong consistency;
 * locally: one DynamoDB Local database acting as the lease authority, which a partitioned region cannot
 * reach). The leader renews it on a short period and refuses every write once it cannot prove a live
 * lease; a new leader takes it only after the old one expired plus the clock-skew bound.
 *
 * Times are each writer's wall clock (ms); `clockSkewMs` bounds how far two PCEs' clocks may differ.
 */

export interface LeaderLease {
  readonly holderRegion: string;
  readonly holderFqdn: string;
  /** the leader epoch the lease belongs to (the leader record's epoch) */
  readonly epoch: number;
  /** the holder may write until expiresAt - clockSkewMs (its own clock) */
  readonly expiresAt: number;
  readonly renewedAt: number;
}

export interface LeaseStore {
  /** The lease as the authority holds it now (a strongly consistent read); null: never taken. */
  get(): Promise<LeaderLease | null>;
  /**
   * Takes or renews the lease: stored when there is none, when the stored one has the same holder region
   * and epoch (a renewal), or when the stored one expired before `takeOverExpiredBefore` (a new holder, or
   * a new epoch: the caller passes now - clockSkewMs). Returns the lease now stored, or null when refused
   * (another holder's lease is live). Throws when the authority cannot be reached.
   * A takeover never goes back to an older epoch than the stored one (a leader demoted while cut off cannot
   * take the lease again once its successor's lapses). A release is a renewal with `expiresAt` = now.
   */
  tryAcquire(next: LeaderLease, options: { readonly takeOverExpiredBefore: number }): Promise<LeaderLease | null>;
}

export interface LeaseTimings {
  /** how long one renewal holds */
  readonly durationMs: number;
  /** how often the holder renews (a third of the duration) */
  readonly renewEveryMs: number;
  /** the bound on clock differences between PCEs */
  readonly clockSkewMs: number;
}

/** The lease is over for everyone else once `expiresAt + clockSkewMs` has passed on their clock. */
export function leaseOverAt(lease: Pick<LeaderLease, 'expiresAt'>, timings: Pick<LeaseTimings, 'clockSkewMs'>): number {
  return lease.expiresAt + timings.clockSkewMs;
}

/** The holder may still write at `now` (its clock) under `lease`. */
export function holderMayWrite(lease: Pick<LeaderLease, 'expiresAt'>, timings: Pick<LeaseTimings, 'clockSkewMs'>, now: number): boolean {
  return now < lease.expiresAt - timings.clockSkewMs;
}

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}
