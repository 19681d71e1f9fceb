/**
 * Messages on a PCE's compute queue: versioned contracts, validated where they enter.
 * The stream router produces them; the compute Lambda consumes them. Job kinds arrive with the
 * policy compute engine (issue 3); a message this version does not understand fails and, after the
 * queue's maxReceiveCount, lands in the DLQ, where /health reports it.
 */
import { z } from 'zod';

export const computeJobV1 = z.strictObject({
  version: z.literal(1),
  kind: z.enum(['recompute_all']),
  org_id: z.number().int().positive(),
  reason: z.string().max(200),
  requested_at: z.number().int().nonnegative(),
});

export type ComputeJobV1 = z.infer<typeof computeJobV1>;

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
