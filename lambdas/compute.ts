/**
 * Lambda entry point: the compute queue consumer (SQS, ReportBatchItemFailures). Each job is validated
 * against the ComputeJobV1 contract and run by the ComputeService; a job that fails is reported alone
 * and comes back after the visibility timeout (a version still replicating simply retries), and after
 * maxReceiveCount it lands in the DLQ, which /health reports.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ComputeService } from '../shared/compute/compute-service.ts';
import { parseComputeJob } from '../shared/compute/jobs.ts';
import { PolicyCompiler } from '../shared/policy/compiler/engine.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();
// module scope: a warm runtime keeps its compiler and applies workload changes incrementally
const compute = new ComputeService({
  selfFqdn: pce.runtime.pce.fqdn,
  policies: pce.policySnapshots,
  workloads: pce.workloadStore,
  compiled: pce.compiled,
  createCompiler: (snapshot, workloads) => new PolicyCompiler(snapshot, workloads),
});

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const job = parseComputeJob(record.body);
      const started = Date.now();
      const outcome = await compute.run(job);
      pce.logger.info('compute job done', { kind: job.kind, ms: Date.now() - started, ...outcome });
    } catch (error) {
      pce.logger.warn('compute job failed', { messageId: record.messageId, receiveCount: record.attributes.ApproximateReceiveCount, error: error as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
