/**
 * Anti-entropy on demand: one reconcile job (shared/compute/jobs.ts) on this PCE's compute queue recomputes
 * every workload the PCE manages against the active policy and finishes open provision slices. Queued by the
 * scheduled function (at start, hourly, when listen-only mode ends or the runlevel is back at 5) and whenever
 * the replica stream's consumer gave up on a batch: Lambda then puts a record of the failed batch on the
 * stream's on-failure queue (ReplicaStreamFailureQueue; locally the stream poller's onFailure), and the
 * stream-failures function logs its metadata and queues a reconcile, so what the lost records meant for this
 * PCE is made good without an operator (lambdas/stream-failures.ts).
 */
import { z } from 'zod';
import type { ReconcileJobV1 } from './jobs.ts';
import type { ComputeQueue } from './ports.ts';

export function reconcileJob(orgId: number, requestedAt: number): ReconcileJobV1 {
  return { version: 1, kind: 'reconcile', org_id: orgId, requested_at: requestedAt };
}

export interface ReconcileDeps {
  readonly queue: ComputeQueue;
  readonly orgId: number;
  readonly now: () => number;
}

/** Puts one reconcile job on the compute queue and returns it. */
export async function queueReconcile(deps: ReconcileDeps): Promise<ReconcileJobV1> {
  const job = reconcileJob(deps.orgId, deps.now());
  await deps.queue.send([job]);
  return job;
}

const text = z.string().max(2048);
const count = z.number().int().nonnegative();

/**
 * What Lambda's on-failure destination record of a DynamoDB stream event source holds: where the failed
 * batch lies in the stream, never the records themselves (so no item data, no secret). Unknown fields are
 * ignored and never copied.
 */
const streamFailureRecord = z.object({
  timestamp: text.optional(),
  requestContext: z.object({ requestId: text, functionArn: text, condition: text, approximateInvokeCount: count }).partial().optional(),
  responseContext: z.object({ statusCode: count, functionError: text }).partial().optional(),
  DDBStreamBatchInfo: z
    .object({
      shardId: text,
      startSequenceNumber: text,
      endSequenceNumber: text,
      approximateArrivalOfFirstRecord: text,
      approximateArrivalOfLastRecord: text,
      batchSize: count,
      streamArn: text,
    })
    .partial()
    .optional(),
});

/** The fields of a failed stream batch worth logging: position in the stream and why it failed. */
export interface StreamFailureMetadata {
  readonly condition: string | null;
  readonly functionArn: string | null;
  readonly invokeCount: number | null;
  readonly functionError: string | null;
  readonly streamArn: string | null;
  readonly shardId: string | null;
  readonly startSequenceNumber: string | null;
  readonly endSequenceNumber: string | null;
  readonly batchSize: number | null;
  readonly firstRecordArrival: string | null;
  readonly lastRecordArrival: string | null;
  readonly failedAt: string | null;
}

/** The metadata of one on-failure record (a whitelist: nothing else of the body is kept), or null when it is not one. */
export function streamFailureMetadata(body: unknown): StreamFailureMetadata | null {
  const parsed = streamFailureRecord.safeParse(body);
  if (!parsed.success) return null;
  const { requestContext: request, responseContext: response, DDBStreamBatchInfo: batch, timestamp } = parsed.data;
  if (!batch && !request) return null;
  return {
    condition: request?.condition ?? null,
    functionArn: request?.functionArn ?? null,
    invokeCount: request?.approximateInvokeCount ?? null,
    functionError: response?.functionError ?? null,
    streamArn: batch?.streamArn ?? null,
    shardId: batch?.shardId ?? null,
    startSequenceNumber: batch?.startSequenceNumber ?? null,
    endSequenceNumber: batch?.endSequenceNumber ?? null,
    batchSize: batch?.batchSize ?? null,
    firstRecordArrival: batch?.approximateArrivalOfFirstRecord ?? null,
    lastRecordArrival: batch?.approximateArrivalOfLastRecord ?? null,
    failedAt: timestamp ?? null,
  };
}

export interface StreamFailureDeps extends ReconcileDeps {
  /** one line per failed batch (its metadata), and one when the reconcile job is queued */
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * The stream consumer gave up on some batches: log each one's metadata (an unrecognised body is logged by its
 * size only) and queue ONE reconcile job for all of them. Anything arriving on the failure queue means some
 * change may not have been acted on, so a body that is not a failure record queues a reconcile too.
 * Throws when the job cannot be queued (the failure records are then delivered again).
 */
export async function reconcileAfterStreamFailures(deps: StreamFailureDeps, bodies: readonly string[]): Promise<ReconcileJobV1 | null> {
  if (bodies.length === 0) return null;
  for (const body of bodies) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = null;
    }
    const metadata = streamFailureMetadata(json);
    if (metadata) deps.log('replica stream batch failed', { ...metadata });
    else deps.log('unrecognised message on the replica stream failure queue', { bytes: body.length });
  }
  const job = await queueReconcile(deps);
  deps.log('reconcile job queued', { org_id: job.org_id, why: 'replica stream batch failed', failures: bodies.length });
  return job;
}
