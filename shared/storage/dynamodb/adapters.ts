/**
 * The one place DynamoDB adapters are built from (client, tables, region): the Lambda wiring
 * (lambdas/wiring.ts), pce-ctl (cli/commands/*) and the local cloud (infra/local/supercluster.ts) take
 * them from here instead of constructing them by hand. Adapters are cheap objects over one shared client.
 *
 * `region` is the region the client talks to: the origin region stamped on what the adapters write.
 */
import { DynamoDbAgentCredentialStore } from './agent-credentials.ts';
import { DynamoDbApiKeyStore } from './api-keys.ts';
import { DynamoDbAuditEventStore } from './audit-events.ts';
import type { DynamoDBDocumentClient } from './client.ts';
import { DynamoDbCompiledPolicyStore } from './compiled-policy.ts';
import { DynamoDbConsoleSessionStore, DynamoDbPasswordStore } from './console.ts';
import { DynamoDbDirectoryStore, DynamoDbMembershipStore } from './directory.ts';
import { DynamoDbIdentityStore } from './identity.ts';
import { DynamoDbGslbSwitchStore } from './gslb-switch.ts';
import { DynamoDbJobStore } from './jobs.ts';
import { DynamoDbLabelStore } from './labels.ts';
import { DynamoDbLeaseStore } from './leader-lease.ts';
import { DynamoDbLeaderRecordStore } from './leader-record.ts';
import { DynamoDbListenOnlyStore } from './listen-only.ts';
import { DynamoDbManagedWorkloadStore } from './managed-workloads.ts';
import { dynamoDbPairingAdapters } from './pairing.ts';
import { DynamoDbPceDropStore } from './pce-drops.ts';
import type { RegionClientFactory } from './pairing-keys.ts';
import { dynamoDbPolicyAdapters } from './policy.ts';
import { DynamoDbRequestCounterStore } from './rate-limit.ts';
import { DynamoDbReplicationCheckStore } from './replication-check.ts';
import { DynamoDbServiceBindingStore } from './service-bindings.ts';
import { DynamoDbLagHistoryStore, DynamoDbPceStatusStore, DynamoDbReplicationLagStore, DynamoDbRuntimeStateStore } from './supercluster-status.ts';
import { DynamoDbVenConnectionStore } from './ven-connections.ts';
import { DynamoDbAgentCountStore, DynamoDbFlowSummaryStore, DynamoDbHeartbeatStore } from './ven-local.ts';
import { DynamoDbWorkloadSettingsStore } from './workload-settings.ts';
import { DynamoDbWorkloadStore } from './workloads.ts';
import { CONTAINER_CLUSTERS_FAMILY, DynamoDbDocumentStore, LABEL_DIMENSIONS_FAMILY } from './documents.ts';
import { FIREWALL_SETTINGS_FAMILY } from '../../policy/settings/firewall-settings.ts';

/** Adapters over the global table (this region's replica). */
export function globalTableAdapters(client: DynamoDBDocumentClient, tableName: string, region: string, options: { remoteClient?: RegionClientFactory } = {}) {
  return {
    leaderRecord: new DynamoDbLeaderRecordStore(client, tableName, region),
    serviceBindings: new DynamoDbServiceBindingStore(client, tableName, region),
    statuses: new DynamoDbPceStatusStore(client, tableName),
    membership: new DynamoDbMembershipStore(client, tableName, region),
    directory: new DynamoDbDirectoryStore(client, tableName, region),
    apiKeys: new DynamoDbApiKeyStore(client, tableName, region),
    /** users, each user's key index, principals, permissions (AUTH#...): leader-written */
    identity: new DynamoDbIdentityStore(client, tableName, region),
    /** console password hashes (AUTH#USER#<id>#PASSWORD): leader-written like the other identity items */
    passwords: new DynamoDbPasswordStore(client, tableName, region),
    labels: new DynamoDbLabelStore(client, tableName, region),
    /** also the compute pipeline's WorkloadFactsSource (listFacts) */
    workloads: new DynamoDbWorkloadStore(client, tableName, region),
    workloadSettings: new DynamoDbWorkloadSettingsStore(client, tableName, region),
    /** policy.snapshots is also the compute pipeline's ActivePolicySource (getActive/getVersion) */
    policy: dynamoDbPolicyAdapters(client, tableName, region),
    /** pairing keys are consumed in the region that generated them: `remoteClient` reaches the others */
    pairing: dynamoDbPairingAdapters(client, tableName, region, options.remoteClient),
    agentCredentials: new DynamoDbAgentCredentialStore(client, tableName, region),
    /** the member-written part of managed workloads: this region's agent items */
    managedWorkloads: new DynamoDbManagedWorkloadStore(client, tableName, region),
    /** the GSLB switches (GSLB_SWITCH#<pce fqdn>): read by every API, written in `region` by pce-ctl */
    gslbSwitches: new DynamoDbGslbSwitchStore(client, tableName, region),
    /** PCEs dropped from the supercluster (SUPERCLUSTER / DROP#<pce fqdn>#BY#<region>): written in `region` by pce-ctl */
    drops: new DynamoDbPceDropStore(client, tableName, region),
    /** the last replication check's result per writer region (pce-ctl supercluster-replication-check; /api/v2/health) */
    replicationChecks: new DynamoDbReplicationCheckStore(client, tableName, region),
    /** audit events (ORG#<org>#EVENTS#<region>#<day>): each PCE writes its own, reads every region's */
    auditEvents: new DynamoDbAuditEventStore(client, tableName, region),
    /** label dimensions (ORG#<org>#LABEL_DIMENSIONS): leader-written */
    labelDimensions: new DynamoDbDocumentStore(client, tableName, region, LABEL_DIMENSIONS_FAMILY),
    /** container clusters and their workload profiles (ORG#<org>#CONTAINER_CLUSTERS): leader-written */
    containerClusters: new DynamoDbDocumentStore(client, tableName, region, CONTAINER_CLUSTERS_FAMILY),
    firewallSettings: new DynamoDbDocumentStore(client, tableName, region, FIREWALL_SETTINGS_FAMILY),
  };
}

/** Adapters over one PCE's local table (never replicated). */
export function localTableAdapters(client: DynamoDBDocumentClient, tableName: string) {
  return {
    lags: new DynamoDbReplicationLagStore(client, tableName),
    /** this PCE's replication lag samples of the last hour (shared/supercluster/lag-history.ts) */
    lagHistory: new DynamoDbLagHistoryStore(client, tableName),
    runtimeState: new DynamoDbRuntimeStateStore(client, tableName),
    requestCounters: new DynamoDbRequestCounterStore(client, tableName),
    jobs: new DynamoDbJobStore(client, tableName),
    compiled: new DynamoDbCompiledPolicyStore(client, tableName),
    listenOnly: new DynamoDbListenOnlyStore(client, tableName),
    venConnections: new DynamoDbVenConnectionStore(client, tableName),
    heartbeats: new DynamoDbHeartbeatStore(client, tableName),
    agentCount: new DynamoDbAgentCountStore(client, tableName),
    flows: new DynamoDbFlowSummaryStore(client, tableName),
    /** web console sessions of this PCE (docs/console.md) */
    consoleSessions: new DynamoDbConsoleSessionStore(client, tableName),
  };
}

/**
 * The leader lease (its own strongly consistent table, reached through its own client: leaseDocumentClient
 * in ./leader-lease.ts, in the lease replica region nearest the PCE; docs/adr/0012-leader-lease.md).
 */
export function leaseTableAdapters(client: DynamoDBDocumentClient, tableName: string) {
  return {
    leaderLease: new DynamoDbLeaseStore(client, tableName),
  };
}

export type GlobalTableAdapters = ReturnType<typeof globalTableAdapters>;
export type LocalTableAdapters = ReturnType<typeof localTableAdapters>;
export type LeaseTableAdapters = ReturnType<typeof leaseTableAdapters>;
