/** A tiny Illumio-style API client for benchmarks and scripts (Basic auth, JSON). */
export interface ApiKey {
  readonly username: string;
  readonly secret: string;
}

export class ApiClientError extends Error {
  override readonly name = 'ApiClientError';
}

export class ApiClient {
  private readonly auth: string;

  constructor(
    readonly baseUrl: string,
    key: ApiKey,
  ) {
    this.auth = `Basic ${Buffer.from(`${key.username}:${key.secret}`).toString('base64')}`;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, expect: number[] = [200, 201, 202, 204]): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await fetch(`${this.baseUrl}/api/v2${path}`, {
      method,
      headers: { authorization: this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!expect.includes(res.status)) throw new ApiClientError(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  }
}
