/**
 * One PCE's region: its local table, the four functions (api, stream router, compute, scheduled),
 * the compute pipeline, the regional API with its custom domains, the PCE's own DNS record, and its
 * alarms.
 * It reaches its global-table replica by name only: no cross-stack or cross-region references.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { ENV, probesPerMinute } from '../../../shared/runtime/env.ts';
import { globalTableName, localTableName } from '../../../shared/storage/tables.ts';
import type { PceConfig, SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { ComputePipeline } from '../constructs/compute-pipeline.ts';
import { grantDataAccess, type DataAccess } from '../constructs/data-access.ts';
import { GlobalReplica } from '../constructs/global-replica.ts';
import { LocalData } from '../constructs/local-data.ts';
import { PceAlarms } from '../constructs/pce-alarms.ts';
import { PceFunction, type PceRuntimeEnvironment } from '../constructs/pce-function.ts';
import { RegionalApi } from '../constructs/regional-api.ts';
import { ReplicaStream } from '../constructs/replica-stream.ts';
import { ScheduledOps } from '../constructs/scheduled-ops.ts';

/** What each function may touch; everything else is denied. */
export const PCE_FUNCTION_ACCESS = {
  api: { global: 'read-write', local: 'read-write', deadLetters: 'inspect' },
  streamRouter: { global: 'read', local: 'read-write', computeQueue: 'send' },
  compute: { global: 'read', local: 'read-write', deadLetters: 'send' },
  scheduled: { global: 'probe-write', local: 'read-write', computeQueue: 'send' },
} as const satisfies Record<string, DataAccess>;

export interface RegionalPceStackProps extends StackProps {
  readonly config: SuperclusterConfig;
  readonly pce: PceConfig;
}

export class RegionalPceStack extends Stack {
  readonly pce: PceConfig;
  readonly localData: LocalData;
  readonly globalReplica: GlobalReplica;
  readonly apiFunction: PceFunction;
  readonly streamRouterFunction: PceFunction;
  readonly computeFunction: PceFunction;
  readonly scheduledFunction: PceFunction;
  readonly computePipeline: ComputePipeline;
  readonly replicaStream: ReplicaStream;
  readonly scheduledOps: ScheduledOps;
  readonly regionalApi: RegionalApi;
  readonly alarms: PceAlarms;

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
    this.replicaStream = new ReplicaStream(this, 'ReplicaStream', {
      replica: this.globalReplica.table,
      router: this.streamRouterFunction.function,
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

    const data = {
      globalReplica: this.globalReplica.table,
      localTable: this.localData.table,
      computeQueue: this.computePipeline.queue,
      deadLetterQueue: this.computePipeline.deadLetterQueue,
    };
    this.apiFunction.function.addEnvironment(ENV.computeDlqUrl, this.computePipeline.deadLetterQueue.queueUrl);
    // the consumer shortens the visibility of jobs whose policy version is still replicating (its event source grants ChangeMessageVisibility)
    this.computeFunction.function.addEnvironment(ENV.computeQueueUrl, this.computePipeline.queue.queueUrl);
    // a job that is not a ComputeJobV1 goes straight to the DLQ instead of blocking its FIFO group
    this.computeFunction.function.addEnvironment(ENV.computeDlqUrl, this.computePipeline.deadLetterQueue.queueUrl);
    // the hourly reconcile job goes onto the compute queue
    this.scheduledFunction.function.addEnvironment(ENV.computeQueueUrl, this.computePipeline.queue.queueUrl);
    grantDataAccess(this.apiFunction.function, PCE_FUNCTION_ACCESS.api, data);
    grantDataAccess(this.streamRouterFunction.function, PCE_FUNCTION_ACCESS.streamRouter, data);
    grantDataAccess(this.computeFunction.function, PCE_FUNCTION_ACCESS.compute, data);
    grantDataAccess(this.scheduledFunction.function, PCE_FUNCTION_ACCESS.scheduled, data);

    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: config.hosted_zone.id,
      zoneName: config.hosted_zone.name,
    });
    this.regionalApi = new RegionalApi(this, 'RegionalApi', {
      handler: this.apiFunction.function,
      zone,
      pceFqdn: pce.fqdn,
      superclusterFqdn: config.supercluster_fqdn,
      leaderFqdn: config.leader_fqdn,
    });

    this.alarms = new PceAlarms(this, 'Alarms', {
      pceFqdn: pce.fqdn,
      computeDeadLetterQueue: this.computePipeline.deadLetterQueue,
      computeFunction: this.computeFunction.function,
      streamRouterFunction: this.streamRouterFunction.function,
      httpApi: this.regionalApi.httpApi,
      globalTableName: globalTableName(config),
      peerRegions: config.pces.filter((p) => p.region !== pce.region).map((p) => p.region),
    });

    new CfnOutput(this, 'PceFqdn', { value: pce.fqdn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'subscribe operators here (email, chat, paging)' });
    new CfnOutput(this, 'ComputeQueueUrl', { value: this.computePipeline.queue.queueUrl });
  }
}
