/**
 * Pushes to VEN channels through API Gateway's WebSocket management API (PostToConnection). The same
 * client works against the local twin (infra/local/ven-channel-server.ts), which serves the same API:
 * only `endpoint` differs (AWS: `https://<api id>.execute-api.<region>.amazonaws.com/<stage>`).
 *
 * A provision posts one push per connected VEN (API Gateway has no broadcast: ~1,000 to 25,000 calls per
 * PCE), so the push itself takes the SDK's lean path: the request is signed with the client's own
 * SigV4 signer inputs (credentials provider, region, hash) and sent through the SDK's NodeHttpHandler
 * on a keep-alive pool, without the command middleware stack (serde schemas, endpoint rules, user-agent,
 * retry strategy per call), which costs ~5x the CPU of the request itself (docs/adr/0009: 1,000 pushes
 * in 700-1,600 ms through PostToConnectionCommand against ~150-250 ms this way, on one core). Closing a
 * connection is rare and keeps the command.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  type ApiGatewayManagementApiClientConfig,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { sleep } from '../../runtime/sleep.ts';
import type { VenPushChannel } from '../../ven/ports.ts';
import type { VenPushV1 } from '../../ven/protocol.ts';

/** Attempts of one push (throttled, 5xx or network): a VEN that does not answer must not hold a publisher worker for long. */
export const PUSH_MAX_ATTEMPTS = 3;
/** Sockets of the push pool: at least the publisher's concurrency (shared/ven/publisher.ts PUBLISH_CONCURRENCY). */
const PUSH_SOCKETS = 128;

/** The management API client of a VEN channel; `endpoint` is the channel's management URL (ENV.venChannelManagementUrl). */
export function venChannelManagementClient(endpoint: string, config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint'> = {}): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ maxAttempts: PUSH_MAX_ATTEMPTS, ...config, endpoint });
}

/** A push the management API refused (not 410), or that found no answer after its attempts. */
export class VenPushError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | null,
  ) {
    super(message);
    this.name = 'VenPushError';
  }
}

async function bodyText(body: unknown): Promise<string> {
  const stream = body as Readable | undefined;
  if (!stream || typeof stream.on !== 'function') return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8').slice(0, 500);
}

const retryable = (status: number) => status === 429 || status >= 500;

export class ApiGatewayVenPushChannel implements VenPushChannel {
  /** a publisher sends one message object to many VENs (all of one rule list): serialised once */
  private readonly serialised = new WeakMap<VenPushV1, Buffer>();
  private readonly endpoint: URL;
  private readonly signer: SignatureV4;
  private readonly http: NodeHttpHandler;

  /** `endpoint`: the management URL the client was made with (venChannelManagementClient). */
  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    endpoint: string,
  ) {
    this.endpoint = new URL(endpoint.endsWith('/') ? endpoint.slice(0, -1) : endpoint);
    const { config } = client;
    this.signer = new SignatureV4({ credentials: config.credentials, region: config.region, service: 'execute-api', sha256: config.sha256, uriEscapePath: true });
    const agent = { keepAlive: true, maxSockets: PUSH_SOCKETS };
    // a connect timeout past the first SYN retransmit (1 s): under a handshake storm the gateway's accept
    // queue can be full for a moment, and a push given up after 1 s waits a heartbeat interval
    this.http = new NodeHttpHandler({ connectionTimeout: 2_500, requestTimeout: 3_000, httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent) });
  }

  async send(connectionId: string, message: VenPushV1): Promise<'sent' | 'gone'> {
    let data = this.serialised.get(message);
    if (!data) {
      data = Buffer.from(JSON.stringify(message));
      this.serialised.set(message, data);
    }
    for (let attempt = 1; ; attempt++) {
      let status: number | null = null;
      let failure: string;
      try {
        const { response } = await this.http.handle(await this.signedPost(connectionId, data));
        status = response.statusCode;
        if (status >= 200 && status < 300) {
          (response.body as Readable | undefined)?.resume?.();
          return 'sent';
        }
        const text = await bodyText(response.body);
        if (status === 410) return 'gone';
        failure = `PostToConnection ${connectionId}: ${status} ${text}`;
        if (!retryable(status) || attempt >= PUSH_MAX_ATTEMPTS) throw new VenPushError(failure, status);
      } catch (err) {
        if (err instanceof VenPushError) throw err;
        failure = `PostToConnection ${connectionId}: ${(err as Error).message}`;
        if (attempt >= PUSH_MAX_ATTEMPTS) throw new VenPushError(failure, status);
      }
      // full jitter over 25 ms, 50 ms
      await sleep(Math.random() * 25 * 2 ** (attempt - 1));
    }
  }

  private signedPost(connectionId: string, data: Buffer): Promise<HttpRequest> {
    const { protocol, hostname, port, pathname } = this.endpoint;
    const request = new HttpRequest({
      method: 'POST',
      protocol,
      hostname,
      ...(port ? { port: Number(port) } : {}),
      path: `${pathname}/@connections/${encodeURIComponent(connectionId)}`,
      headers: { host: port ? `${hostname}:${port}` : hostname, 'content-type': 'application/json', 'content-length': String(data.length) },
      body: data,
    });
    return this.signer.sign(request) as Promise<HttpRequest>;
  }

  /** Closes a connection (e.g. after `unpaired`); a connection that is gone already is fine. */
  async close(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (err) {
      if (!(err instanceof GoneException)) throw err;
    }
  }

  /** Frees the push pool's sockets (tests, the local cloud's shutdown). */
  destroy(): void {
    this.http.destroy();
  }
}
