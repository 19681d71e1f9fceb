/**
 * The leader record: which PCE takes policy writes, and the epoch of that leadership.
 * One item in the global table, written only by the current leader's region (or, at a handover,
 * by the outgoing leader's region, which is how the old leader stops before the new one starts).
 */
export interface LeaderRecord {
  readonly leaderRegion: string;
  readonly leaderFqdn: string;
  readonly epoch: number;
  readonly assignedAt: number;
  readonly previousLeaderFqdn: string | null;
}

/** The fence every leader write carries: the local leader record must still name this region at this epoch. */
export interface WriteFence {
  readonly region: string;
  readonly epoch: number;
}

export interface LeaderRecordStore {
  /** The record as this region's replica holds it (null before the supercluster is initialised). */
  get(options?: { consistent?: boolean }): Promise<LeaderRecord | null>;
  /** Creates epoch 1 if no record exists; returns the record that is now stored. */
  createIfAbsent(record: LeaderRecord): Promise<LeaderRecord>;
  /** Replaces `current` by `next` only if the stored record is still `current` (same epoch and leader). */
  replace(current: LeaderRecord, next: LeaderRecord): Promise<void>;
}

export class LeaderChangedError extends Error {
  override readonly name = 'LeaderChangedError';
  constructor(message = 'the leader record changed underneath this operation', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * What a leader write must also pass once the record names this PCE: the leader lease (LeaseKeeper in
 * ./lease-keeper.ts, docs/adr/0012-leader-lease.md). Throws (LeaseLostError) when this PCE may not write now.
 */
export interface LeaderWriteGuard {
  assertMayWrite(record: LeaderRecord): Promise<void>;
}

/**
 * A leader view with a short cache, for the request path. Writes are fenced by the store, not by this cache.
 * `fence()` is the one door every leader write goes through (shared/api/leader-fence.ts): with a write guard
 * (the lease keeper) it also proves the leader lease, so no write path can skip it.
 */
export class LeaderView {
  private cached: { record: LeaderRecord | null; at: number } | null = null;

  constructor(
    private readonly store: LeaderRecordStore,
    private readonly region: string,
    private readonly ttlMs = 1_000,
    private readonly now: () => number = Date.now,
    private readonly writeGuard: LeaderWriteGuard | null = null,
  ) {}

  async current(): Promise<LeaderRecord | null> {
    const t = this.now();
    if (this.cached && t - this.cached.at < this.ttlMs) return this.cached.record;
    const record = await this.store.get();
    this.cached = { record, at: t };
    return record;
  }

  async isLeader(): Promise<boolean> {
    return (await this.current())?.leaderRegion === this.region;
  }

  /** The fence for a write made now, or null when this PCE is not the leader; throws when the write guard (the lease) refuses. */
  async fence(): Promise<WriteFence | null> {
    const record = await this.current();
    if (record?.leaderRegion !== this.region) return null;
    await this.writeGuard?.assertMayWrite(record);
    return { region: this.region, epoch: record.epoch };
  }

  invalidate(): void {
    this.cached = null;
  }
}

/** A fenced write failed its fence: this PCE is no longer the leader (or the epoch moved on). */
export class FenceFailedError extends Error {
  override readonly name = 'FenceFailedError';
}
