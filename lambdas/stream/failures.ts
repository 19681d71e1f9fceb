/**
 * The replica stream's on-failure queue as a Lambda SQS event: every message is a record of a stream batch
 * the stream router gave up on. Logs each one's metadata and queues one reconcile job
 * (shared/compute/reconcile.ts). A thrown error (the job could not be queued) fails the batch, which SQS
 * delivers again; the messages stay on the queue meanwhile (its alarm fires while any is visible).
 */
import type { SQSEvent } from 'aws-lambda';
import { reconcileAfterStreamFailures, type StreamFailureDeps } from '../../shared/compute/reconcile.ts';

export function streamFailureHandler(deps: StreamFailureDeps) {
  return async (event: SQSEvent): Promise<void> => {
    await reconcileAfterStreamFailures(deps, event.Records.map((record) => record.body));
  };
}
