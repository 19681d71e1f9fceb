/** The DynamoDB adapters of pairing, built the same way by the Lambda wiring, the tests and the tools. */
import type { DynamoDBDocumentClient } from './client.ts';
import { DynamoDbPairingKeyStore, regionClients, type RegionClientFactory } from './pairing-keys.ts';
import { DynamoDbPairingProfileStore, DynamoDbPairingUseStore } from './pairing-profiles.ts';

/**
 * `client` talks to this PCE's region (`region`); `remoteClient` builds the client of another region's
 * replica for the pairing keys (default: remoteRegionClient, with short timeouts).
 */
export function dynamoDbPairingAdapters(client: DynamoDBDocumentClient, globalTableName: string, region: string, remoteClient?: RegionClientFactory) {
  return {
    profiles: new DynamoDbPairingProfileStore(client, globalTableName, region),
    uses: new DynamoDbPairingUseStore(client, globalTableName, region),
    keys: new DynamoDbPairingKeyStore(regionClients({ region, client }, remoteClient), globalTableName, region),
  };
}
