/**
 * The local stand-in for one PCE's API Gateway WebSocket API (the VEN push channel): a real WebSocket
 * server (`ws`) that holds the VENs' connections and turns their lifecycle into the events API Gateway
 * gives the same Lambda handler (lambdas/ven-channel.ts):
 *   upgrade request          -> `$connect` (headers as sent; a non-2xx result refuses the upgrade with that status)
 *   message from the VEN     -> `$default` (route selection `$request.body.action` finds no other route)
 *   close (either side)      -> `$disconnect` (disconnectStatusCode, disconnectReason)
 * and it serves API Gateway's management API on the same port, so the unmodified
 * ApiGatewayManagementApiClient works with `endpoint` = `managementUrl`:
 *   POST   /@connections/{id}   body = the message (sent as a text frame); 410 GoneException when unknown
 *   GET    /@connections/{id}   {connectedAt, identity: {sourceIp, userAgent}, lastActiveAt}
 *   DELETE /@connections/{id}   closes it (204)
 * (with or without the `/<stage>` prefix API Gateway puts in front). API Gateway's limits apply: 10 minutes
 * without a message from the VEN closes the connection (code 1001, "Going away"), so does 2 hours of
 * connection, and a message over 128 KB (1009).
 *
 * Thousands of VENs per PCE: no per-connection timers (one sweep checks the limits), no compression
 * (API Gateway has none), keep-alive on the management API (a provision posts ~1,000 pushes per PCE).
 * close() stops at once: the connections are dropped without `$disconnect` events (the gateway itself
 * is gone; the stored connections are replaced when the VENs reconnect, or forgotten at their first
 * 'gone' push).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayEventWebsocketRequestContextV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { VEN_CHANNEL_LIMITS, VEN_CHANNEL_STAGE } from '../../shared/ven/channel-service.ts';
import { THROTTLE_RETRY_AFTER_SECONDS, THROTTLED_BODY, type ConcurrencyLimit } from './concurrency.ts';
import { lambdaContext } from './lambda-context.ts';

/** The WebSocket event as API Gateway sends it (APIGatewayProxyWebsocketEventV2, plus `$connect`'s headers). */
export interface WebSocketLambdaEvent {
  readonly requestContext: Omit<APIGatewayEventWebsocketRequestContextV2, 'messageId'> & {
    readonly messageId?: string;
    readonly identity: { readonly sourceIp: string; readonly userAgent?: string };
    readonly disconnectStatusCode?: number;
    readonly disconnectReason?: string;
  };
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly queryStringParameters?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

export type WebSocketLambdaHandler = (event: WebSocketLambdaEvent, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface VenChannelServerOptions {
  readonly host: string;
  /** 0: any free port */
  readonly port: number;
  /** requestContext.domainName (in AWS the API's execute-api host or its custom domain) */
  readonly domainName: string;
  readonly functionName: string;
  readonly region: string;
  readonly handler: WebSocketLambdaHandler;
  /** @default VEN_CHANNEL_STAGE */
  readonly stage?: string;
  /** API Gateway's limits; tests shorten them. @default VEN_CHANNEL_LIMITS */
  readonly limits?: Partial<Pick<typeof VEN_CHANNEL_LIMITS, 'idleTimeoutSeconds' | 'maxConnectionSeconds' | 'maxMessageBytes'>>;
  /** for the integration errors (a handler that threw) @default console.error */
  readonly onError?: (message: string, error: unknown) => void;
  /** the function's concurrency ceiling: a handshake whose $connect finds it full is refused 429 (Retry-After) */
  readonly concurrency?: ConcurrencyLimit;
}

export interface VenChannelServer {
  /** where VENs connect: ws://host:port/<stage> (ENV.venChannelUrl) */
  readonly url: string;
  /** the management API endpoint: http://host:port/<stage> (ENV.venChannelManagementUrl) */
  readonly managementUrl: string;
  /** open connections */
  readonly size: number;
  close(): Promise<void>;
}

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
}

/** API Gateway's connection ids: 16 characters ending in `=` (e.g. `L0SM9cOFvHcCIhw=`). */
function newConnectionId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');
/** requestContext.requestTime: `09/Feb/2021:07:04:06 +0000`. */
function requestTime(at: number): string {
  const d = new Date(at);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Headers in the case the client sent them (API Gateway keeps it), single- and multi-valued. */
function headersOf(req: IncomingMessage): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    (multiValueHeaders[name] ??= []).push(req.rawHeaders[i + 1] ?? '');
  }
  const headers = Object.fromEntries(Object.entries(multiValueHeaders).map(([name, values]) => [name, values.join(',')]));
  return { headers, multiValueHeaders };
}

/** The path without the `/<stage>` prefix (API Gateway puts it in front; the local twin also takes paths without it). */
function stagePath(rawUrl: string | undefined, stage: string): { path: string; query: URLSearchParams } {
  const url = new URL(rawUrl ?? '/', 'http://local');
  const prefix = `/${stage}`;
  const path = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) || '/' : url.pathname;
  return { path, query: url.searchParams };
}

function statusOf(result: APIGatewayProxyResultV2): { status: number; body: string; headers: Record<string, string> } {
  if (typeof result === 'string') return { status: 200, body: result, headers: {} };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  return { status: result.statusCode ?? 200, body: result.body ?? '', headers };
}

/** Answers an upgrade request with a plain HTTP response and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const payload = Buffer.from(body);
  const lines = [`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 429 ? 'Too Many Requests' : status >= 500 ? 'Internal Server Error' : 'Refused'}`, 'Connection: close', `Content-Length: ${payload.length}`];
  for (const [name, value] of Object.entries(headers)) if (!/^(connection|content-length)$/i.test(name)) lines.push(`${name}: ${value}`);
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]));
}

/** API Gateway's management API error: the SDK reads the error type from `x-amzn-ErrorType`. */
function managementError(res: ServerResponse, status: number, type: string, message: string | null): void {
  const body = JSON.stringify({ message });
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startVenChannelServer(options: VenChannelServerOptions): Promise<VenChannelServer> {
  const stage = options.stage ?? VEN_CHANNEL_STAGE;
  const limits = { ...VEN_CHANNEL_LIMITS, ...options.limits };
  const onError = options.onError ?? ((message: string, error: unknown) => console.error(`[${options.functionName}] ${message}:`, error instanceof Error ? error.message : error));
  const connections = new Map<string, Connection>();
  // connectedAt orders an agent's connections (the newest opened is its channel): a burst of handshakes
  // taken from the accept queue in one millisecond must not tie, so it is strictly increasing here
  let lastOpenedAt = 0;
  const openedAt = () => (lastOpenedAt = Math.max(Date.now(), lastOpenedAt + 1));
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;

  const context = () => lambdaContext(options.functionName, options.region, 29_000);
  const baseContext = (routeKey: string, eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT', c: { id: string; connectedAt: number; sourceIp: string; userAgent: string }) => {
    const now = Date.now();
    return {
      routeKey,
      eventType,
      extendedRequestId: randomBytes(8).toString('base64url'),
      requestTime: requestTime(now),
      messageDirection: 'IN' as const,
      stage,
      connectedAt: c.connectedAt,
      requestTimeEpoch: now,
      identity: { sourceIp: c.sourceIp, userAgent: c.userAgent },
      requestId: randomUUID(),
      domainName: options.domainName,
      connectionId: c.id,
      apiId: 'local',
    };
  };
  const disconnectEvent = (c: { id: string; connectedAt: number; sourceIp: string; userAgent: string }, code: number, reason: string): WebSocketLambdaEvent => ({
    requestContext: { ...baseContext('$disconnect', 'DISCONNECT', c), disconnectStatusCode: code, disconnectReason: reason },
    headers: { Host: options.domainName },
    isBase64Encoded: false,
  });
  /** Runs the handler; tracked so close() can let running invocations finish. */
  const invoke = (event: WebSocketLambdaEvent): Promise<APIGatewayProxyResultV2> => {
    const run = options.handler(event, context());
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run)).catch(() => undefined);
    return run;
  };

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: limits.maxMessageBytes, clientTracking: false });

  const accept = (connection: Omit<Connection, 'socket' | 'lastActiveAt'>, socket: WebSocket) => {
    const c: Connection = { ...connection, socket, lastActiveAt: Date.now() };
    connections.set(c.id, c);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      c.lastActiveAt = Date.now();
      const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const event: WebSocketLambdaEvent = {
        requestContext: { ...baseContext('$default', 'MESSAGE', c), messageId: randomBytes(8).toString('base64url') },
        body: isBinary ? buffer.toString('base64') : buffer.toString('utf8'),
        isBase64Encoded: isBinary,
      };
      invoke(event).catch((err: unknown) => onError('$default integration error', err));
    });
    socket.on('error', () => undefined); // a close follows
    socket.on('close', (code: number, reason: Buffer) => {
      connections.delete(c.id);
      if (closing) return;
      invoke(disconnectEvent(c, code, reason.toString('utf8') || (code === 1005 ? 'Client-side close frame status not set' : ''))).catch((err: unknown) => onError('$disconnect integration error', err));
    });
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const target = stagePath(req.url, stage);
    if (closing || target.path !== '/') return refuseUpgrade(socket, 403, JSON.stringify({ message: 'Forbidden' }));
    const release = options.concurrency ? options.concurrency.tryAcquire() : () => undefined;
    if (!release) return refuseUpgrade(socket, 429, THROTTLED_BODY, { 'Retry-After': String(THROTTLE_RETRY_AFTER_SECONDS) });
    const { headers, multiValueHeaders } = headersOf(req);
    const connection = { id: newConnectionId(), connectedAt: openedAt(), sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' };
    const query = Object.fromEntries(target.query);
    const event: WebSocketLambdaEvent = {
      requestContext: baseContext('$connect', 'CONNECT', connection),
      headers,
      multiValueHeaders,
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      isBase64Encoded: false,
    };
    invoke(event)
      .finally(release)
      .then((result) => {
        const { status, body, headers: resultHeaders } = statusOf(result);
        if (status < 200 || status > 299) return refuseUpgrade(socket, status, body, resultHeaders);
        // the VEN left while $connect ran (a handshake it gave up on): API Gateway tells the handler the
        // connection is gone. ws also drops a socket it can no longer upgrade (half-closed by the VEN)
        // without calling back, so the socket's own close is what tells: without that $disconnect the
        // stored connection would outlive it.
        let accepted = false;
        const gone = () => {
          if (!accepted && !closing) invoke(disconnectEvent(connection, 1006, 'Connection closed before the handshake completed')).catch((err: unknown) => onError('$disconnect integration error', err));
        };
        if (closing || socket.destroyed) {
          socket.destroy();
          return gone();
        }
        socket.once('close', gone);
        wss.handleUpgrade(req, socket, head, (ws) => {
          accepted = true;
          socket.off('close', gone);
          accept(connection, ws);
        });
      })
      .catch((err: unknown) => {
        onError('$connect integration error', err);
        refuseUpgrade(socket, 500, JSON.stringify({ message: 'Internal server error' }));
      });
  };

  const manage = (req: IncomingMessage, res: ServerResponse) => {
    const target = stagePath(req.url, stage);
    const match = /^\/@connections\/([^/]+)$/.exec(target.path);
    if (!match?.[1]) return managementError(res, 404, 'NotFoundException', 'Not Found');
    const id = decodeURIComponent(match[1]);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limits.maxMessageBytes) chunks.push(chunk);
    });
    req.on('end', () => {
      const connection = connections.get(id);
      if (req.method === 'POST') {
        if (size > limits.maxMessageBytes) return managementError(res, 413, 'PayloadTooLargeException', `Message too long: ${size} bytes (at most ${limits.maxMessageBytes})`);
        if (!connection || connection.socket.readyState !== WebSocket.OPEN) return managementError(res, 410, 'GoneException', null);
        connection.socket.send(Buffer.concat(chunks), { binary: false });
        res.writeHead(200, { 'content-length': 0 });
        return res.end();
      }
      if (!connection) return managementError(res, 410, 'GoneException', null);
      if (req.method === 'GET') {
        const body = JSON.stringify({
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        return res.end(body);
      }
      if (req.method === 'DELETE') {
        connection.socket.close(1000, 'Connection deleted');
        res.writeHead(204);
        return res.end();
      }
      managementError(res, 405, 'MethodNotAllowedException', `${req.method ?? ''} is not allowed`);
    });
    req.on('error', () => res.destroy());
  };

  const server: Server = createServer(manage);
  server.on('upgrade', upgrade);
  // the management API's client keeps its sockets open between pushes
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;

  // API Gateway's limits, checked by one sweep instead of two timers per connection
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const c of connections.values()) {
        if (now - c.connectedAt >= limits.maxConnectionSeconds * 1000 || now - c.lastActiveAt >= limits.idleTimeoutSeconds * 1000) c.socket.close(1001, 'Going away');
      }
    },
    Math.max(50, Math.min(1_000, (limits.idleTimeoutSeconds * 1000) / 10)),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // node's default accept queue (511): a longer one let thousands of handshakes into $connect at once
    // under a pairing storm, which then outran DynamoDB Local (handshakes timed out and were retried: a
    // livelock); refused connections are retried by the VENs and pushes by the management client
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    url: `ws://${options.host}:${port}/${stage}`,
    managementUrl: `http://${options.host}:${port}/${stage}`,
    get size() {
      return connections.size;
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(sweep);
      for (const c of connections.values()) c.socket.terminate();
      connections.clear();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // let running invocations finish, briefly: Ctrl-C must stay prompt
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      await stopped;
    },
  };
}
