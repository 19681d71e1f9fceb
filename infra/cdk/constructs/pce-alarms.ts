/**
 * The alarms of one PCE, published to an SNS topic operators subscribe to (output `AlarmTopicArn`):
 * - compute jobs in the DLQ: a job failed maxReceiveCount times or was not a valid job (the same
 *   condition /api/v2/health reports as `compute_dead_letters`);
 * - compute function errors: crashes, timeouts, out of memory (failures the consumer could not report
 *   per job through batchItemFailures);
 * - stream router iterator age over a minute: this PCE reacts late to replicated changes;
 * - replication from this region to each other PCE region over 30 s (the seed's warning threshold;
 *   DynamoDB publishes ReplicationLatency in the region the write came from);
 * - any API 5xx: the API never answers 5xx to bad input, so every one is a fault;
 * - the replica stream's on-failure queue: a record arrived (the stream router gave up on a batch; a reconcile
 *   is queued for it) and messages stay visible (the stream-failures function could not queue the reconcile).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The seed: a supercluster's health turns to warning when replication lags more than 30 s. */
export const REPLICATION_LAG_ALARM_MS = 30_000;
export const STREAM_ITERATOR_AGE_ALARM_MS = 60_000;

export interface PceAlarmsProps {
  readonly pceFqdn: string;
  readonly computeDeadLetterQueue: sqs.IQueue;
  /** ReplicaStreamFailureQueue: the replica stream event source's on-failure destination */
  readonly streamFailureQueue: sqs.IQueue;
  readonly computeFunction: lambda.IFunction;
  readonly streamRouterFunction: lambda.IFunction;
  readonly httpApi: apigwv2.IHttpApi;
  readonly globalTableName: string;
  /** the other PCE regions: replication from this region into each is watched */
  readonly peerRegions: readonly string[];
}

export class PceAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PceAlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: `PCE alarms of ${props.pceFqdn}`, enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'Alarm notifications carry metric names and thresholds only; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key per PCE is not worth its cost here.',
    });
    const five = Duration.minutes(5);
    const add = (name: string, description: string, metric: cloudwatch.IMetric, threshold: number) => {
      const alarm = new cloudwatch.Alarm(this, name, {
        alarmDescription: `${props.pceFqdn}: ${description}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(alarm);
    };

    add('ComputeDeadLetters', 'policy compute jobs wait in the dead-letter queue', props.computeDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }), 1);
    add('ComputeErrors', 'the compute function crashed, timed out or ran out of memory', props.computeFunction.metricErrors({ period: five, statistic: 'Sum' }), 1);
    add(
      'StreamRouterIteratorAge',
      'the stream router is more than a minute behind the replica stream',
      props.streamRouterFunction.metric('IteratorAge', { period: five, statistic: 'Maximum' }),
      STREAM_ITERATOR_AGE_ALARM_MS,
    );
    add(
      'ReplicaStreamFailures',
      'the stream router gave up on a replica stream batch (a reconcile job was queued for it; see the stream-failures function log)',
      props.streamFailureQueue.metricNumberOfMessagesSent({ period: five, statistic: 'Sum' }),
      1,
    );
    add(
      'ReplicaStreamFailuresWaiting',
      'stream failure records wait on the on-failure queue: the stream-failures function could not queue a reconcile',
      props.streamFailureQueue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }),
      1,
    );
    add('ApiServerErrors', 'the API answered 5xx', props.httpApi.metricServerError({ period: five, statistic: 'Sum' }), 1);
    for (const receiving of props.peerRegions) {
      add(
        `ReplicationLatencyTo${receiving.replace(/[^a-zA-Z0-9]/g, '')}`,
        `replication to ${receiving} lags more than 30 s`,
        new cloudwatch.Metric({
          namespace: 'AWS/DynamoDB',
          metricName: 'ReplicationLatency',
          dimensionsMap: { TableName: props.globalTableName, ReceivingRegion: receiving },
          period: five,
          statistic: 'Average',
        }),
        REPLICATION_LAG_ALARM_MS,
      );
    }
  }
}
