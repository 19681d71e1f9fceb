/** The VEN channel use case and its Lambda handler, over fakes of the connection and credential stores. */
import { beforeEach, describe, expect, it } from 'vitest';
import { createVenChannelHandler, type VenChannelEvent } from '../../lambdas/ven-channel/handler.ts';
import { generateAgentToken, VenAuthenticator } from '../../shared/ven/auth.ts';
import { VenChannelService } from '../../shared/ven/channel-service.ts';
import { FakeAgentCredentials, FakeVenConnections } from '../helpers/ven-channel-fakes.ts';

const AGENT = '0b6e8f3a-1111-4222-8333-444455556666';
const OTHER = '0b6e8f3a-9999-4222-8333-444455556666';

let credentials: FakeAgentCredentials;
let connections: FakeVenConnections;
let service: VenChannelService;
let token: string;
let now: number;

beforeEach(async () => {
  credentials = new FakeAgentCredentials();
  connections = new FakeVenConnections();
  now = 10_000;
  service = new VenChannelService({ authenticator: new VenAuthenticator(credentials), connections, now: () => now });
  const generated = generateAgentToken(AGENT);
  token = generated.token;
  await credentials.put({ agentId: AGENT, orgId: 3, workloadId: 'w-1', tokenHash: generated.tokenHash, originRegion: 'eu-west-1', createdAt: 1 });
});

describe('VenChannelService', () => {
  it('stores the connection of a VEN that presents its agent token', async () => {
    expect(await service.connect('c1=', `Bearer ${token}`)).toEqual({ connected: { agentId: AGENT, orgId: 3, workloadId: 'w-1' } });
    expect(await connections.byAgent(AGENT)).toEqual({ connectionId: 'c1=', agentId: AGENT, orgId: 3, workloadId: 'w-1', connectedAt: 10_000 });
  });

  it('refuses an upgrade without a VEN token (ven_token_required) and one this PCE does not know (ven_unknown), storing nothing', async () => {
    expect(await service.connect('c1=', undefined)).toEqual({ refused: 'ven_token_required' });
    expect(await service.connect('c2=', 'Basic dXNlcjpwYXNz')).toEqual({ refused: 'ven_token_required' });
    const wrongSecret = token.replace(/.$/, (last) => (last === '0' ? '1' : '0'));
    expect(await service.connect('c3=', `Bearer ${wrongSecret}`)).toEqual({ refused: 'ven_unknown' });
    expect(await service.connect('c4=', `Bearer ${generateAgentToken(OTHER).token}`)).toEqual({ refused: 'ven_unknown' });
    expect(await connections.list()).toEqual([]);
  });

  it('replaces the old connection of an agent that reconnects', async () => {
    await service.connect('old=', `Bearer ${token}`);
    now = 20_000;
    await service.connect('new=', `Bearer ${token}`);
    expect((await connections.list()).map((c) => c.connectionId)).toEqual(['new=']);
    // the old connection's $disconnect arrives late: the new one stays
    await service.disconnect('old=');
    expect((await connections.byAgent(AGENT))?.connectionId).toBe('new=');
  });

  it('forgets a connection on disconnect', async () => {
    await service.connect('c1=', `Bearer ${token}`);
    await service.disconnect('c1=');
    expect(await connections.byAgent(AGENT)).toBeNull();
  });

  it('accepts a ping and ignores unknown or unreadable messages', () => {
    expect(service.message('{"action":"ping"}')).toBe('ping');
    expect(service.message('{"action":"ping","at":123}')).toBe('ping');
    expect(service.message('{"action":"subscribe"}')).toBe('ignored');
    expect(service.message('{"no":"action"}')).toBe('ignored');
    expect(service.message('not json')).toBe('ignored');
    expect(service.message(undefined)).toBe('ignored');
  });
});

describe('VEN channel handler (API Gateway WebSocket events)', () => {
  const logged: string[] = [];
  const logger = { debug: (message: string) => void logged.push(message), info: (message: string) => void logged.push(message) };
  const event = (routeKey: string, connectionId: string, extra: Partial<VenChannelEvent> = {}): VenChannelEvent => ({
    requestContext: { routeKey, eventType: routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE', connectionId },
    ...extra,
  });

  it('$connect: 200 with a good token (header name in any case), 401 with the VEN protocol token otherwise', async () => {
    const handler = createVenChannelHandler({ channel: service, logger });
    expect(await handler(event('$connect', 'c1=', { headers: { Authorization: `Bearer ${token}`, Host: 'pce' } }))).toEqual({ statusCode: 200 });
    expect(await handler(event('$connect', 'c2=', { headers: { authorization: `Bearer ${token}` } }))).toEqual({ statusCode: 200 });
    const refused = await handler(event('$connect', 'c3=', { headers: { Host: 'pce' } }));
    expect(refused.statusCode).toBe(401);
    expect(JSON.parse(refused.body ?? '')).toEqual([{ token: 'ven_token_required', message: expect.any(String) }]);
    const unknown = await handler(event('$connect', 'c4=', { headers: { Authorization: `Bearer ${generateAgentToken(OTHER).token}` } }));
    expect(JSON.parse(unknown.body ?? '')).toEqual([expect.objectContaining({ token: 'ven_unknown' })]);
    expect((await connections.list()).map((c) => c.connectionId)).toEqual(['c2=']);
  });

  it('$disconnect removes the connection; $default answers nothing', async () => {
    const handler = createVenChannelHandler({ channel: service, logger });
    await handler(event('$connect', 'c1=', { headers: { Authorization: `Bearer ${token}` } }));
    expect(await handler(event('$default', 'c1=', { body: '{"action":"ping"}' }))).toEqual({ statusCode: 200 });
    expect(await handler(event('$default', 'c1=', { body: '{"action":"what"}' }))).toEqual({ statusCode: 200 });
    expect(await handler(event('$disconnect', 'c1='))).toEqual({ statusCode: 200 });
    expect(await connections.list()).toEqual([]);
  });
});
