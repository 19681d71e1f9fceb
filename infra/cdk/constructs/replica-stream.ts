/**
 * Routes this region's global-table replica stream to the stream router function: partial batch
 * failures, bisect on error, bounded retries, and an SQS on-failure destination for records that
 * still fail (their metadata, not the record; replay from the table).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const STREAM_RETRY_ATTEMPTS = 5;

export interface ReplicaStreamProps {
  /** The replica, with its stream ARN (GlobalReplica.table). */
  readonly replica: dynamodb.ITable;
  readonly router: lambda.Function;
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
      reason: 'This queue is itself the terminal on-failure destination of the stream event source mapping; operators drain it.',
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
  }
}
