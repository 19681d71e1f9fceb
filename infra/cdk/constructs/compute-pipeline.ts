/**
 * The policy compute pipeline of one PCE: the compute queue (jobs from the stream router), its
 * dead-letter queue, and the compute function consuming it with partial batch failures.
 *
 * Both queues are FIFO (a FIFO queue's DLQ must be FIFO too). The router puts each org's jobs in their own
 * message group, and Lambda runs at most one batch of a message group at a time, in order: compute runs of
 * one org never overlap on this PCE, so a run that read the workload facts earlier cannot overwrite the IP
 * sets of a run that read them later. Different orgs still run in parallel. CloudFormation names the
 * queues itself (with the required `.fifo` suffix).
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
  /** Jobs per invocation, 1 to 10 (the maximum for a FIFO queue). @default 10 */
  readonly batchSize?: number;
  /**
   * Caps concurrent compute invocations of this PCE (2 to 1000). With the FIFO queue at most one batch per
   * org runs at a time anyway, so this only bounds how many orgs compute at once. @default no cap
   */
  readonly maxConcurrency?: number;
}

export class ComputePipeline extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ComputePipelineProps) {
    super(scope, id);
    const consumerTimeout = props.consumer.timeout ?? Duration.seconds(3);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: COMPUTE_MAX_RECEIVE_COUNT },
    });

    props.consumer.addEventSource(
      new SqsEventSource(this.queue, {
        // no maxBatchingWindow: not allowed for FIFO queues (CDK rejects it, and a batchSize above 10 without it)
        batchSize: props.batchSize ?? 10,
        reportBatchItemFailures: true,
        ...(props.maxConcurrency === undefined ? {} : { maxConcurrency: props.maxConcurrency }),
      }),
    );
  }
}
