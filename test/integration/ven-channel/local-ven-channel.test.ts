/**
 * The VEN push channel on the local cloud: DynamoDB Local, the local WebSocket twin of API Gateway
 * (infra/local/ven-channel-server.ts) in front of the unmodified channel handler, real `ws` clients with
 * agent tokens stored through DynamoDbAgentCredentialStore, and pushes through ApiGatewayVenPushChannel
 * (the SDK's ApiGatewayManagementApiClient) against the twin's management API.
 */
import { connect as tcpConnect } from 'node:net';
import { GetConnectionCommand, type ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LOCAL_CREDENTIALS } from '../../../infra/local/clients.ts';
import { ConcurrencyLimit } from '../../../infra/local/concurrency.ts';
import { startVenChannelServer, type VenChannelServer, type WebSocketLambdaEvent } from '../../../infra/local/ven-channel-server.ts';
import { createVenChannelHandler } from '../../../lambdas/ven-channel/handler.ts';
import { DynamoDbAgentCredentialStore } from '../../../shared/storage/dynamodb/agent-credentials.ts';
import { DynamoDbListenOnlyStore } from '../../../shared/storage/dynamodb/listen-only.ts';
import { DynamoDbVenConnectionStore } from '../../../shared/storage/dynamodb/ven-connections.ts';
import { localTableName } from '../../../shared/storage/tables.ts';
import { ApiGatewayVenPushChannel, venChannelManagementClient } from '../../../shared/storage/ws/ven-push-channel.ts';
import { generateAgentToken, VenAuthenticator } from '../../../shared/ven/auth.ts';
import { VEN_CHANNEL_STAGE, VenChannelService } from '../../../shared/ven/channel-service.ts';
import type { VenPushV1 } from '../../../shared/ven/protocol.ts';
import { VenPolicyPublisher } from '../../../shared/ven/publisher.ts';
import { compiledPolicy } from '../../helpers/ven-channel-fakes.ts';
import { eventually, sleep, startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('venchan');
const REGION = 'us-east-1';
const silent = { debug: () => undefined, info: () => undefined };

type Opened = { ws: WebSocket; messages: VenPushV1[]; closed: Promise<number> };
type Refused = { status: number; body: string };

/** Opens a VEN channel: the open socket (collecting what it receives), or the refusal of the upgrade. */
function open(url: string, token?: string): Promise<Opened | Refused> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
    const messages: VenPushV1[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as VenPushV1));
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

function opened(result: Opened | Refused): Opened {
  if (!('ws' in result)) throw new Error(`the channel refused the VEN: ${result.status} ${result.body}`);
  return result;
}

describe('VEN push channel on the local cloud', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let server: VenChannelServer;
  let connections: DynamoDbVenConnectionStore;
  let management: ApiGatewayManagementApiClient;
  let push: ApiGatewayVenPushChannel;
  const events: WebSocketLambdaEvent[] = [];
  const tokens = new Map<string, string>();

  const agentId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  /** The channel's handler over this suite's stores, behind a local twin; `wrap` sees every event. */
  const startTwin = (wrap: (event: WebSocketLambdaEvent, handle: (e: WebSocketLambdaEvent) => ReturnType<ReturnType<typeof createVenChannelHandler>>) => ReturnType<ReturnType<typeof createVenChannelHandler>>, limits?: { idleTimeoutSeconds: number }) => {
    const credentials = new DynamoDbAgentCredentialStore(storage.client, storage.table, REGION);
    const handler = createVenChannelHandler({ channel: new VenChannelService({ authenticator: new VenAuthenticator(credentials), connections }), logger: silent });
    return startVenChannelServer({ host: '127.0.0.1', port: 0, domainName: 'pce-us.sc.example.com', functionName: 'ven-channel', region: REGION, handler: (event) => wrap(event, handler), ...(limits ? { limits } : {}) });
  };

  beforeAll(async () => {
    storage = await startLeaderStorage(config, REGION);
    const credentials = new DynamoDbAgentCredentialStore(storage.client, storage.table, REGION);
    for (let n = 1; n <= 150; n++) {
      const { token, tokenHash } = generateAgentToken(agentId(n));
      await credentials.put({ agentId: agentId(n), orgId: 1, workloadId: `w${n}`, tokenHash, originRegion: REGION, createdAt: Date.now() });
      tokens.set(agentId(n), token);
    }
    connections = new DynamoDbVenConnectionStore(storage.client, localTableName(config, REGION));
    const handler = createVenChannelHandler({ channel: new VenChannelService({ authenticator: new VenAuthenticator(credentials), connections }), logger: silent });
    server = await startVenChannelServer({
      host: '127.0.0.1',
      port: 0,
      domainName: 'pce-us.sc.example.com',
      functionName: 'ven-channel',
      region: REGION,
      handler: async (event) => {
        events.push(event);
        return handler(event);
      },
    });
    management = venChannelManagementClient(server.managementUrl, { region: REGION, credentials: LOCAL_CREDENTIALS });
    push = new ApiGatewayVenPushChannel(management, server.managementUrl);
  });

  afterAll(async () => {
    management?.destroy();
    push?.destroy();
    await server?.close();
    await storage?.stop();
  });

  it('serves the channel on <host>:<port>/<stage>, and its management API beside it', () => {
    expect(server.url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/${VEN_CHANNEL_STAGE}$`));
    expect(server.managementUrl).toBe(server.url.replace(/^ws:/, 'http:'));
  });

  it('refuses the upgrade with 401 without a VEN token and with a token this PCE does not know', async () => {
    const without = await open(server.url);
    expect(without).toMatchObject({ status: 401 });
    expect(JSON.parse((without as Refused).body)).toEqual([expect.objectContaining({ token: 'ven_token_required' })]);
    const unknown = await open(server.url, generateAgentToken('99999999-0000-4000-8000-000000000000').token);
    expect(JSON.parse((unknown as Refused).body)).toEqual([expect.objectContaining({ token: 'ven_unknown' })]);
    const wrongSecret = (tokens.get(agentId(1)) ?? '').replace(/.$/, (last) => (last === '0' ? '1' : '0'));
    expect(await open(server.url, wrongSecret)).toMatchObject({ status: 401 });
    expect(server.size).toBe(0);
  });

  it("gives the handler API Gateway's $connect event, stores the connection, and delivers a push sent through the management API", async () => {
    const ven = opened(await open(server.url, tokens.get(agentId(1))));
    const connect = events.findLast((e) => e.requestContext.routeKey === '$connect');
    expect(connect).toMatchObject({
      requestContext: { routeKey: '$connect', eventType: 'CONNECT', domainName: 'pce-us.sc.example.com', stage: VEN_CHANNEL_STAGE, apiId: expect.any(String), messageDirection: 'IN', connectionId: expect.stringMatching(/^[\w-]{15}=$/) },
      headers: expect.objectContaining({ Authorization: `Bearer ${tokens.get(agentId(1))}` }),
      isBase64Encoded: false,
    });
    const stored = await connections.byAgent(agentId(1));
    expect(stored).toMatchObject({ connectionId: connect?.requestContext.connectionId, orgId: 1, workloadId: 'w1' });

    const message: VenPushV1 = { v: 1, type: 'policy', policy_version: 3, rules_hash: 'a'.repeat(64) };
    expect(await push.send(stored?.connectionId ?? '', message)).toBe('sent');
    await eventually('the push', async () => (ven.messages.length > 0 ? true : undefined));
    expect(ven.messages).toEqual([message]);

    const info = await management.send(new GetConnectionCommand({ ConnectionId: stored?.connectionId }));
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    ven.ws.close();
    await ven.closed;
  });

  it('passes messages to $default and answers nothing, not even to an unknown action', async () => {
    const ven = opened(await open(server.url, tokens.get(agentId(2))));
    ven.ws.send(JSON.stringify({ action: 'ping' }));
    ven.ws.send(JSON.stringify({ action: 'something-newer' }));
    await eventually('two $default events', async () => (events.filter((e) => e.requestContext.routeKey === '$default').length >= 2 ? true : undefined));
    expect(events.filter((e) => e.requestContext.routeKey === '$default').map((e) => e.body)).toEqual(['{"action":"ping"}', '{"action":"something-newer"}']);
    expect(events.findLast((e) => e.requestContext.routeKey === '$default')?.requestContext).toMatchObject({ eventType: 'MESSAGE', messageId: expect.any(String) });
    await sleep(150);
    expect(ven.messages).toEqual([]);
    expect(ven.ws.readyState).toBe(WebSocket.OPEN);
    ven.ws.close();
    await ven.closed;
  });

  it('removes the connection on disconnect; a push to it is then gone', async () => {
    const ven = opened(await open(server.url, tokens.get(agentId(3))));
    const connectionId = (await connections.byAgent(agentId(3)))?.connectionId ?? '';
    ven.ws.close(1000, 'bye');
    await ven.closed;
    await eventually('the connection removed', async () => ((await connections.byAgent(agentId(3))) === null ? true : undefined));
    expect(events.findLast((e) => e.requestContext.routeKey === '$disconnect')?.requestContext).toMatchObject({ eventType: 'DISCONNECT', connectionId, disconnectStatusCode: 1000, disconnectReason: 'bye' });
    expect(await push.send(connectionId, { v: 1, type: 'unpaired' })).toBe('gone');
  });

  it('replaces the connection of a VEN that reconnects, and keeps the new one when the old one closes', async () => {
    const first = opened(await open(server.url, tokens.get(agentId(4))));
    const firstId = (await connections.byAgent(agentId(4)))?.connectionId;
    const second = opened(await open(server.url, tokens.get(agentId(4))));
    const secondId = (await connections.byAgent(agentId(4)))?.connectionId;
    expect(secondId).not.toBe(firstId);
    first.ws.close();
    await first.closed;
    await eventually('the old $disconnect', async () => (events.some((e) => e.requestContext.routeKey === '$disconnect' && e.requestContext.connectionId === firstId) ? true : undefined));
    await sleep(100);
    expect((await connections.list()).filter((c) => c.agentId === agentId(4)).map((c) => c.connectionId)).toEqual([secondId]);
    second.ws.close();
    await second.closed;
  });

  it('a $connect handled late (a handshake the VEN gave up on) does not replace the connection the VEN opened after it', async () => {
    const service = new VenChannelService({ authenticator: new VenAuthenticator(new DynamoDbAgentCredentialStore(storage.client, storage.table, REGION)), connections });
    const token = `Bearer ${tokens.get(agentId(5)) ?? ''}`;
    const openedAt = Date.now();
    expect(await service.connect('live-conn=', token, openedAt)).toMatchObject({ connected: { agentId: agentId(5) } });
    // the abandoned attempt was opened earlier and is handled only now
    await service.connect('abandoned=', token, openedAt - 5_000);
    expect((await connections.byAgent(agentId(5)))?.connectionId).toBe('live-conn=');
    await service.disconnect('abandoned=');
    expect((await connections.byAgent(agentId(5)))?.connectionId).toBe('live-conn=');
    await service.disconnect('live-conn=');
  });

  it('closes a connection deleted through the management API (DeleteConnection)', async () => {
    const ven = opened(await open(server.url, tokens.get(agentId(5))));
    const connectionId = (await connections.byAgent(agentId(5)))?.connectionId ?? '';
    await push.close(connectionId);
    expect(await ven.closed).toBe(1000);
    await eventually('the connection removed', async () => ((await connections.byAgent(agentId(5))) === null ? true : undefined));
    await expect(push.close(connectionId)).resolves.toBeUndefined();
  });

  it('publishes a provision to a hundred connected VENs through the local management API, forgetting the gone ones', async () => {
    const vens = new Map<number, Opened>();
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const n = 20 + i;
        vens.set(n, opened(await open(server.url, tokens.get(agentId(n)))));
      }),
    );
    // one VEN dropped a while ago without its $disconnect being seen: a stored connection id no gateway knows
    await connections.put({ connectionId: 'NoSuchConnection=', agentId: agentId(130), orgId: 1, workloadId: 'w130', connectedAt: Date.now() - 60_000 });
    const policies = new Map(Array.from({ length: 111 }, (_, i) => [`w${20 + i}`, compiledPolicy(`w${20 + i}`, 12)]));
    const publisher = new VenPolicyPublisher({ connections, channel: push, listenOnly: new DynamoDbListenOnlyStore(storage.client, localTableName(config, REGION)) });
    const started = Date.now();
    const outcome = await publisher.publish({ orgId: 1, policyVersion: 12, policyOf: (w) => policies.get(w) ?? null, rulesChanged: new Set(['w20']), changedIpSets: new Map(), everything: false });
    const elapsed = Date.now() - started;
    expect(outcome).toEqual({ targeted: 101, sent: 100, gone: 1, failed: 0 });
    expect(elapsed).toBeLessThan(5_000);
    await eventually('every VEN told', async () => ([...vens.values()].every((v) => v.messages.length === 1) ? true : undefined));
    expect(vens.get(20)?.messages[0]).toMatchObject({ type: 'policy', policy_version: 12, rules: expect.objectContaining({ enforcement_mode: 'full' }) });
    expect(vens.get(21)?.messages[0]).not.toHaveProperty('rules');
    expect(await connections.byAgent(agentId(130))).toBeNull();
    await Promise.all([...vens.values()].map(async (v) => { v.ws.close(); await v.closed; }));
  });

  it('keeps a connection that answers 410 while its $connect may still run (it is stored before the gateway opens it)', async () => {
    await connections.put({ connectionId: 'NotOpenYet=', agentId: agentId(131), orgId: 1, workloadId: 'w131', connectedAt: Date.now() });
    const publisher = new VenPolicyPublisher({ connections, channel: push, listenOnly: new DynamoDbListenOnlyStore(storage.client, localTableName(config, REGION)) });
    const policies = new Map([['w131', compiledPolicy('w131', 13)]]);
    const outcome = await publisher.publish({ orgId: 1, policyVersion: 13, policyOf: (w) => policies.get(w) ?? null, rulesChanged: new Set(), changedIpSets: new Map(), everything: false });
    expect(outcome).toEqual({ targeted: 1, sent: 0, gone: 1, failed: 0 });
    expect(await connections.byAgent(agentId(131))).toMatchObject({ connectionId: 'NotOpenYet=' });
    await connections.remove('NotOpenYet=');
  });

  it('keeps the listen-only mode of the PCE in its local table', async () => {
    const listenOnly = new DynamoDbListenOnlyStore(storage.client, localTableName(config, REGION));
    expect(await listenOnly.get()).toBeNull();
    await listenOnly.enable(1_000);
    await listenOnly.enable(2_000);
    expect(await listenOnly.get()).toEqual({ enabledAt: 1_000 });
    await listenOnly.disable();
    expect(await listenOnly.get()).toBeNull();
  });

  it("applies API Gateway's idle timeout, and closes promptly with connections open", async () => {
    const strict = await startTwin((event, handle) => handle(event), { idleTimeoutSeconds: 0.4 });
    try {
      const idle = opened(await open(strict.url, tokens.get(agentId(6))));
      const pinging = opened(await open(strict.url, tokens.get(agentId(7))));
      const timer = setInterval(() => pinging.ws.send('{"action":"ping"}'), 100);
      expect(await idle.closed).toBe(1001);
      expect(pinging.ws.readyState).toBe(WebSocket.OPEN);
      clearInterval(timer);
      const started = Date.now();
      await strict.close();
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(await pinging.closed).toBe(1006);
    } finally {
      await strict.close();
    }
  });
  it('sends $disconnect for a handshake the VEN gave up on while $connect ran, even one the WebSocket library drops unanswered', async () => {
    const seen: WebSocketLambdaEvent[] = [];
    const slow = await startTwin(async (event, handle) => {
      seen.push(event);
      const result = await handle(event);
      if (event.requestContext.routeKey === '$connect') await sleep(300);
      return result;
    });
    try {
      const { port } = new URL(slow.url);
      for (const [n, leave] of [[8, 'end'], [9, 'destroy']] as const) {
        // a raw upgrade request, then the VEN goes: half-closed (end) or gone (destroy) while $connect runs
        const socket = tcpConnect(Number(port), '127.0.0.1');
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.on('error', () => undefined);
        socket.write(
          [`GET /${VEN_CHANNEL_STAGE} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${Buffer.from(`key-${n}-0123456`).toString('base64')}`, `Authorization: Bearer ${tokens.get(agentId(n)) ?? ''}`, '', ''].join('\r\n'),
        );
        await eventually(`agent ${n} stored by $connect`, async () => ((await connections.byAgent(agentId(n))) ? true : undefined));
        if (leave === 'end') socket.end();
        else socket.destroy();
        await eventually(`$disconnect for agent ${n}`, async () => ((await connections.byAgent(agentId(n))) === null ? true : undefined));
      }
      expect(seen.filter((e) => e.requestContext.routeKey === '$disconnect')).toHaveLength(2);
      expect(slow.size).toBe(0);
    } finally {
      await slow.close();
    }
  });
});

describe('the local VEN channel at its concurrency ceiling (as Lambda throttles $connect)', () => {
  it('refuses a handshake beyond the ceiling with 429 too_many_requests without invoking $connect, and admits again once a slot frees', async () => {
    const limit = new ConcurrencyLimit(1);
    const held: (() => void)[] = [];
    const routes: string[] = [];
    const server = await startVenChannelServer({
      host: '127.0.0.1',
      port: 0,
      domainName: 'pce-us.test',
      functionName: 'ven-channel',
      region: REGION,
      concurrency: limit,
      handler: async (event) => {
        routes.push(event.requestContext.routeKey);
        if (event.requestContext.routeKey === '$connect' && held.length === 0) await new Promise<void>((resolve) => held.push(resolve));
        return { statusCode: 200 };
      },
    });
    try {
      const first = open(server.url);
      await expect.poll(() => limit.inFlight).toBe(1);
      const refused = await open(server.url);
      expect(refused).toMatchObject({ status: 429 });
      expect(JSON.parse((refused as Refused).body)).toEqual([{ token: 'too_many_requests', message: expect.any(String) }]);
      expect(routes).toEqual(['$connect']);
      held[0]?.();
      opened(await first).ws.close();
      const again = opened(await open(server.url));
      again.ws.close();
      expect(limit.throttled).toBe(1);
    } finally {
      await server.close();
    }
  });
});
