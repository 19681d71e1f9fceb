/**
 * The API rate limit, as Illumio applies it: per API key and per PCE, a number of requests per minute
 * (the config's `api_rate_limit_per_minute`, default 500). The request over the limit gets 429 with
 * `Retry-After` (seconds until the next window) and is not served.
 *
 * Lambda runs many instances, so the count lives in the PCE's local table (never replicated: each PCE
 * counts the requests it serves), one counter per key and fixed one-minute window, incremented once per
 * request. A counter that cannot be written (throttling, network) lets the request through: the limiter
 * protects the PCE and must never be the reason it answers 5xx.
 */

export const DEFAULT_API_RATE_LIMIT_PER_MINUTE = 500;

const WINDOW_MS = 60_000;

/** How long a window's counter outlives the window before DynamoDB TTL may remove it. */
export const COUNTER_GRACE_SECONDS = 5 * 60;

/** A fixed one-minute window: `[minute * 60 s, (minute + 1) * 60 s)`. */
export interface RateWindow {
  /** epoch minute the window starts at (floor(epoch ms / 60,000)) */
  readonly minute: number;
  /** whole seconds until the next window starts, 1..60 (the `Retry-After` of a 429) */
  readonly secondsLeft: number;
  /** epoch seconds after which the window's counter may be deleted (TTL) */
  readonly expiresAt: number;
}

export function windowAt(nowMs: number): RateWindow {
  const minute = Math.floor(nowMs / WINDOW_MS);
  const endMs = (minute + 1) * WINDOW_MS;
  return { minute, secondsLeft: Math.max(1, Math.ceil((endMs - nowMs) / 1000)), expiresAt: endMs / 1000 + COUNTER_GRACE_SECONDS };
}

/** The port: one counter per key and window. */
export interface RequestCounterStore {
  /** Adds one request to `key`'s counter of `window` (creating it, with the window's TTL) and returns the new count. */
  increment(key: string, window: RateWindow): Promise<number>;
}

export type RateDecision =
  | { readonly kind: 'allowed'; readonly count: number; readonly limit: number }
  | { readonly kind: 'limited'; readonly count: number; readonly limit: number; readonly retryAfterSeconds: number }
  /** the counter could not be written: let the request through (fail open) */
  | { readonly kind: 'unmetered'; readonly error: unknown };

/** The decision for the `count`-th request of a window: the first `limit` pass. */
export function decide(count: number, limit: number, window: RateWindow): RateDecision {
  return count <= limit ? { kind: 'allowed', count, limit } : { kind: 'limited', count, limit, retryAfterSeconds: window.secondsLeft };
}

export interface RateLimiterDeps {
  readonly counter: RequestCounterStore;
  readonly limitPerMinute: number;
  readonly now?: () => number;
}

export class RateLimiter {
  readonly limitPerMinute: number;
  private readonly counter: RequestCounterStore;
  private readonly now: () => number;

  constructor(deps: RateLimiterDeps) {
    if (!Number.isInteger(deps.limitPerMinute) || deps.limitPerMinute < 1) throw new RangeError(`limitPerMinute must be a positive integer, got ${deps.limitPerMinute}`);
    this.counter = deps.counter;
    this.limitPerMinute = deps.limitPerMinute;
    this.now = deps.now ?? Date.now;
  }

  /** Counts one request of `key` (an API key's auth_username) and decides; never throws. */
  async check(key: string): Promise<RateDecision> {
    const window = windowAt(this.now());
    let count: number;
    try {
      count = await this.counter.increment(key, window);
    } catch (error) {
      return { kind: 'unmetered', error };
    }
    return decide(count, this.limitPerMinute, window);
  }
}
