/**
 * The VEN channel's Lambda handler behind API Gateway's WebSocket routes (and the local twin,
 * infra/local/ven-channel-server.ts, which produces the same events):
 * - `$connect`: the upgrade request; 200 accepts the connection, 401 refuses it (the route has no
 *   authorizer: the VEN's agent token is checked here, like every VEN call);
 * - `$disconnect`: the connection is closed (by either side, or by API Gateway's limits);
 * - `$default`: a message from the VEN (`{"action":"ping"}`); the route has no route response, so
 *   nothing is sent back.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayEventWebsocketRequestContextV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { VenChannelService } from '../../shared/ven/channel-service.ts';

/** What the handler reads of a WebSocket event (APIGatewayProxyWebsocketEventV2); `$connect` also carries the upgrade request's headers, in the case the client sent them. */
export interface VenChannelEvent {
  readonly requestContext: Pick<APIGatewayEventWebsocketRequestContextV2, 'routeKey' | 'eventType' | 'connectionId'> & Partial<Pick<APIGatewayEventWebsocketRequestContextV2, 'connectedAt'>>;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
}

export type VenChannelLogger = Pick<Logger, 'debug' | 'info'>;

export interface VenChannelHandlerDeps {
  readonly channel: VenChannelService;
  readonly logger: VenChannelLogger;
}

const REFUSALS = {
  ven_token_required: 'the VEN channel needs Authorization: Bearer <agent token>',
  ven_unknown: 'this PCE does not know the VEN: pair it again',
} as const;

function header(headers: VenChannelEvent['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export function createVenChannelHandler(deps: VenChannelHandlerDeps) {
  return async (event: VenChannelEvent): Promise<APIGatewayProxyStructuredResultV2> => {
    const { routeKey, connectionId } = event.requestContext;
    switch (routeKey) {
      case '$connect': {
        // ordered by when the VEN opened it (requestContext.connectedAt), not by when this handler got to it
        const outcome = await deps.channel.connect(connectionId, header(event.headers, 'authorization'), event.requestContext.connectedAt);
        if ('refused' in outcome) {
          deps.logger.info('VEN channel refused', { connectionId, token: outcome.refused });
          return { statusCode: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ token: outcome.refused, message: REFUSALS[outcome.refused] }]) };
        }
        deps.logger.debug('VEN channel connected', { connectionId, agentId: outcome.connected.agentId });
        return { statusCode: 200 };
      }
      case '$disconnect':
        await deps.channel.disconnect(connectionId);
        return { statusCode: 200 };
      default: {
        if (deps.channel.message(event.body) === 'ignored') deps.logger.debug('VEN channel message ignored', { connectionId, routeKey });
        return { statusCode: 200 };
      }
    }
  };
}
