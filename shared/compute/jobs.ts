/**
 * Messages on a PCE's compute queue: versioned contracts, validated where they enter.
 * The stream router produces them from changes on this region's replica; the compute Lambda consumes them.
 * Every job is idempotent: it recomputes from the current replicated state and writes only what changed.
 */
import { z } from 'zod';

const base = {
  version: z.literal(1),
  org_id: z.number().int().positive(),
  requested_at: z.number().int().nonnegative(),
};

/** A provision: recompute slice `slice` of `slices` of the workloads this PCE manages. */
export const recomputeAllJobV1 = z.strictObject({
  ...base,
  kind: z.literal('recompute_all'),
  policy_version: z.number().int().positive(),
  slice: z.number().int().nonnegative(),
  slices: z.number().int().positive(),
});

/** Workloads' labels, modes or addresses changed (anywhere in the supercluster); a bulk change is one job. */
export const workloadChangedJobV1 = z.strictObject({
  ...base,
  kind: z.literal('workload_changed'),
  workload_ids: z.array(z.string().min(1).max(64)).min(1).max(500),
});

/** Workload ids per workload_changed job (keeps a message far below SQS's 256 KB). */
export const WORKLOADS_PER_CHANGE_JOB = 500;

/**
 * Anti-entropy: recompute every workload this PCE manages against the active version and finish the
 * provision's open slices. Sent when a PCE starts (the local queues do not survive a restart) and on a
 * schedule, so a job lost or parked in the DLQ is made good without an operator.
 */
/** How often a PCE queues a reconcile job (the CDK schedule and the local cloud's timer). */
export const RECONCILE_INTERVAL_MINUTES = 60;

export const reconcileJobV1 = z.strictObject({
  ...base,
  kind: z.literal('reconcile'),
});

export const computeJobV1 = z.discriminatedUnion('kind', [recomputeAllJobV1, workloadChangedJobV1, reconcileJobV1]);

export type ComputeJobV1 = z.infer<typeof computeJobV1>;
export type RecomputeAllJobV1 = z.infer<typeof recomputeAllJobV1>;
export type WorkloadChangedJobV1 = z.infer<typeof workloadChangedJobV1>;
export type ReconcileJobV1 = z.infer<typeof reconcileJobV1>;

export class InvalidComputeJobError extends Error {
  override readonly name = 'InvalidComputeJobError';
}

export function parseComputeJob(body: string): ComputeJobV1 {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new InvalidComputeJobError('compute job is not JSON', { cause });
  }
  const result = computeJobV1.safeParse(json);
  if (!result.success) throw new InvalidComputeJobError(`not a ComputeJobV1: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

/** Workloads per recompute_all slice: one SQS message covers this many managed workloads. */
export const WORKLOADS_PER_SLICE = 250;

/** The slice a workload belongs to: stable, so redelivered slices cover the same workloads. */
export function sliceOf(workloadId: string, slices: number): number {
  let h = 2166136261;
  for (let i = 0; i < workloadId.length; i++) h = Math.imul(h ^ workloadId.charCodeAt(i), 16777619);
  return (h >>> 0) % slices;
}
