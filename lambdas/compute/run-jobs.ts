/**
 * The compute queue consumer's batch logic, apart from the entry point so it can be tested without a
 * runtime. The compute queue is an SQS FIFO queue with one message group per org: Lambda hands over a
 * group's messages in order and runs at most one batch of a group at a time. With ReportBatchItemFailures
 * on a FIFO queue, a batch must stop at its first failure and report that message and every later one
 * (AWS: "stop processing messages after the first failure and return all failed and unprocessed
 * messages"), or a later job of the org would run, and be deleted, before the earlier one it follows.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { ComputeConflictError, type ComputeOutcome } from '../../shared/compute/compute-service.ts';
import { parseComputeJob, type ComputeJobV1 } from '../../shared/compute/jobs.ts';
import { SnapshotIncompleteError } from '../../shared/policy/snapshot/errors.ts';

/** What runs the jobs (the ComputeService). */
export interface ComputeRunner {
  runBatch(jobs: readonly ComputeJobV1[]): Promise<ComputeOutcome>;
  run(job: ComputeJobV1): Promise<ComputeOutcome>;
}

export interface RunComputeJobsDeps {
  readonly compute: ComputeRunner;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** Makes a received message visible again in seconds (SqsComputeQueue.retrySoon); none: the visibility timeout applies. */
  readonly retrySoon?: (receiptHandle: string) => Promise<void>;
  /** Moves a message no retry can fix to the DLQ (SqsComputeQueue.deadLetter); none: it fails until maxReceiveCount. */
  readonly deadLetter?: (message: { body: string; messageId: string; groupId?: string }, reason: string) => Promise<void>;
}

/**
 * Failures worth retrying in seconds rather than after the visibility timeout: a provision still
 * replicating here, or another compute run of the org that completed during this one.
 */
export function isRetrySoonError(error: unknown): boolean {
  return error instanceof SnapshotIncompleteError || error instanceof ComputeConflictError;
}

/**
 * Runs a batch of compute messages in order and returns the FIFO partial-batch response:
 * - the bodies are parsed in order; one that is not a ComputeJobV1 goes straight to the DLQ (deadLetter) and
 *   counts as processed; without a DLQ (or if the move fails) it is the first failure;
 * - the valid jobs before it run together (one read of the facts, one write); if that fails they run one
 *   by one, in order, up to the first that fails;
 * - the messages before the first failure succeed; the failed one and every later one (not run) are reported.
 * The later ones are made visible again soon, and so is the failed one when its error is worth a quick
 * retry: on a FIFO queue any in-flight message blocks its group, so leaving them for the whole visibility
 * timeout would stall their orgs (other orgs' jobs in the batch come back in seconds; the failed org's
 * stay behind its failed job, which SQS delivers first).
 */
export async function runComputeJobs(records: readonly SQSRecord[], deps: RunComputeJobsDeps): Promise<SQSBatchResponse> {
  const { compute, logger } = deps;
  let failedAt = records.length;
  let failure: unknown;
  /** the valid jobs before the first failure, with their index in `records` */
  const valid: { at: number; job: ComputeJobV1 }[] = [];
  for (const [i, record] of records.entries()) {
    try {
      valid.push({ at: i, job: parseComputeJob(record.body) });
    } catch (error) {
      // no retry can fix a body that is not a ComputeJobV1: straight to the DLQ, so it does not block its group
      if (deps.deadLetter && (await moveToDeadLetters(record, error, deps))) continue;
      logger.warn('compute job rejected', { messageId: record.messageId, error: error as Error });
      failedAt = i;
      failure = error;
      break;
    }
  }

  if (valid.length > 0) {
    const started = Date.now();
    try {
      const outcome = await compute.runBatch(valid.map((v) => v.job));
      logger.info('compute batch done', { jobs: valid.length, ms: Date.now() - started, ...outcome });
    } catch (batchError) {
      // find the first failing job; those before it succeed, it and the rest come back in order
      logger.warn('compute batch failed; running its jobs one by one', { error: batchError as Error });
      for (const { at, job } of valid) {
        try {
          await compute.run(job);
        } catch (error) {
          logger.warn('compute job failed', { messageId: records[at]?.messageId, kind: job.kind, orgId: job.org_id, error: error as Error });
          failedAt = at;
          failure = error;
          break;
        }
      }
    }
  }

  const failed = records.slice(failedAt);
  if (failed.length === 0) return { batchItemFailures: [] };
  if (failed.length > 1) logger.warn('compute batch stopped at its first failure; the later jobs were not run', { failedAt, notRun: failed.length - 1 });
  const { retrySoon } = deps;
  if (retrySoon) {
    const soon = isRetrySoonError(failure) ? failed : failed.slice(1);
    await Promise.all(
      soon.map((r) => retrySoon(r.receiptHandle).catch((error: unknown) => logger.warn('could not shorten a compute job retry', { messageId: r.messageId, error: error as Error }))),
    );
  }
  return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
}

/** true when the message is now in the DLQ (and may be reported as processed) */
async function moveToDeadLetters(record: SQSRecord, error: unknown, deps: RunComputeJobsDeps): Promise<boolean> {
  const reason = error instanceof Error ? error.message : String(error);
  try {
    await deps.deadLetter?.({ body: record.body, messageId: record.messageId, ...(record.attributes.MessageGroupId ? { groupId: record.attributes.MessageGroupId } : {}) }, reason);
    deps.logger.warn('compute job is not a ComputeJobV1: moved to the DLQ', { messageId: record.messageId, reason });
    return true;
  } catch (dlqError) {
    deps.logger.warn('could not move an invalid compute job to the DLQ; it is retried until maxReceiveCount', { messageId: record.messageId, error: dlqError as Error });
    return false;
  }
}
