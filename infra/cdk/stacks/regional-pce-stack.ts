/**
 * One PCE's region: its local table, the seven functions (api, identity, stream router, stream failures,
 * compute, scheduled, VEN channel), the compute pipeline, the regional API with its custom domains, the VEN push channel
 * (WebSocket API), the PCE's own DNS record, its alarms, and a FIS template that cuts its replica off (region fault).
 * It reaches its global-table replica by name only: no cross-stack or cross-region references.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { ENV, probesPerMinute } from '../../../shared/runtime/env.ts';
import { globalTableName, leaseTableName, localTableName } from '../../../shared/storage/tables.ts';
import type { PceConfig, SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { leasePlacementOf, leaseRegionFor } from '../../../shared/supercluster/lease-config.ts';
import { ComputePipeline } from '../constructs/compute-pipeline.ts';
import { AUDIT_EVENT_PARTITIONS, CONTROL_PARTITIONS, grantDataAccess, LABEL_USE_PARTITIONS, MANAGED_PARTITIONS, ORG_PARTITIONS, PAIRING_KEY_PARTITIONS, PROBE_PARTITION, VEN_AUTH_PARTITIONS, WORKLOAD_PARTITIONS, type DataAccess } from '../constructs/data-access.ts';
import { GlobalReplica } from '../constructs/global-replica.ts';
import { LocalData } from '../constructs/local-data.ts';
import { PceAlarms } from '../constructs/pce-alarms.ts';
import { PceFunction, type PceRuntimeEnvironment } from '../constructs/pce-function.ts';
import { RegionFault } from '../constructs/region-fault.ts';
import { RegionalApi } from '../constructs/regional-api.ts';
import { ReplicaStream } from '../constructs/replica-stream.ts';
import { ScheduledOps } from '../constructs/scheduled-ops.ts';
import { VenChannel } from '../constructs/ven-channel.ts';

/**
 * What each function may touch; everything else is not granted, and the control partitions it does not
 * write are explicitly denied (data-access.ts; the table in docs/security.md, "Least privilege in AWS").
 */
export const PCE_FUNCTION_ACCESS = {
  /**
   * the REST API but the identity routes: policy, labels, settings, workloads, counters and audit events (ORG#*),
   * pairing keys (PAIRING_KEY#*, also in the other replicas), VEN credentials at pairing (VEN#*); BatchWriteItem
   * only for pairing (the agent item, its label uses and its credential in one batch)
   */
  api: {
    global: { read: 'items', fenced: true, write: [ORG_PARTITIONS, PAIRING_KEY_PARTITIONS, VEN_AUTH_PARTITIONS], batchWrite: [...MANAGED_PARTITIONS] },
    local: 'read-write',
    deadLetters: 'inspect',
    venChannel: 'push',
    pairingKeysElsewhere: 'consume',
    leaderLease: 'renew',
  },
  /** the identity routes (users and their API keys, permissions, principals): the only writer of APIKEY#* and AUTH#*, plus its own audit events */
  identity: {
    global: { read: 'items', fenced: true, write: [CONTROL_PARTITIONS.apiKeys, CONTROL_PARTITIONS.identity, AUDIT_EVENT_PARTITIONS], controlWrites: ['apiKeys', 'identity'] },
    local: 'read-write',
    leaderLease: 'renew',
  },
  /** clean-up after a VEN moved away or was unpaired (its agent item and that item's label uses) */
  streamRouter: { global: { read: 'items', write: [...MANAGED_PARTITIONS] }, local: 'read-write', computeQueue: 'send', venChannel: 'push' },
  /** writes compiled policy to the local table only */
  compute: { global: { read: 'items' }, local: 'read-write', deadLetters: 'send', venChannel: 'push' },
  /** its PCE's status item (the replication probe) and the VEN sweep's offline marks (agent items, with their label uses); reconcile jobs */
  scheduled: { global: { read: 'items', write: [PROBE_PARTITION, WORKLOAD_PARTITIONS, LABEL_USE_PARTITIONS], controlWrites: ['status'] }, local: 'read-write', computeQueue: 'send', leaderLease: 'renew' },
  /** authenticates agent tokens (VEN#<agent>/AUTH items) and keeps the PCE's open connections */
  venChannel: { global: { read: 'ven-auth' }, local: 'read-write' },
  /** the replica stream's on-failure queue: logs each failed batch's metadata and queues a reconcile job; no table at all */
  streamFailures: { global: { read: 'none' }, computeQueue: 'send' },
} as const satisfies Record<string, DataAccess>;

/** The functions that push to VENs: ManageConnections on the channel and its URLs in their environment. */
const PUSHING_FUNCTIONS = ['api', 'streamRouter', 'compute'] as const satisfies readonly (keyof typeof PCE_FUNCTION_ACCESS)[];

/** The functions that hold the leader lease (leaderLease: 'renew'): its table and region in their environment. */
const LEASE_FUNCTIONS = ['api', 'identity', 'scheduled'] as const satisfies readonly (keyof typeof PCE_FUNCTION_ACCESS)[];

export interface RegionalPceStackProps extends StackProps {
  readonly config: SuperclusterConfig;
  readonly pce: PceConfig;
}

export class RegionalPceStack extends Stack {
  readonly pce: PceConfig;
  readonly localData: LocalData;
  readonly globalReplica: GlobalReplica;
  readonly apiFunction: PceFunction;
  readonly identityFunction: PceFunction;
  readonly streamFailuresFunction: PceFunction;
  readonly streamRouterFunction: PceFunction;
  readonly computeFunction: PceFunction;
  readonly scheduledFunction: PceFunction;
  readonly venChannelFunction: PceFunction;
  readonly computePipeline: ComputePipeline;
  readonly replicaStream: ReplicaStream;
  readonly scheduledOps: ScheduledOps;
  readonly regionalApi: RegionalApi;
  readonly venChannel: VenChannel;
  readonly alarms: PceAlarms;
  readonly regionFault: RegionFault;

  constructor(scope: Construct, id: string, props: RegionalPceStackProps) {
    super(scope, id, props);
    const { config, pce } = props;
    if (this.region !== pce.region) {
      throw new Error(`RegionalPceStack ${id}: stack region ${this.region} differs from the PCE region ${pce.region}`);
    }
    this.pce = pce;

    this.localData = new LocalData(this, 'LocalData', { tableName: localTableName(config, pce.region) });
    this.globalReplica = new GlobalReplica(this, 'GlobalReplica', { tableName: globalTableName(config) });
    const runtimeEnvironment: PceRuntimeEnvironment = {
      config,
      globalTableName: globalTableName(config),
      localTableName: localTableName(config, pce.region),
    };

    this.apiFunction = new PceFunction(this, 'ApiFunction', {
      entry: 'lambdas/api.ts',
      description: `PCE API of ${pce.fqdn}`,
      runtimeEnvironment,
      timeout: Duration.seconds(29),
      memorySize: 1024,
      extraEnvironment: { [ENV.apiRouteSet]: 'general' },
      // the web console's files, served by this function at / and /console/<file> (docs/console.md)
      consoleAssets: true,
    });
    // the same app on the identity routes only, with the only role that may write API keys and identity items
    this.identityFunction = new PceFunction(this, 'IdentityFunction', {
      entry: 'lambdas/api.ts',
      description: `PCE API identity routes (users, API keys, permissions, principals) of ${pce.fqdn}`,
      runtimeEnvironment,
      timeout: Duration.seconds(29),
      memorySize: 512,
      extraEnvironment: { [ENV.apiRouteSet]: 'identity' },
    });
    this.computeFunction = new PceFunction(this, 'ComputeFunction', {
      entry: 'lambdas/compute.ts',
      description: `Policy compute of ${pce.fqdn}`,
      runtimeEnvironment,
      timeout: Duration.minutes(2),
      memorySize: 1024,
    });
    this.computePipeline = new ComputePipeline(this, 'ComputePipeline', { consumer: this.computeFunction.function });
    this.streamRouterFunction = new PceFunction(this, 'StreamRouterFunction', {
      entry: 'lambdas/stream-router.ts',
      description: `Global-table stream router of ${pce.fqdn}`,
      runtimeEnvironment: { ...runtimeEnvironment, computeQueueUrl: this.computePipeline.queue.queueUrl },
      timeout: Duration.minutes(1),
    });
    this.streamFailuresFunction = new PceFunction(this, 'StreamFailuresFunction', {
      entry: 'lambdas/stream-failures.ts',
      description: `Replica stream failures of ${pce.fqdn}: log each failed batch, queue a reconcile`,
      runtimeEnvironment: { ...runtimeEnvironment, computeQueueUrl: this.computePipeline.queue.queueUrl },
      timeout: Duration.seconds(10),
      memorySize: 256,
    });
    this.replicaStream = new ReplicaStream(this, 'ReplicaStream', {
      replica: this.globalReplica.table,
      router: this.streamRouterFunction.function,
      failureHandler: this.streamFailuresFunction.function,
    });
    this.scheduledFunction = new PceFunction(this, 'ScheduledFunction', {
      entry: 'lambdas/scheduled.ts',
      description: `Scheduled operations of ${pce.fqdn}`,
      runtimeEnvironment,
      timeout: Duration.seconds(50),
      memorySize: 256,
      extraEnvironment: { [ENV.probesPerInvocation]: String(probesPerMinute(props.config.probe_interval_seconds)) },
    });
    this.scheduledOps = new ScheduledOps(this, 'ScheduledOps', { handler: this.scheduledFunction.function });
    this.venChannelFunction = new PceFunction(this, 'VenChannelFunction', {
      entry: 'lambdas/ven-channel.ts',
      description: `VEN push channel ($connect/$disconnect/$default) of ${pce.fqdn}`,
      runtimeEnvironment,
      timeout: Duration.seconds(10),
      memorySize: 256,
    });
    this.venChannel = new VenChannel(this, 'VenChannel', { handler: this.venChannelFunction.function, pceFqdn: pce.fqdn });

    // the leader lease: in the lease replica region nearest this PCE (it may hold no replica of its own)
    const leaseRegion = leaseRegionFor(leasePlacementOf(config), pce.region);
    const data = {
      leaderLeaseArn: Stack.of(this).formatArn({ service: 'dynamodb', region: leaseRegion, resource: 'table', resourceName: leaseTableName(config) }),
      globalReplica: this.globalReplica.table,
      localTable: this.localData.table,
      computeQueue: this.computePipeline.queue,
      deadLetterQueue: this.computePipeline.deadLetterQueue,
      venChannelStage: this.venChannel.stage,
      // by name: the replicas are created by the global data stack, no cross-stack reference
      otherReplicaArns: config.pces
        .filter((p) => p.region !== pce.region)
        .map((p) => Stack.of(this).formatArn({ service: 'dynamodb', region: p.region, resource: 'table', resourceName: globalTableName(config) })),
    };
    this.apiFunction.function.addEnvironment(ENV.computeDlqUrl, this.computePipeline.deadLetterQueue.queueUrl);
    // the consumer shortens the visibility of jobs whose policy version is still replicating (its event source grants ChangeMessageVisibility)
    this.computeFunction.function.addEnvironment(ENV.computeQueueUrl, this.computePipeline.queue.queueUrl);
    // a job that is not a ComputeJobV1 goes straight to the DLQ instead of blocking its FIFO group
    this.computeFunction.function.addEnvironment(ENV.computeDlqUrl, this.computePipeline.deadLetterQueue.queueUrl);
    // the hourly reconcile job goes onto the compute queue
    this.scheduledFunction.function.addEnvironment(ENV.computeQueueUrl, this.computePipeline.queue.queueUrl);
    grantDataAccess(this.apiFunction.function, PCE_FUNCTION_ACCESS.api, data);
    grantDataAccess(this.identityFunction.function, PCE_FUNCTION_ACCESS.identity, data);
    grantDataAccess(this.streamFailuresFunction.function, PCE_FUNCTION_ACCESS.streamFailures, data);
    grantDataAccess(this.streamRouterFunction.function, PCE_FUNCTION_ACCESS.streamRouter, data);
    grantDataAccess(this.computeFunction.function, PCE_FUNCTION_ACCESS.compute, data);
    grantDataAccess(this.scheduledFunction.function, PCE_FUNCTION_ACCESS.scheduled, data);
    grantDataAccess(this.venChannelFunction.function, PCE_FUNCTION_ACCESS.venChannel, data);
    const leaseHolders = { api: this.apiFunction, identity: this.identityFunction, scheduled: this.scheduledFunction };
    for (const name of LEASE_FUNCTIONS) {
      leaseHolders[name].function.addEnvironment(ENV.leaseTable, leaseTableName(config));
      leaseHolders[name].function.addEnvironment(ENV.leaseRegion, leaseRegion);
    }
    const functions = { api: this.apiFunction, streamRouter: this.streamRouterFunction, compute: this.computeFunction };
    for (const name of PUSHING_FUNCTIONS) {
      // the api hands push_url to activating VENs; all three post policy, reassign and unpaired pushes
      functions[name].function.addEnvironment(ENV.venChannelUrl, this.venChannel.url);
      functions[name].function.addEnvironment(ENV.venChannelManagementUrl, this.venChannel.managementUrl);
    }

    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: config.hosted_zone.id,
      zoneName: config.hosted_zone.name,
    });
    this.regionalApi = new RegionalApi(this, 'RegionalApi', {
      handler: this.apiFunction.function,
      identityHandler: this.identityFunction.function,
      zone,
      pceFqdn: pce.fqdn,
      superclusterFqdn: config.supercluster_fqdn,
      leaderFqdn: config.leader_fqdn,
    });

    this.alarms = new PceAlarms(this, 'Alarms', {
      pceFqdn: pce.fqdn,
      computeDeadLetterQueue: this.computePipeline.deadLetterQueue,
      streamFailureQueue: this.replicaStream.failureQueue,
      computeFunction: this.computeFunction.function,
      streamRouterFunction: this.streamRouterFunction.function,
      httpApi: this.regionalApi.httpApi,
      globalTableName: globalTableName(config),
      peerRegions: config.pces.filter((p) => p.region !== pce.region).map((p) => p.region),
    });

    // a replication pause may delay what this PCE sees, never make its API fail: the experiment stops on any 5xx
    const apiServerErrors = this.alarms.alarms.find((alarm) => alarm.node.id === 'ApiServerErrors');
    if (apiServerErrors === undefined) throw new Error(`RegionalPceStack ${id}: no ApiServerErrors alarm to stop a region fault on`);
    this.regionFault = new RegionFault(this, 'RegionFault', {
      pceFqdn: pce.fqdn,
      replicaArn: this.globalReplica.table.tableArn,
      stopAlarm: apiServerErrors,
    });

    new CfnOutput(this, 'PceFqdn', { value: pce.fqdn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'subscribe operators here (email, chat, paging)' });
    new CfnOutput(this, 'ComputeQueueUrl', { value: this.computePipeline.queue.queueUrl });
    new CfnOutput(this, 'RegionFaultExperimentTemplateId', {
      value: this.regionFault.template.attrId,
      description: `pause global-table replication of this region (${this.regionFault.duration}): aws fis start-experiment --region ${pce.region} --experiment-template-id <this value>`,
    });
    new CfnOutput(this, 'VenChannelUrl', { value: this.venChannel.url, description: 'the VEN push channel (WebSocket) VENs of this PCE connect to' });
  }
}
