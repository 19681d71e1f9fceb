/** A LeaseStore in memory with the DynamoDB adapter's conditions (shared/storage/dynamodb/leader-lease.ts), and a clock to move. */
import type { LeaderLease, LeaseStore } from '../../shared/supercluster/lease.ts';

export class FakeLeaseStore implements LeaseStore {
  stored: LeaderLease | null = null;
  /** when set, every call throws it (the authority cannot be reached) */
  unreachable: Error | null = null;
  calls = 0;

  get(): Promise<LeaderLease | null> {
    this.calls++;
    if (this.unreachable) return Promise.reject(this.unreachable);
    return Promise.resolve(this.stored);
  }

  tryAcquire(next: LeaderLease, options: { readonly takeOverExpiredBefore: number }): Promise<LeaderLease | null> {
    this.calls++;
    if (this.unreachable) return Promise.reject(this.unreachable);
    const s = this.stored;
    const allowed = s === null || (s.holderRegion === next.holderRegion && s.epoch === next.epoch) || (s.expiresAt < options.takeOverExpiredBefore && s.epoch <= next.epoch);
    if (!allowed) return Promise.resolve(null);
    this.stored = next;
    return Promise.resolve(next);
  }
}

export class FakeClock {
  constructor(public t = 1_000_000) {}
  readonly now = (): number => this.t;
  /** a sleep that moves the clock instead of waiting */
  readonly sleep = (ms: number): Promise<void> => {
    this.t += ms;
    return Promise.resolve();
  };
  advance(ms: number): void {
    this.t += ms;
  }
}
