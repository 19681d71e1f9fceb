/**
 * Lambda entry point: consumes this region's replica stream of the global table.
 * Today it turns peers' replication probes into lag readings; the policy compute routing (issue 3)
 * slots in beside it. Reports partial batch failures so one bad record does not block the shard.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { routeStreamRecords } from './stream/route-records.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  routeStreamRecords(event, { selfRegion: pce.runtime.region, lags: pce.lags, logger: pce.logger, now: Date.now });
