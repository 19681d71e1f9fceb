/**
 * The composition root shared by every Lambda entry point: adapters built once per runtime (cold start)
 * from the environment contract, with the SDK clients Lambda provides. The local cloud runs the same
 * entry points in one process per PCE with the same environment, pointed at local endpoints.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { LabelService } from '../shared/labels/label-service.ts';
import { pceRuntimeFromEnv, type PceRuntime } from '../shared/runtime/env.ts';
import { DynamoDbApiKeyStore } from '../shared/storage/dynamodb/api-keys.ts';
import { documentClient } from '../shared/storage/dynamodb/client.ts';
import { DynamoDbDirectoryStore, DynamoDbMembershipStore } from '../shared/storage/dynamodb/directory.ts';
import { DynamoDbLabelStore } from '../shared/storage/dynamodb/labels.ts';
import { DynamoDbLeaderRecordStore } from '../shared/storage/dynamodb/leader-record.ts';
import { DynamoDbPceStatusStore, DynamoDbReplicationLagStore, DynamoDbRuntimeStateStore } from '../shared/storage/dynamodb/supercluster-status.ts';
import { LeaderView } from '../shared/supercluster/leader.ts';
import { SuperclusterService } from '../shared/supercluster/supercluster-service.ts';

export function buildPce(runtime: PceRuntime = pceRuntimeFromEnv()) {
  const logger = new Logger({ serviceName: 'pce', persistentKeys: { pce: runtime.pce.fqdn, region: runtime.region } });
  const ddb = documentClient({ region: runtime.region });
  const { globalTableName: g, localTableName: l, region } = runtime;
  const leaderStore = new DynamoDbLeaderRecordStore(ddb, g, region);
  const leader = new LeaderView(leaderStore, region);
  const statuses = new DynamoDbPceStatusStore(ddb, g);
  const lags = new DynamoDbReplicationLagStore(ddb, l);
  const runtimeState = new DynamoDbRuntimeStateStore(ddb, l);
  return {
    runtime,
    logger,
    leader,
    statuses,
    lags,
    runtimeState,
    apiKeys: new DynamoDbApiKeyStore(ddb, g, region),
    membership: new DynamoDbMembershipStore(ddb, g, region),
    directory: new DynamoDbDirectoryStore(ddb, g, region),
    labels: new LabelService({ labels: new DynamoDbLabelStore(ddb, g, region), leader }),
    supercluster: new SuperclusterService({ config: runtime.config, pce: runtime.pce, leader, statuses, lags, runtime: runtimeState }),
  };
}

export type Pce = ReturnType<typeof buildPce>;
