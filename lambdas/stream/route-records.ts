import type { Logger } from '@aws-lambda-powertools/logger';
import type { AttributeValue as LambdaAttributeValue, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ReplicationLagStore } from '../../shared/supercluster/health.ts';
import { recordProbeArrival } from '../../shared/supercluster/probe.ts';

export interface StreamRouterDeps {
  readonly selfRegion: string;
  readonly lags: ReplicationLagStore;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Handles each record in order; the first failure and everything after it are reported back
 * (stream batches must be retried in order from the failed record).
 */
export async function routeStreamRecords(event: DynamoDBStreamEvent, deps: StreamRouterDeps): Promise<DynamoDBBatchResponse> {
  const records = event.Records;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (!record) continue;
    try {
      const image = record.dynamodb?.NewImage;
      if (record.eventName !== 'REMOVE' && image) {
        const item = unmarshall(image as Record<string, LambdaAttributeValue> as Record<string, AttributeValue>);
        if (item.pk === 'SUPERCLUSTER' && typeof item.sk === 'string' && item.sk.startsWith('STATUS#')) {
          await recordProbeArrival(deps, { region: String(item.region), writtenAt: Number(item.written_at) });
        }
      }
    } catch (error) {
      deps.logger.error('stream record failed', { error: error as Error, sequenceNumber: record.dynamodb?.SequenceNumber });
      return { batchItemFailures: records.slice(i).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })) };
    }
  }
  return { batchItemFailures: [] };
}
