/**
 * Lambda entry point: the compute queue consumer (SQS, ReportBatchItemFailures).
 * Today it validates each job against the ComputeJobV1 contract and reports invalid ones as failures
 * (they end in the DLQ after maxReceiveCount). Policy compilation itself is issue 3.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseComputeJob } from '../shared/compute/jobs.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const job = parseComputeJob(record.body);
      pce.logger.info('compute job received', { kind: job.kind, org_id: job.org_id, reason: job.reason });
    } catch (error) {
      pce.logger.warn('compute job rejected', { messageId: record.messageId, error: error as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
