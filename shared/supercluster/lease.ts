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

/** The lease authority did not answer a read (a partitioned region, or the authority is down). */
export class LeaseUnavailableError extends Error {
  override readonly name = 'LeaseUnavailableError';
}

/** The leader lease as the lease authority holds it, for GET /api/v2/supercluster/leader_lease. */
export interface LeaseStateJson {
  /** null: no lease was ever taken */
  readonly lease: {
    readonly holder_fqdn: string;
    readonly holder_region: string;
    readonly epoch: number;
    readonly renewed_at: string;
    readonly expires_at: string;
    /** the holder writes only until then (expires_at minus the clock-skew bound, its clock) */
    readonly holder_writes_until: string;
    /** a successor may take it from then on (expires_at plus the clock-skew bound, its clock) */
    readonly over_at: string;
    /** within its term by the answering PCE's clock (now < expires_at) */
    readonly live: boolean;
  } | null;
  /** the leader record of the answering PCE's replica (null: none yet) */
  readonly leader: { readonly fqdn: string; readonly region: string; readonly epoch: number } | null;
  /** the lease is live and belongs to that leader record (its region and epoch): the leader may write */
  readonly held_by_leader: boolean;
  readonly duration_seconds: number;
  readonly clock_skew_seconds: number;
  readonly checked_at: string;
}

/** What the lease authority holds, read against this replica's leader record at `now`. */
export function leaseState(lease: LeaderLease | null, leader: { readonly leaderFqdn: string; readonly leaderRegion: string; readonly epoch: number } | null, timings: LeaseTimings, now: number): LeaseStateJson {
  const iso = (ms: number) => new Date(ms).toISOString();
  const live = lease !== null && now < lease.expiresAt;
  return {
    lease: lease && {
      holder_fqdn: lease.holderFqdn,
      holder_region: lease.holderRegion,
      epoch: lease.epoch,
      renewed_at: iso(lease.renewedAt),
      expires_at: iso(lease.expiresAt),
      holder_writes_until: iso(lease.expiresAt - timings.clockSkewMs),
      over_at: iso(leaseOverAt(lease, timings)),
      live,
    },
    leader: leader && { fqdn: leader.leaderFqdn, region: leader.leaderRegion, epoch: leader.epoch },
    held_by_leader: lease !== null && live && leader !== null && lease.holderRegion === leader.leaderRegion && lease.epoch === leader.epoch,
    duration_seconds: timings.durationMs / 1000,
    clock_skew_seconds: timings.clockSkewMs / 1000,
    checked_at: iso(now),
  };
}
