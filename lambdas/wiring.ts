/**
 * The composition root shared by every Lambda entry point: adapters built once per runtime (cold start)
 * from the environment contract, with the SDK clients Lambda provides. The local cloud runs the same
 * entry points in one process per PCE with the same environment, pointed at local endpoints.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { RateLimiter } from '../shared/auth/rate-limit.ts';
import { JobService } from '../shared/jobs/job-service.ts';
import { LabelService } from '../shared/labels/label-service.ts';
import { PolicyObjectService } from '../shared/policy/objects/policy-object-service.ts';
import { ProvisioningService } from '../shared/policy/objects/provisioning-service.ts';
import { pceRuntimeFromEnv, type PceRuntime } from '../shared/runtime/env.ts';
import { WorkloadSettingsService } from '../shared/settings/workload-settings-service.ts';
import { DynamoDbApiKeyStore } from '../shared/storage/dynamodb/api-keys.ts';
import { documentClient } from '../shared/storage/dynamodb/client.ts';
import { DynamoDbDirectoryStore, DynamoDbMembershipStore } from '../shared/storage/dynamodb/directory.ts';
import { DynamoDbJobStore } from '../shared/storage/dynamodb/jobs.ts';
import { DynamoDbLabelStore } from '../shared/storage/dynamodb/labels.ts';
import { DynamoDbLeaderRecordStore } from '../shared/storage/dynamodb/leader-record.ts';
import { DynamoDbRequestCounterStore } from '../shared/storage/dynamodb/rate-limit.ts';
import { dynamoDbPolicyAdapters } from '../shared/storage/dynamodb/policy.ts';
import { DynamoDbPceStatusStore, DynamoDbReplicationLagStore, DynamoDbRuntimeStateStore } from '../shared/storage/dynamodb/supercluster-status.ts';
import { DynamoDbWorkloadStore } from '../shared/storage/dynamodb/workloads.ts';
import { DynamoDbWorkloadSettingsStore } from '../shared/storage/dynamodb/workload-settings.ts';
import { DynamoDbCompiledPolicyStore } from '../shared/storage/dynamodb/compiled-policy.ts';
import { approximateQueueDepth, SqsComputeQueue } from '../shared/storage/sqs/compute-queue.ts';
import { LeaderView } from '../shared/supercluster/leader.ts';
import { countWorkloadsAffected } from '../shared/compute/workloads-affected.ts';
import type { PolicySnapshot } from '../shared/policy/model.ts';
import { SuperclusterService } from '../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../shared/workloads/workload-service.ts';

export function buildPce(runtime: PceRuntime = pceRuntimeFromEnv()) {
  const logger = new Logger({ serviceName: 'pce', persistentKeys: { pce: runtime.pce.fqdn, region: runtime.region } });
  const ddb = documentClient({ region: runtime.region });
  const { globalTableName: g, localTableName: l, region } = runtime;
  const leaderStore = new DynamoDbLeaderRecordStore(ddb, g, region);
  const leader = new LeaderView(leaderStore, region);
  const statuses = new DynamoDbPceStatusStore(ddb, g);
  const lags = new DynamoDbReplicationLagStore(ddb, l);
  const runtimeState = new DynamoDbRuntimeStateStore(ddb, l);
  const labelStore = new DynamoDbLabelStore(ddb, g, region);
  /** also the compute pipeline's WorkloadFactsSource (listFacts) */
  const workloadStore = new DynamoDbWorkloadStore(ddb, g, region);
  /** policy.snapshots is also the compute pipeline's ActivePolicySource (getActive/getVersion) */
  const policy = {
    ...dynamoDbPolicyAdapters(ddb, g, region),
    leader,
    workloadsAffected: (orgId: number, before: PolicySnapshot | null, after: PolicySnapshot) => countWorkloadsAffected(workloadStore, orgId, before, after),
  };
  const sqs = new SQSClient({ region });
  const { computeQueueUrl, computeDlqUrl } = runtime;
  const policyObjects = new PolicyObjectService(policy);
  const settings = new WorkloadSettingsService({ settings: new DynamoDbWorkloadSettingsStore(ddb, g, region), labels: labelStore, leader });
  const labelUses = async (orgId: number, labelId: number): Promise<string[]> => {
    const [inPolicy, workloads, inSettings] = await Promise.all([policyObjects.isLabelInUse(orgId, labelId), workloadStore.listFacts(orgId), settings.usesLabel(orgId, labelId)]);
    const onWorkloads = workloads.filter((w) => w.labels.includes(labelId)).length;
    return [
      ...(inPolicy ? ['draft or active policy objects'] : []),
      ...(onWorkloads > 0 ? [`${onWorkloads} workload(s)`] : []),
      ...(inSettings ? ['the workload settings (a timer scope)'] : []),
    ];
  };
  return {
    runtime,
    logger,
    leader,
    statuses,
    lags,
    runtimeState,
    apiKeys: new DynamoDbApiKeyStore(ddb, g, region),
    /** per API key, per PCE: counters in this PCE's local table; null when the config turns the limit off (0) */
    rateLimit: runtime.config.api_rate_limit_per_minute > 0 ? new RateLimiter({ counter: new DynamoDbRequestCounterStore(ddb, l), limitPerMinute: runtime.config.api_rate_limit_per_minute }) : null,
    membership: new DynamoDbMembershipStore(ddb, g, region),
    directory: new DynamoDbDirectoryStore(ddb, g, region),
    labels: new LabelService({ labels: labelStore, leader, usesOf: labelUses }),
    settings,
    policySnapshots: policy.snapshots,
    policy: { objects: policyObjects, provisioning: new ProvisioningService(policy) },
    workloadStore,
    workloads: new WorkloadService({ workloads: workloadStore, labels: labelStore, leader, pceFqdns: runtime.config.pces.map((p) => p.fqdn) }),
    jobs: new JobService({ jobs: new DynamoDbJobStore(ddb, l), onFailure: (job, error) => logger.error('async job failed', { job: job.id, jobType: job.jobType, error: error as Error }) }),
    compiled: new DynamoDbCompiledPolicyStore(ddb, l),
    computeQueue: computeQueueUrl ? new SqsComputeQueue(sqs, computeQueueUrl, computeDlqUrl) : null,
    supercluster: new SuperclusterService({
      config: runtime.config,
      pce: runtime.pce,
      leader,
      statuses,
      lags,
      runtime: runtimeState,
      deadLetters: computeDlqUrl ? () => approximateQueueDepth(sqs, computeDlqUrl) : undefined,
    }),
  };
}

export type Pce = ReturnType<typeof buildPce>;
