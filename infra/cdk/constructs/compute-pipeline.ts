/**
 * The policy compute pipeline of one PCE: the compute queue (jobs from the stream router), its
 * dead-letter queue, and the compute function consuming it with partial batch failures.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** AWS guidance: queue visibility timeout at least 6 x the consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
export const COMPUTE_MAX_RECEIVE_COUNT = 5;

export interface ComputePipelineProps {
  /** The compute function; its timeout sets the queue's visibility timeout. */
  readonly consumer: lambda.Function;
  /** @default 10 */
  readonly batchSize?: number;
  /** Caps concurrent compute invocations of this PCE. @default no cap */
  readonly maxConcurrency?: number;
}

export class ComputePipeline extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ComputePipelineProps) {
    super(scope, id);
    const consumerTimeout = props.consumer.timeout ?? Duration.seconds(3);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: COMPUTE_MAX_RECEIVE_COUNT },
    });

    props.consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        reportBatchItemFailures: true,
        ...(props.maxConcurrency === undefined ? {} : { maxConcurrency: props.maxConcurrency }),
      }),
    );
  }
}
