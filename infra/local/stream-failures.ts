/**
 * The local stand-in for a stream event source's SQS on-failure destination and the function consuming it:
 * the stream poller's onFailure (stream-poller.ts) becomes the record Lambda would put on
 * ReplicaStreamFailureQueue (where the batch lies, never its records) and is handed, as a one-message SQS
 * event, to the same handler as in AWS (lambdas/stream-failures.ts): it logs the metadata and queues a
 * reconcile job on the PCE's compute queue.
 */
import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';
import type { StreamBatchFailure } from './stream-poller.ts';
import { toSqsRecord } from './sqs-poller.ts';
import type { SqsHandler } from './sqs-poller.ts';

/** Lambda's on-failure destination record of a DynamoDB stream batch (no records, no item data). */
export function onFailureDestinationRecord(failure: StreamBatchFailure, accountId = '000000000000'): Record<string, unknown> {
  const first = failure.records[0]?.dynamodb?.ApproximateCreationDateTime;
  const last = failure.records.at(-1)?.dynamodb?.ApproximateCreationDateTime;
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${failure.region}:${accountId}:function:${failure.functionName}`,
      condition: failure.condition,
      approximateInvokeCount: failure.attempts,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(failure.lastError === null ? {} : { functionError: 'Unhandled' }) },
    version: '1.0',
    timestamp: failure.timestamp,
    DDBStreamBatchInfo: {
      shardId: failure.shardId,
      ...(failure.startSequenceNumber === undefined ? {} : { startSequenceNumber: failure.startSequenceNumber }),
      ...(failure.endSequenceNumber === undefined ? {} : { endSequenceNumber: failure.endSequenceNumber }),
      ...(first === undefined ? {} : { approximateArrivalOfFirstRecord: new Date(first * 1000).toISOString() }),
      ...(last === undefined ? {} : { approximateArrivalOfLastRecord: new Date(last * 1000).toISOString() }),
      batchSize: failure.records.length,
      streamArn: failure.streamArn,
    },
  };
}

/** An onFailure callback for pollTableStream that delivers each failure to `handler` as Lambda's SQS event source would. */
export function forwardStreamFailures(handler: SqsHandler, options: { region: string; functionName?: string }): (failure: StreamBatchFailure) => Promise<void> {
  const queueArn = `arn:aws:sqs:${options.region}:000000000000:replica-stream-failures`;
  const functionName = options.functionName ?? `stream-failures-${options.region}`;
  return async (failure) => {
    const body = JSON.stringify(onFailureDestinationRecord(failure));
    const event: SQSEvent = { Records: [toSqsRecord({ MessageId: randomUUID(), ReceiptHandle: randomUUID(), Body: body }, queueArn, options.region)] };
    await handler(event, lambdaContext(functionName, options.region));
  };
}
