import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AttributeValue as LambdaAttributeValue, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { routeChanges, type ChangeRecord, type StreamRouterDeps } from '../../shared/compute/stream-router.ts';

const toItem = (image: Record<string, LambdaAttributeValue> | undefined) => (image ? unmarshall(image as Record<string, AttributeValue>) : undefined);

/**
 * Adapts a DynamoDB stream batch to the router: unmarshals the images, and reports the first failed
 * record and everything after it (a stream shard must be retried in order from the failure).
 */
export async function routeStreamRecords(event: DynamoDBStreamEvent, deps: StreamRouterDeps & { readonly logger: Logger }): Promise<DynamoDBBatchResponse> {
  const records: ChangeRecord[] = event.Records.map((r) => ({
    eventName: r.eventName ?? 'MODIFY',
    newItem: toItem(r.dynamodb?.NewImage),
    oldItem: toItem(r.dynamodb?.OldImage),
  }));
  const failedAt = await routeChanges(records, deps);
  if (failedAt < 0) return { batchItemFailures: [] };
  deps.logger.warn('stream batch failed; Lambda retries from the first failed record', { failedAt, records: records.length });
  return { batchItemFailures: event.Records.slice(failedAt).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })) };
}
