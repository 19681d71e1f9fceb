/**
 * The leader's side of the lease (docs/adr/0012-leader-lease.md). A LeaseKeeper holds the last lease this PCE
 * stored and answers one question before every leader write: may this PCE write now? Yes only while the leader
 * record names it (LeaderView checks that and then calls assertMayWrite) AND it holds a live lease of that
 * record's epoch (holderMayWrite). Close to expiry the keeper renews first, synchronously; when it cannot prove
 * a live lease it throws LeaseLostError (the API answers 503 leader_lease_lost) and nothing is written.
 *
 * Renewal in the background (renewWhileLeader): a timer in the local PCE process, the scheduled function in
 * AWS. Members never call any of this: their VEN work does not depend on the lease.
 */
import type { LeaderRecord, LeaderRecordStore, LeaderWriteGuard } from './leader.ts';
import { holderMayWrite, leaseOverAt, LeaseLostError, type LeaderLease, type LeaseStore, type LeaseTimings } from './lease.ts';

export interface LeaseHolder {
  readonly region: string;
  readonly fqdn: string;
}

export interface LeaseKeeperDeps {
  readonly store: LeaseStore;
  readonly timings: LeaseTimings;
  /** this PCE */
  readonly holder: LeaseHolder;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * How long a write may wait for a predecessor's lease (an older epoch) that is about to be over, instead of
   * being refused: after a connected handover the old lease is released and over within the clock-skew bound.
   * Default: clockSkewMs + 1 s.
   */
  readonly handoverWaitMs?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LeaseKeeper implements LeaderWriteGuard {
  private held: LeaderLease | null = null;
  private inflight: { readonly epoch: number; readonly promise: Promise<LeaderLease | null> } | null = null;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: LeaseKeeperDeps) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? defaultSleep;
  }

  get holder(): LeaseHolder {
    return this.deps.holder;
  }

  get timings(): LeaseTimings {
    return this.deps.timings;
  }

  /** The lease this keeper last stored (in memory; null before the first renewal or after a loss). */
  current(): LeaderLease | null {
    return this.held;
  }

  /**
   * Passes when this PCE may write under `record` (the leader record naming it): it holds a live lease of the
   * record's epoch, renewed first when within a third of its duration of expiry. Throws LeaseLostError otherwise.
   */
  async assertMayWrite(record: LeaderRecord): Promise<void> {
    const { timings, holder } = this.deps;
    if (record.leaderRegion !== holder.region) throw new LeaseLostError(`${holder.fqdn} is not the leader (the leader record names ${record.leaderFqdn}); it holds no leader lease`);
    const now = this.now();
    const held = this.heldFor(record.epoch);
    if (held && holderMayWrite(held, timings, now) && held.expiresAt - now > timings.durationMs / 3) return;
    let cause: unknown;
    let renewed: LeaderLease | null = null;
    try {
      renewed = await this.acquire(record, { waitForPredecessor: true });
    } catch (err) {
      cause = err; // the authority did not answer: the lease in memory may still be good
    }
    const lease = renewed ?? this.heldFor(record.epoch);
    if (lease && holderMayWrite(lease, timings, this.now())) return;
    const why = cause === undefined ? 'another leadership holds the lease' : `the lease authority does not answer (${cause instanceof Error ? cause.message : String(cause)})`;
    throw new LeaseLostError(`${holder.fqdn} is the leader by its leader record (epoch ${record.epoch}) but cannot prove a live leader lease: ${why}. It accepts no writes until it can; retry shortly or on the leader`, cause === undefined ? undefined : { cause });
  }

  /** Background renewal under `record` (this PCE leads by it): the lease now held, null when refused. Throws when the authority does not answer. */
  async renew(record: LeaderRecord): Promise<LeaderLease | null> {
    if (record.leaderRegion !== this.deps.holder.region) return null;
    return this.acquire(record, { waitForPredecessor: false });
  }

  /**
   * Gives the lease up at once (expiresAt = now), for a connected handover or a clean stop: the successor may
   * take it after the clock-skew bound instead of a whole lease. True when a held lease was released.
   */
  async release(): Promise<boolean> {
    const held = this.held;
    this.held = null;
    if (!held) return false;
    const now = this.now();
    return (await this.deps.store.tryAcquire({ ...held, expiresAt: Math.min(now, held.expiresAt), renewedAt: now }, { takeOverExpiredBefore: 0 })) !== null;
  }

  private heldFor(epoch: number): LeaderLease | null {
    return this.held && this.held.epoch === epoch && this.held.holderRegion === this.deps.holder.region ? this.held : null;
  }

  /** One tryAcquire at a time per epoch: concurrent writes share it. */
  private acquire(record: LeaderRecord, options: { waitForPredecessor: boolean }): Promise<LeaderLease | null> {
    if (this.inflight?.epoch === record.epoch) return this.inflight.promise;
    const promise = this.acquireOnce(record, options).finally(() => {
      if (this.inflight?.promise === promise) this.inflight = null;
    });
    this.inflight = { epoch: record.epoch, promise };
    return promise;
  }

  private async acquireOnce(record: LeaderRecord, options: { waitForPredecessor: boolean }): Promise<LeaderLease | null> {
    const got = await this.attempt(record);
    if (got || !options.waitForPredecessor) return got;
    const other = await this.deps.store.get();
    if (!other || other.epoch >= record.epoch) return null;
    const waitMs = leaseOverAt(other, this.deps.timings) - this.now();
    if (waitMs > (this.deps.handoverWaitMs ?? this.deps.timings.clockSkewMs + 1_000)) return null;
    await this.sleep(Math.max(0, waitMs) + 1);
    return this.attempt(record);
  }

  private async attempt(record: LeaderRecord): Promise<LeaderLease | null> {
    const { timings, holder, store } = this.deps;
    // the lease counts from before the request is sent: a slow answer shortens it, never lengthens it
    const now = this.now();
    const next: LeaderLease = { holderRegion: holder.region, holderFqdn: holder.fqdn, epoch: record.epoch, expiresAt: now + timings.durationMs, renewedAt: now };
    const stored = await store.tryAcquire(next, { takeOverExpiredBefore: now - timings.clockSkewMs });
    // refused: another leadership holds a live lease, so whatever this keeper held is over
    this.held = stored;
    return stored;
  }
}

/**
 * The background renewal: reads this region's leader record and renews only while it names this PCE.
 * Returns the lease held, or null (not the leader, or refused).
 */
export async function renewWhileLeader(keeper: LeaseKeeper, records: Pick<LeaderRecordStore, 'get'>): Promise<LeaderLease | null> {
  const record = await records.get({ consistent: true });
  if (record?.leaderRegion !== keeper.holder.region) return null;
  return keeper.renew(record);
}

/**
 * Releases the lease of the leadership `holder` (region + epoch) on its behalf (pce-ctl, once the leader
 * record has fenced that leader): expiresAt = now. Returns the released lease, or null when that
 * leadership holds no live lease (nothing to release).
 */
export async function releaseLeaseOf(store: LeaseStore, holder: { readonly region: string; readonly epoch: number }, now: number): Promise<LeaderLease | null> {
  const stored = await store.get();
  if (!stored || stored.holderRegion !== holder.region || stored.epoch !== holder.epoch || stored.expiresAt <= now) return null;
  return store.tryAcquire({ ...stored, expiresAt: now, renewedAt: now }, { takeOverExpiredBefore: 0 });
}
