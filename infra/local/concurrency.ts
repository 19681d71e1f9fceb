/**
 * A function's concurrency ceiling, as Lambda enforces it: at most `max` invocations run at once; the
 * request that finds every slot taken is throttled at once (API Gateway answers it 429 with Retry-After)
 * instead of queueing behind the others. The local cloud runs every handler in one process per PCE: without
 * a ceiling, a storm of VENs (a failover moving 1,000 of them) queues thousands of DynamoDB requests in
 * that process, every one of them answered after the VEN gave up, and the VENs' retries keep the queue full
 * (a retry livelock). With it, what is admitted is answered in time and the rest backs off.
 * AWS: the account's regional Lambda concurrency (or a function's reserved concurrency) and API Gateway's
 * throttles play this part; see docs/gslb.md (failover at scale).
 */
export const DEFAULT_LOCAL_MAX_CONCURRENCY = 64;

/** Seconds a throttled client is told to wait (Retry-After): short, the ceiling frees slots in milliseconds. */
export const THROTTLE_RETRY_AFTER_SECONDS = 1;

export class ConcurrencyLimit {
  private running = 0;
  private throttledCount = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a concurrency ceiling is a positive integer, got ${max}`);
  }

  /** A slot (call the returned release once the invocation ends), or null: throttled. */
  tryAcquire(): (() => void) | null {
    if (this.running >= this.max) {
      this.throttledCount++;
      return null;
    }
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
    };
  }

  get inFlight(): number {
    return this.running;
  }

  /** invocations refused so far */
  get throttled(): number {
    return this.throttledCount;
  }
}

/** API Gateway's throttled answer, with the Retry-After a well-behaved client honours. */
export const THROTTLED_BODY = JSON.stringify([{ token: 'too_many_requests', message: `this PCE's API is at its concurrency ceiling: retry after ${THROTTLE_RETRY_AFTER_SECONDS} s` }]);
