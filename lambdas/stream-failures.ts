/**
 * Lambda entry point: consumes the replica stream's on-failure queue (ReplicaStreamFailureQueue): logs each
 * failed batch's metadata (never a record: the destination holds none) and queues a reconcile job on this
 * PCE's compute queue (lambdas/stream/failures.ts). Locally the stream poller's onFailure invokes it the same
 * way (infra/local/stream-failures.ts).
 */
import { streamFailureHandler } from './stream/failures.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();
const queue = pce.computeQueue;
if (!queue) throw new Error('the stream-failures function needs COMPUTE_QUEUE_URL');

export const handler = streamFailureHandler({ queue, orgId: pce.runtime.config.org_id, now: Date.now, log: (message, fields) => pce.logger.warn(message, fields) });
