/** The versioned-policy adapters over one client and table, as the policy use cases take them. */
import type { PolicyLabelSource, PolicyStore } from '../../policy/objects/ports.ts';
import type { DynamoDBDocumentClient } from './client.ts';
import { DynamoDbPolicyStore } from './policy-drafts.ts';
import { DynamoDbPolicyLabelSource } from './policy-labels.ts';
import { DynamoDbPolicySnapshotStore } from './policy-snapshots.ts';

export function dynamoDbPolicyAdapters(
  client: DynamoDBDocumentClient,
  tableName: string,
  /** the region this client talks to (origin_region of the leader's writes) */
  region: string,
): { store: PolicyStore; snapshots: DynamoDbPolicySnapshotStore; labels: PolicyLabelSource } {
  return {
    store: new DynamoDbPolicyStore(client, tableName, region),
    snapshots: new DynamoDbPolicySnapshotStore(client, tableName),
    labels: new DynamoDbPolicyLabelSource(client, tableName),
  };
}
