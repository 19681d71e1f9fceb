import { createHash } from 'node:crypto';
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ComputeJobV1 } from '../../compute/jobs.ts';
import type { ComputeQueue } from '../../compute/ports.ts';

export class SqsComputeQueueError extends Error {
  override readonly name = 'SqsComputeQueueError';
}

/** Seconds before a job that failed because its input is still replicating comes back. */
export const RETRY_SOON_SECONDS = 5;

/** The FIFO message group of an org's compute jobs. */
export function computeMessageGroupId(orgId: number): string {
  return `org-${orgId}`;
}

/**
 * The PCE's compute queue: an SQS FIFO queue with one message group per org (its DLQ, also FIFO, takes
 * poison jobs). Lambda runs at most one batch of a message group at a time, in order, so compute runs of
 * one org never overlap on a PCE: two concurrent runs reading the workload facts at different moments
 * could otherwise overwrite a fresher IP set with an older one. The deduplication id is the SHA-256 of the
 * body: an identical job re-sent within SQS's 5-minute deduplication window (a stream batch redelivered to
 * the router) is dropped; distinct jobs differ (they carry requested_at).
 */
export class SqsComputeQueue implements ComputeQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    /** the queue's DLQ: where a message that can never succeed goes at once (deadLetter) */
    private readonly deadLetterQueueUrl?: string,
  ) {}

  /**
   * Moves a message that no retry can fix (a body that is not a ComputeJobV1) straight to the DLQ, with
   * the reason, instead of letting it block its FIFO group for maxReceiveCount visibility timeouts.
   * The caller then reports the message as processed.
   */
  async deadLetter(message: { body: string; messageId: string; groupId?: string }, reason: string): Promise<void> {
    if (!this.deadLetterQueueUrl) throw new SqsComputeQueueError('no dead-letter queue configured (COMPUTE_DLQ_URL)');
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: message.body,
        MessageGroupId: message.groupId ?? 'invalid',
        // one DLQ entry per original message, even if the move is retried
        MessageDeduplicationId: message.messageId,
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
      }),
    );
  }

  /**
   * Makes a received job visible again in RETRY_SOON_SECONDS (instead of after the visibility timeout).
   * On the FIFO queue this also unblocks the job's org sooner: its group delivers nothing while the job is in flight.
   */
  async retrySoon(receiptHandle: string): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: RETRY_SOON_SECONDS }));
  }

  async send(jobs: readonly ComputeJobV1[]): Promise<void> {
    for (let i = 0; i < jobs.length; i += 10) {
      const batch = jobs.slice(i, i + 10);
      const out = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((job, j) => {
            const body = JSON.stringify(job);
            return { Id: String(j), MessageBody: body, MessageGroupId: computeMessageGroupId(job.org_id), MessageDeduplicationId: createHash('sha256').update(body).digest('hex') };
          }),
        }),
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
