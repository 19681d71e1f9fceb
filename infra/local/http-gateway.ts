/**
 * The local stand-in for API Gateway HTTP API: a real HTTP server that turns each request into an
 * APIGatewayProxyEventV2 (payload format 2.0) for the same Lambda handler, and its result back into HTTP.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { isHealthCheckPath } from '../../shared/api/route-sets.ts';
import { THROTTLE_RETRY_AFTER_SECONDS, THROTTLED_BODY, type ConcurrencyLimit } from './concurrency.ts';
import { lambdaContext } from './lambda-context.ts';

export type HttpLambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Lambda's synchronous payload limit: API Gateway answers 413 to a larger request body. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** After a 413, how long what the client still sends is discarded before the connection closes. */
export const LINGER_MS = 2_000;

/** The request body is over MAX_BODY_BYTES (declared or as it arrives). */
class RequestTooLargeError extends Error {
  override readonly name = 'RequestTooLargeError';
}

function declaresTooLarge(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES;
}

/**
 * 413 with an Illumio-style body, sent as soon as the body is known to be too large; the body is never
 * stored or handed on. The connection then closes, but like nginx's lingering close it first discards
 * what the client is still sending (for LINGER_MS at most, or until the request ends): closing a socket
 * with unread data resets it, and a client still uploading would lose the 413 it has not read yet.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  const body = Buffer.from(JSON.stringify([{ token: 'request_too_large', message: `the request body is larger than the ${MAX_BODY_BYTES} bytes (6 MB) a request may carry` }]));
  res.writeHead(413, { 'content-type': 'application/json', 'content-length': body.length, connection: 'close' });
  res.write(body); // the complete answer (content-length), flushed now; end() below closes the connection
  const close = () => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(close, LINGER_MS);
  req.removeAllListeners('data');
  req.on('data', () => undefined);
  req.once('end', close);
  req.once('error', close);
  req.resume();
}

export function toApiGatewayEvent(req: IncomingMessage, body: Buffer, domainName: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...String(value).split(/;\s*/));
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const method = (req.method ?? 'GET').toUpperCase();
  const now = Date.now();
  const textual = /json|text|xml|x-www-form-urlencoded/i.test(headers['content-type'] ?? 'application/json');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: cookies.length > 0 ? cookies : undefined,
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: body.length > 0 ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !textual,
  };
}

/** The whole body, or RequestTooLargeError as soon as it is known to be too large (nothing more is buffered). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  if (declaresTooLarge(req)) return Promise.reject(new RequestTooLargeError(`content-length ${req.headers['content-length']}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        reject(new RequestTooLargeError(`more than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | number | boolean | string[]> = { ...(result.headers ?? {}) };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  res.writeHead(result.statusCode ?? 200, { ...headers, 'content-length': body.length });
  res.end(body);
}

export interface HttpGateway {
  readonly url: string;
  close(): Promise<void>;
}

/** 429 with Retry-After: the function is at its concurrency ceiling (nothing was run, the body is discarded). */
function throttle(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  send(res, { statusCode: 429, headers: { 'content-type': 'application/json', 'retry-after': String(THROTTLE_RETRY_AFTER_SECONDS) }, body: THROTTLED_BODY });
}

/**
 * Serves `handler` on host:port, as API Gateway would for `domainName`; with `concurrency`, an invocation
 * beyond the function's ceiling is throttled (429, Retry-After) as Lambda throttles it, health checks excepted.
 */
export async function startHttpGateway(options: { host: string; port: number; domainName: string; functionName: string; handler: HttpLambdaHandler; timeoutMs?: number; concurrency?: ConcurrencyLimit }): Promise<HttpGateway> {
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // the health-check routes Route 53 calls have routes and throttles of their own in AWS (shared/api/route-sets.ts),
    // so a flood of other requests cannot fail the checks and trigger a failover: here they bypass the ceiling
    const release = !options.concurrency || isHealthCheckPath(path) ? () => undefined : options.concurrency.tryAcquire();
    if (!release) return throttle(req, res);
    readBody(req)
      .then(async (body) => {
        const result = await options.handler(toApiGatewayEvent(req, body, options.domainName), lambdaContext(options.functionName, 'local', options.timeoutMs ?? 29_000));
        send(res, result);
      })
      .finally(release)
      .catch((err: unknown) => {
        if (err instanceof RequestTooLargeError) {
          if (!res.headersSent) refuseTooLarge(req, res);
          return;
        }
        // what API Gateway answers when the integration fails
        if (!res.headersSent) send(res, { statusCode: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'Internal Server Error' }) });
        console.error(`[${options.functionName}] integration error:`, err instanceof Error ? err.message : err);
      });
  };
  const server: Server = createServer(serve);
  // `Expect: 100-continue` (curl sends it for large bodies): a body declared too large is refused before it is sent
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaresTooLarge(req)) return refuseTooLarge(req, res);
    res.writeContinue();
    serve(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port; // port 0: the one the OS picked
  return {
    url: `http://${options.host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
