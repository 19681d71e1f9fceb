/**
 * A small JSON-over-HTTP client on node:http with a keep-alive agent: thousands of simulated VENs share a
 * bounded pool of connections per PCE (a real VEN has its own; one process holding 15,000 of them, plus
 * their channels, would go past the fd limit for nothing the PCE can tell apart).
 */
import { Agent, request } from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** Network-level failure (no HTTP answer): refused, reset, timed out. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo', timeout: 60_000 });
}

/**
 * One request. A reset on a reused keep-alive socket (the server closed it as it was handed out) is retried
 * once at once: the request never reached the server.
 */
export async function httpJson(agent: Agent, url: string, method: string, headers: Record<string, string>, body: unknown, timeoutMs = 30_000): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(agent, url, method, headers, payload, timeoutMs);
    } catch (err) {
      if (attempt === 0 && err instanceof ReusedSocketReset) continue;
      if (err instanceof ReusedSocketReset) throw new NetworkError(err.message, 'ECONNRESET');
      throw err;
    }
  }
}

class ReusedSocketReset extends Error {}

function once(agent: Agent, url: string, method: string, headers: Record<string, string>, payload: Buffer | undefined, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', (err) => reject(new NetworkError(err.message, (err as NodeJS.ErrnoException).code)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) reject(new ReusedSocketReset(`${method} ${url}: ${err.message}`));
      else reject(new NetworkError(`${method} ${url}: ${err.message}`, err.code));
    });
    req.end(payload);
  });
}

/** The Illumio error token of an answer (`[{token, message}]`), if any. */
export function errorToken(answer: HttpAnswer): string | null {
  try {
    const body = JSON.parse(answer.text) as unknown;
    if (Array.isArray(body) && body.length > 0 && typeof (body[0] as { token?: unknown }).token === 'string') return (body[0] as { token: string }).token;
  } catch {
    // not JSON
  }
  return null;
}
