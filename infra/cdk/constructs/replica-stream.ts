/**
 * Routes this region's global-table replica stream to the stream router function: partial batch
 * failures, bisect on error, bounded retries, and an SQS on-failure destination for records that
 * still fail (their metadata, not the record), consumed by the stream-failures function, which logs that
 * metadata and queues a reconcile job (shared/compute/reconcile.ts). A message it cannot handle stays on
 * the queue (14 days) and the PCE's alarm on the queue's visible messages fires.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const STREAM_RETRY_ATTEMPTS = 5;

export interface ReplicaStreamProps {
  /** The replica, with its stream ARN (GlobalReplica.table). */
  readonly replica: dynamodb.ITable;
  readonly router: lambda.Function;
  /** consumes the on-failure queue (the stream-failures function) */
  readonly failureHandler: lambda.Function;
  /** @default 100 */
  readonly batchSize?: number;
}

export class ReplicaStream extends Construct {
  readonly failureQueue: sqs.Queue;
  readonly eventSource: DynamoEventSource;

  constructor(scope: Construct, id: string, props: ReplicaStreamProps) {
    super(scope, id);
    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the terminal on-failure destination of the stream event source mapping; its consumer queues a reconcile for each batch of messages, and a message it cannot handle stays here (14 days) while the PCE alarm on visible messages fires.',
    });

    this.eventSource = new DynamoEventSource(props.replica, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 100,
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: STREAM_RETRY_ATTEMPTS,
      maxRecordAge: Duration.hours(24),
      // One shard, one batch at a time: changes to the same item arrive in order.
      parallelizationFactor: 1,
      onFailure: new SqsDlq(this.failureQueue),
    });
    props.router.addEventSource(this.eventSource);
    // one reconcile covers every failure of a batch; a failed invocation leaves the messages for a retry
    props.failureHandler.addEventSource(new SqsEventSource(this.failureQueue, { batchSize: 10, maxBatchingWindow: Duration.seconds(5) }));
  }
}
