/**
 * The local stand-in for API Gateway: requests become payload 2.0 events for the handler, and a body
 * over 6 MB gets API Gateway's 413 (Illumio-style body) as soon as that is known, instead of a reset connection.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from '../../../infra/local/concurrency.ts';
import { MAX_BODY_BYTES, startHttpGateway, type HttpGateway } from '../../../infra/local/http-gateway.ts';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** True once `answer` holds a whole response (its head and content-length bytes of body). */
function complete(answer: string): boolean {
  const end = answer.indexOf('\r\n\r\n');
  const length = /\r\ncontent-length: *(\d+)/i.exec(answer.slice(0, end));
  return end >= 0 && length !== null && answer.length - end - 4 >= Number(length[1]);
}

/** Sends raw bytes (`write` may keep writing) and collects the answer until it is complete or the server closes. */
function rawRequest(url: string, write: (socket: ReturnType<typeof connect>, answered: () => boolean) => void): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (!complete(answer)) return;
      resolve(answer);
      socket.destroy();
    });
    // the server may close while bytes are still in flight (EPIPE/ECONNRESET): the answer counts
    socket.on('error', (err) => (answer ? resolve(answer) : reject(err)));
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => write(socket, () => answer.length > 0));
  });
}

function parse(answer: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('local HTTP gateway', () => {
  let gateway: HttpGateway;
  const seen: APIGatewayProxyEventV2[] = [];

  beforeAll(async () => {
    gateway = await startHttpGateway({
      host: '127.0.0.1',
      port: 0,
      domainName: 'pce-us.test',
      functionName: 'api',
      handler: async (event) => {
        seen.push(event);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: event.rawPath, bytes: event.body?.length ?? 0 }) };
      },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('hands a request to the handler as a payload 2.0 event, up to a body of exactly 6 MB', async () => {
    const body = 'x'.repeat(MAX_BODY_BYTES);
    const res = await fetch(`${gateway.url}/api/v2/orgs/1/labels?key=role`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: '/api/v2/orgs/1/labels', bytes: MAX_BODY_BYTES });
    expect(seen.at(-1)).toMatchObject({ version: '2.0', rawQueryString: 'key=role', requestContext: { domainName: 'pce-us.test', http: { method: 'POST' } } });
  });

  it('answers 413 [{token: request_too_large}] to a declared Content-Length over 6 MB, before any body is sent', async () => {
    const before = seen.length;
    const answer = await rawRequest(gateway.url, (socket) => {
      // headers only: the answer comes without the gateway waiting for the body
      socket.write(`PUT /api/v2/orgs/1/workloads/bulk_create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`);
    });
    const res = parse(answer);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toEqual([{ token: 'request_too_large', message: expect.stringContaining(String(MAX_BODY_BYTES)) }]);
    expect(seen.length).toBe(before);
  });

  it('refuses an oversized `Expect: 100-continue` request (curl) with 413 instead of 100 Continue', async () => {
    const answer = await rawRequest(gateway.url, (socket) => {
      socket.write(`POST /api/v2/orgs/1/labels HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${MAX_BODY_BYTES + 10}\r\n\r\n`);
    });
    expect(answer.startsWith('HTTP/1.1 413 ')).toBe(true);
    expect(answer).not.toContain('100 Continue');
  });

  it('a client uploading more than 6 MB reads the 413 (no connection reset mid-upload)', async () => {
    const before = seen.length;
    const res = await fetch(`${gateway.url}/api/v2/orgs/1/workloads/bulk_create`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: 'z'.repeat(MAX_BODY_BYTES + 1) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual([{ token: 'request_too_large', message: expect.any(String) }]);
    expect(seen.length).toBe(before);
  });

  it('answers 413 to a chunked body once it passes 6 MB, without waiting for the rest', async () => {
    const before = seen.length;
    const chunk = Buffer.alloc(256 * 1024, 'y');
    let sent = 0;
    const answer = await rawRequest(gateway.url, (socket, answered) => {
      socket.write('POST /api/v2/orgs/1/labels HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const pump = () => {
        // keep sending (up to 3x the limit) until the gateway answers
        while (!answered() && !socket.destroyed && sent < 3 * MAX_BODY_BYTES) {
          sent += chunk.length;
          if (!socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]))) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const res = parse(answer);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual([{ token: 'request_too_large', message: expect.any(String) }]);
    expect(sent).toBeGreaterThan(MAX_BODY_BYTES);
    expect(sent).toBeLessThan(3 * MAX_BODY_BYTES);
    expect(seen.length).toBe(before);
  });

  it('keeps serving after refusing oversized bodies', async () => {
    const res = await fetch(`${gateway.url}/api/v2/health`);
    expect(res.status).toBe(200);
  });
});

describe('local HTTP gateway at its concurrency ceiling (as Lambda throttles a function)', () => {
  let gateway: HttpGateway;
  const limit = new ConcurrencyLimit(2);
  const waiting: (() => void)[] = [];
  let invoked = 0;

  beforeAll(async () => {
    gateway = await startHttpGateway({
      host: '127.0.0.1',
      port: 0,
      domainName: 'pce-us.test',
      functionName: 'api',
      concurrency: limit,
      handler: async (event) => {
        invoked++;
        // requests to /hold stay in the handler until the test lets them go
        if (event.rawPath === '/hold') await new Promise<void>((resolve) => waiting.push(resolve));
        return { statusCode: 200, body: '{}' };
      },
    });
  });

  afterAll(async () => {
    for (const release of waiting) release();
    await gateway?.close();
  });

  it('answers 429 too_many_requests with Retry-After beyond the ceiling without invoking the handler, serves health checks anyway, and admits again once a slot frees', async () => {
    const held = [fetch(`${gateway.url}/hold`), fetch(`${gateway.url}/hold`)];
    await expect.poll(() => limit.inFlight).toBe(2);
    const before = invoked;
    const throttled = await fetch(`${gateway.url}/api/v2/orgs/1/labels`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(await throttled.json()).toEqual([{ token: 'too_many_requests', message: expect.stringContaining('concurrency ceiling') }]);
    expect(invoked).toBe(before);
    expect(limit.throttled).toBe(1);
    // Route 53's checks have their own route and throttle: a saturated API does not fail them
    for (const path of ['/api/v2/node_available', '/api/v2/health', '/api/v2/supercluster/leader', '/api/v2/gslb/switches/pce-eu.test']) expect((await fetch(`${gateway.url}${path}`)).status, path).toBe(200);
    for (const release of waiting.splice(0)) release();
    for (const answer of await Promise.all(held)) expect(answer.status).toBe(200);
    await expect.poll(() => limit.inFlight).toBe(0);
    expect((await fetch(`${gateway.url}/api/v2/orgs/1/labels`)).status).toBe(200);
  });
});
