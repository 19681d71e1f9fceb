/**
 * Lambda entry point: the compute queue consumer (SQS, ReportBatchItemFailures). Each job is validated
 * against the ComputeJobV1 contract and run by the ComputeService; a job that fails is reported alone
 * and comes back after the visibility timeout (a version still replicating simply retries), and after
 * maxReceiveCount it lands in the DLQ, which /health reports.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ComputeService } from '../shared/compute/compute-service.ts';
import { parseComputeJob, type ComputeJobV1 } from '../shared/compute/jobs.ts';
import { PolicyCompiler } from '../shared/policy/compiler/engine.ts';
import { SnapshotIncompleteError } from '../shared/policy/snapshot/errors.ts';
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
  const valid: { messageId: string; job: ComputeJobV1 }[] = [];
  for (const record of event.Records) {
    try {
      valid.push({ messageId: record.messageId, job: parseComputeJob(record.body) });
    } catch (error) {
      pce.logger.warn('compute job rejected', { messageId: record.messageId, error: error as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  const started = Date.now();
  try {
    const outcome = await compute.runBatch(valid.map((v) => v.job));
    pce.logger.info('compute batch done', { jobs: valid.length, ms: Date.now() - started, ...outcome });
  } catch (batchError) {
    // isolate the failing job(s): the others succeed, the failures come back after the visibility timeout
    pce.logger.warn('compute batch failed; running its jobs one by one', { error: batchError as Error });
    for (const { messageId, job } of valid) {
      try {
        await compute.run(job);
      } catch (error) {
        pce.logger.warn('compute job failed', { messageId, kind: job.kind, error: error as Error });
        batchItemFailures.push({ itemIdentifier: messageId });
        // a version still replicating is worth retrying in seconds, not after the full visibility timeout
        const receipt = event.Records.find((r) => r.messageId === messageId)?.receiptHandle;
        if (error instanceof SnapshotIncompleteError && receipt) await pce.computeQueue?.retrySoon(receipt).catch(() => undefined);
      }
    }
  }
  return { batchItemFailures };
};
