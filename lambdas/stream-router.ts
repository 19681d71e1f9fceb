/**
 * Lambda entry point: consumes this region's replica stream of the global table and decides what each
 * change means here (shared/compute/stream-router.ts): replication probes become lag readings, a new
 * active policy version fans out into recompute slices, a workload change becomes a compute job, and a
 * managed workload's change may concern the VENs managed here (reassign and unpaired pushes, clean-up).
 * Reports partial batch failures so a failed record is retried in order.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { parseActivePolicyPointer } from '../shared/storage/policy-keys.ts';
import { workloadItemOf } from '../shared/storage/workload-keys.ts';
import { routeStreamRecords } from './stream/route-records.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();
const queue = pce.computeQueue;
if (!queue) throw new Error('the stream router needs COMPUTE_QUEUE_URL');

const deps = {
  selfRegion: pce.runtime.region,
  lags: pce.lags,
  queue,
  managedHere: () => pce.agentCount.get(),
  recognise: { activePolicy: parseActivePolicyPointer, workload: workloadItemOf },
  vens: pce.vens.streamReactions,
  logger: pce.logger,
  now: Date.now,
  onError: (error: unknown, recordIndex: number) => pce.logger.error('stream record failed', { error: error as Error, recordIndex }),
};

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => routeStreamRecords(event, deps);
