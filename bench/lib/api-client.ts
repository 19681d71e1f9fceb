/** A tiny Illumio-style API client for benchmarks and scripts (Basic auth, JSON). */
import { retryBackoffMs } from './ven-sim-args.ts';

export interface ApiKey {
  readonly username: string;
  readonly secret: string;
}

export class ApiClientError extends Error {
  override readonly name = 'ApiClientError';
}

/** How often a throttled (429) request is sent again before the caller sees the 429. */
const THROTTLE_RETRIES = 20;

export class ApiClient {
  private readonly auth: string;

  constructor(
    readonly baseUrl: string,
    key: ApiKey,
  ) {
    this.auth = `Basic ${Buffer.from(`${key.username}:${key.secret}`).toString('base64')}`;
  }

  /**
   * One request; a 429 (the per-key rate limit, or the PCE's API at its concurrency ceiling: nothing was done)
   * is sent again after its Retry-After, as Illumio's clients do, up to THROTTLE_RETRIES times.
   */
  async call<T = unknown>(method: string, path: string, body?: unknown, expect: number[] = [200, 201, 202, 204]): Promise<{ status: number; body: T; headers: Headers }> {
    let res: Response;
    let text: string;
    for (let attempt = 0; ; attempt++) {
      res = await fetch(`${this.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      text = await res.text();
      if (res.status !== 429 || attempt >= THROTTLE_RETRIES) break;
      await new Promise((resolve) => setTimeout(resolve, retryBackoffMs(attempt, res.headers.get('retry-after') ?? '1', Math.random, 2_000)));
    }
    if (!expect.includes(res.status)) throw new ApiClientError(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  }
}
