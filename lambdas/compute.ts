/**
 * Lambda entry point: the compute queue consumer (SQS FIFO queue, one message group per org,
 * ReportBatchItemFailures). Each job is validated against the ComputeJobV1 contract and run by the
 * ComputeService (a body that is not one goes straight to the DLQ); a batch stops at its first failing job, which is reported with every later job so each
 * org's jobs keep their order (compute/run-jobs.ts). A failed job comes back after the visibility timeout
 * (in seconds when its input is still replicating or another run of the org intervened), and after
 * maxReceiveCount it lands in the DLQ, which /health reports.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ComputeService } from '../shared/compute/compute-service.ts';
import { PolicyCompiler } from '../shared/policy/compiler/engine.ts';
import { runComputeJobs } from './compute/run-jobs.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();
// module scope: a warm runtime keeps its compiler and applies workload changes incrementally
const compute = new ComputeService({
  selfFqdn: pce.runtime.pce.fqdn,
  policies: pce.policySnapshots,
  workloads: pce.workloadStore,
  compiled: pce.compiled,
  createCompiler: (snapshot, workloads) => new PolicyCompiler(snapshot, workloads),
  logger: pce.logger,
  // connected VENs are pushed what each run stored (null without a VEN channel)
  ...(pce.publisher ? { publisher: pce.publisher } : {}),
});
const queue = pce.computeQueue;

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> =>
  runComputeJobs(event.Records, {
    compute,
    logger: pce.logger,
    ...(queue ? { retrySoon: (receiptHandle: string) => queue.retrySoon(receiptHandle), deadLetter: (message, reason) => queue.deadLetter(message, reason) } : {}),
  });
