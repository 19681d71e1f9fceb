/**
 * The VEN channel use case: a VEN keeps one WebSocket open to its PCE for pushes (docs/ven-protocol.md,
 * docs/adr/0009-ven-push-channel.md). The connections are held by API Gateway in AWS (by the local twin,
 * infra/local/ven-channel-server.ts, on one machine); this service only sees their lifecycle events:
 * - connect: the VEN authenticates with its agent token on the upgrade request, and its connection is
 *   stored (a reconnect replaces the agent's old connection); refused (401) otherwise;
 * - disconnect: the connection is forgotten;
 * - message: a VEN sends `{"action":"ping"}` to stay under the idle timeout; nothing is answered, and an
 *   unknown or unreadable message is ignored (a newer VEN may send more than this PCE knows).
 */
import { z } from 'zod';
import { parseAgentToken } from './auth.ts';
import type { VenConnectionStore, VenPrincipal } from './ports.ts';

/** The stage of the channel's WebSocket API (AWS and the local twin): VENs connect to `<endpoint>/<stage>`. */
export const VEN_CHANNEL_STAGE = 'live';

/** API Gateway WebSocket limits the channel lives with (the local twin applies the same). */
export const VEN_CHANNEL_LIMITS = {
  /** a connection lives at most 2 hours: the VEN reconnects */
  maxConnectionSeconds: 2 * 60 * 60,
  /** a connection that carries no message for 10 minutes is closed */
  idleTimeoutSeconds: 10 * 60,
  /** how often a VEN pings to stay under the idle timeout */
  pingIntervalSeconds: 9 * 60,
  /** the largest message API Gateway carries (128 KB; billed in 32 KB units) */
  maxMessageBytes: 128 * 1024,
  /**
   * how long a connection may be stored before it can be posted to: `$connect` stores it, but API Gateway
   * answers 410 to PostToConnection until the `$connect` integration has returned (29 s at most)
   */
  connectWindowSeconds: 30,
} as const;

/** What a VEN may send over its channel (VEN -> PCE), version 1: only `ping` today. */
export const venChannelMessageV1 = z.looseObject({ action: z.string().max(64) });
export type VenChannelMessageV1 = z.infer<typeof venChannelMessageV1>;

/** Authenticates the bearer token of the upgrade request (shared/ven/auth.ts VenAuthenticator). */
export interface VenTokenAuthenticator {
  authenticate(authorization: string | undefined): Promise<VenPrincipal | null>;
}

export interface VenChannelServiceDeps {
  readonly authenticator: VenTokenAuthenticator;
  readonly connections: VenConnectionStore;
  readonly now?: () => number;
}

export type VenChannelMessageOutcome = 'ping' | 'ignored';

/** Connected, or refused with the VEN protocol's 401 token (no VEN token at all / a token this PCE does not know). */
export type VenConnectOutcome = { readonly connected: VenPrincipal } | { readonly refused: 'ven_token_required' | 'ven_unknown' };

export class VenChannelService {
  private readonly now: () => number;

  constructor(private readonly deps: VenChannelServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * The VEN behind the upgrade request's Authorization header, stored as the open channel of its agent.
   * `openedAt` is when the VEN opened the connection (API Gateway's requestContext.connectedAt): a
   * handshake the VEN gave up on whose $connect completes after its next attempt's must not replace the
   * live connection (the newest opened wins, not the last handled).
   */
  async connect(connectionId: string, authorization: string | undefined, openedAt?: number): Promise<VenConnectOutcome> {
    if (!parseAgentToken(authorization)) return { refused: 'ven_token_required' };
    const principal = await this.deps.authenticator.authenticate(authorization);
    if (!principal) return { refused: 'ven_unknown' };
    await this.deps.connections.put({ connectionId, agentId: principal.agentId, orgId: principal.orgId, workloadId: principal.workloadId, connectedAt: typeof openedAt === 'number' && openedAt > 0 ? openedAt : this.now() });
    return { connected: principal };
  }

  async disconnect(connectionId: string): Promise<void> {
    await this.deps.connections.remove(connectionId);
  }

  /** A message from the VEN; nothing is ever answered on the channel. */
  message(body: string | undefined): VenChannelMessageOutcome {
    let json: unknown;
    try {
      json = JSON.parse(body ?? '');
    } catch {
      return 'ignored';
    }
    const parsed = venChannelMessageV1.safeParse(json);
    return parsed.success && parsed.data.action === 'ping' ? 'ping' : 'ignored';
  }
}
