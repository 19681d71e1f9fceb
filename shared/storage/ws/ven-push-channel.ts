/**
 * Pushes to VEN channels through API Gateway's WebSocket management API (PostToConnection). The same
 * client works against the local twin (infra/local/ven-channel-server.ts), which serves the same API:
 * only `endpoint` differs (AWS: `https://<api id>.execute-api.<region>.amazonaws.com/<stage>`).
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
  type ApiGatewayManagementApiClientConfig,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { VenPushChannel } from '../../ven/ports.ts';
import type { VenPushV1 } from '../../ven/protocol.ts';

/** The management API client of a VEN channel; `endpoint` is the channel's management URL (ENV.venChannelManagementUrl). */
export function venChannelManagementClient(endpoint: string, config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint'> = {}): ApiGatewayManagementApiClient {
  // one push is one small POST: a VEN that does not answer must not hold a publisher worker for long
  return new ApiGatewayManagementApiClient({ maxAttempts: 3, ...config, endpoint });
}

export class ApiGatewayVenPushChannel implements VenPushChannel {
  /** a publisher sends one message object to many VENs (all of one rule list): serialised once */
  private readonly serialised = new WeakMap<VenPushV1, Buffer>();

  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async send(connectionId: string, message: VenPushV1): Promise<'sent' | 'gone'> {
    let data = this.serialised.get(message);
    if (!data) {
      data = Buffer.from(JSON.stringify(message));
      this.serialised.set(message, data);
    }
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return 'sent';
    } catch (err) {
      if (err instanceof GoneException) return 'gone';
      throw err;
    }
  }

  /** Closes a connection (e.g. after `unpaired`); a connection that is gone already is fine. */
  async close(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (err) {
      if (!(err instanceof GoneException)) throw err;
    }
  }
}
