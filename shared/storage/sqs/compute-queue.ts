import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ComputeJobV1 } from '../../compute/jobs.ts';
import type { ComputeQueue } from '../../compute/ports.ts';

export class SqsComputeQueueError extends Error {
  override readonly name = 'SqsComputeQueueError';
}

/** Seconds before a job that failed because its input is still replicating comes back. */
export const RETRY_SOON_SECONDS = 5;

/** The PCE's compute queue (SQS standard queue; its DLQ takes poison jobs). */
export class SqsComputeQueue implements ComputeQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Makes a received job visible again in RETRY_SOON_SECONDS (instead of after the visibility timeout). */
  async retrySoon(receiptHandle: string): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: RETRY_SOON_SECONDS }));
  }

  async send(jobs: readonly ComputeJobV1[]): Promise<void> {
    for (let i = 0; i < jobs.length; i += 10) {
      const batch = jobs.slice(i, i + 10);
      const out = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((job, j) => ({ Id: String(j), MessageBody: JSON.stringify(job) })) }),
      );
      if (out.Failed && out.Failed.length > 0) throw new SqsComputeQueueError(`SQS refused ${out.Failed.length} compute job(s): ${out.Failed.map((f) => f.Message ?? f.Code).join('; ')}`);
    }
  }
}

/** Depth of a queue (the compute DLQ, for /health). */
export async function approximateQueueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}
