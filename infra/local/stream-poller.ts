/**
 * A local stand-in for a Lambda event source mapping on a DynamoDB stream (with ReportBatchItemFailures):
 * reads the table's stream with the shared shard walker (stream-reader.ts) and invokes the handler with a
 * DynamoDBStreamEvent shaped as Lambda delivers it (DynamoDB JSON attribute values, binary as base64,
 * ApproximateCreationDateTime in epoch seconds, awsRegion/eventSourceARN of the PCE's region).
 *
 * If the handler throws, or returns batchItemFailures, the batch is retried from the first failed record
 * (records before it are done). After `maximumRetryAttempts` retries the remaining records go to
 * `onFailure` (Lambda's on-failure destination) and the shard moves on. One batch at a time per shard,
 * in order.
 */
import type { AttributeValue as SdkAttributeValue, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { backoffMs, errorMessage, sleep } from './internal.ts';
import { lambdaContext } from './lambda-context.ts';
import { readTableStream, type CheckpointStore, type StreamRecordSdk, type StreamStartingPosition } from './stream-reader.ts';

export type DynamoDbStreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | void> | DynamoDBBatchResponse | void;

/** What Lambda would send to the on-failure destination, plus the records themselves. */
export interface StreamBatchFailure {
  readonly condition: 'RetryAttemptsExhausted';
  readonly functionName: string;
  readonly region: string;
  readonly streamArn: string;
  readonly shardId: string;
  readonly startSequenceNumber: string | undefined;
  readonly endSequenceNumber: string | undefined;
  /** Invocations made with (a prefix-trimmed version of) this batch. */
  readonly attempts: number;
  /** The handler's last error message, or null when it reported batchItemFailures. */
  readonly lastError: string | null;
  /** From the first failed record to the end of the batch. */
  readonly records: readonly DynamoDBRecord[];
  readonly timestamp: string;
}

export interface PollTableStreamOptions {
  readonly client: DynamoDBStreamsClient;
  readonly tableName: string;
  /** The PCE region this stream belongs to (awsRegion and eventSourceARN of the records). */
  readonly region: string;
  readonly handler: DynamoDbStreamHandler;
  /** Records per invocation, 1..1000 (default 100, Lambda's default). */
  readonly batchSize?: number;
  /** Default TRIM_HORIZON (nothing written before the poller started is missed; handlers are idempotent). */
  readonly startingPosition?: StreamStartingPosition;
  /** Retries of a failing batch before onFailure (default 3; Lambda's "maximum retry attempts"). */
  readonly maximumRetryAttempts?: number;
  /** Base of the exponential delay between retries (default 100 ms, capped at 5 s). */
  readonly retryBaseDelayMs?: number;
  /** Lambda's on-failure destination (default: console.error). */
  readonly onFailure?: (failure: StreamBatchFailure) => void | Promise<void>;
  /** Handler errors and transient stream errors (default: console.warn). */
  readonly onError?: (error: Error) => void;
  /** Idle pause between stream polls (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** For the Lambda context (default stream-<table>-<region>). */
  readonly functionName?: string;
  /** Function timeout reported by context.getRemainingTimeInMillis (default 60 s; not enforced). */
  readonly timeoutMs?: number;
  /** Resume after the last processed record across restarts (see fileCheckpointStore). */
  readonly checkpoints?: CheckpointStore;
}

export interface StreamPoller {
  /** Resolves with the stream ARN once the stream was found. */
  readonly ready: Promise<string>;
  /** Start of the last poll round that found nothing new (epoch ms, 0 = never). */
  caughtUpAt(): number;
  /** Stops polling; an in-flight invocation finishes first. Idempotent. */
  stop(): Promise<void>;
}

/** DynamoDB Local's ARNs say region "ddblocal"; Lambda events carry the real region. */
export function lambdaStreamArn(streamArn: string, region: string): string {
  return streamArn.replace(/^arn:aws:dynamodb:[^:]*:/, `arn:aws:dynamodb:${region}:`);
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** An SDK attribute value as Lambda delivers it in stream events (binary as base64 strings). */
export function toLambdaAttributeValue(value: SdkAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  throw new Error(`unsupported DynamoDB attribute value with members ${Object.keys(value).join(', ')}`);
}

function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaAttributeValue(value)]));
}

/** One SDK stream record as a Lambda DynamoDBRecord. */
export function toLambdaStreamRecord(record: StreamRecordSdk, region: string, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb;
  const created = data?.ApproximateCreationDateTime;
  const out: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) } : {}),
      ...(data?.Keys ? { Keys: toLambdaImage(data.Keys) } : {}),
      ...(data?.NewImage ? { NewImage: toLambdaImage(data.NewImage) } : {}),
      ...(data?.OldImage ? { OldImage: toLambdaImage(data.OldImage) } : {}),
      SequenceNumber: data?.SequenceNumber,
      SizeBytes: data?.SizeBytes,
      StreamViewType: data?.StreamViewType,
    },
    eventSourceARN: lambdaStreamArn(streamArn, region),
  };
  if (record.userIdentity) out.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  return out;
}

/**
 * Index of the first record to retry, or -1 when the batch succeeded. As in Lambda, a failure entry that
 * names no record of the batch counts as a failure of the whole batch.
 */
export function firstFailedRecord(records: readonly DynamoDBRecord[], response: unknown): number {
  if (typeof response !== 'object' || response === null || !('batchItemFailures' in response)) return -1;
  const failures: unknown = response.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return -1;
  let first = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const id: unknown = typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure ? failure.itemIdentifier : undefined;
    const index = typeof id === 'string' && id !== '' ? records.findIndex((r) => r.dynamodb?.SequenceNumber === id) : -1;
    if (index < 0) return 0;
    first = Math.min(first, index);
  }
  return first;
}

class StoppedError extends Error {
  override readonly name = 'AbortError';
}

/** Polls `tableName`'s stream and invokes `handler` like a Lambda event source mapping. */
export function pollTableStream(options: PollTableStreamOptions): StreamPoller {
  const { client, tableName, region, handler } = options;
  const functionName = options.functionName ?? `stream-${tableName}-${region}`;
  const maximumRetryAttempts = Math.max(0, options.maximumRetryAttempts ?? 3);
  const onError = options.onError ?? ((error: Error) => console.warn(`[${functionName}] ${error.message}`));
  const onFailure =
    options.onFailure ??
    ((failure: StreamBatchFailure) =>
      console.error(
        `[${functionName}] ${failure.records.length} record(s) from ${failure.startSequenceNumber ?? '?'} on shard ${failure.shardId} failed ${failure.attempts} time(s); sent to the on-failure destination`,
      ));
  const abort = new AbortController();

  const reader = readTableStream({
    client,
    tableName,
    startingPosition: options.startingPosition ?? 'TRIM_HORIZON',
    batchSize: options.batchSize ?? 100,
    pollIntervalMs: options.pollIntervalMs ?? 50,
    checkpoints: options.checkpoints,
    onError,
    onBatch: async ({ streamArn, shardId, records }) => {
      let pending = records.map((r) => toLambdaStreamRecord(r, region, streamArn));
      let attempts = 0;
      while (pending.length > 0) {
        attempts++;
        let failedAt: number;
        let lastError: string | null = null;
        try {
          const response = await handler({ Records: pending }, lambdaContext(functionName, region, options.timeoutMs));
          failedAt = firstFailedRecord(pending, response);
        } catch (err) {
          failedAt = 0;
          lastError = errorMessage(err);
          onError(new Error(`${functionName} failed on a batch of ${pending.length} (attempt ${attempts}): ${lastError}`, { cause: err }));
        }
        if (failedAt < 0) return;
        pending = pending.slice(failedAt);
        if (attempts > maximumRetryAttempts) {
          try {
            await onFailure({
              condition: 'RetryAttemptsExhausted',
              functionName,
              region,
              streamArn: lambdaStreamArn(streamArn, region),
              shardId,
              startSequenceNumber: pending[0]?.dynamodb?.SequenceNumber,
              endSequenceNumber: pending.at(-1)?.dynamodb?.SequenceNumber,
              attempts,
              lastError,
              records: pending,
              timestamp: new Date().toISOString(),
            });
          } catch (err) {
            onError(new Error(`${functionName}: the on-failure callback threw: ${errorMessage(err)}`, { cause: err }));
          }
          return;
        }
        await sleep(backoffMs(attempts, options.retryBaseDelayMs ?? 100, 5_000), abort.signal);
        if (abort.signal.aborted) throw new StoppedError('poller stopped while retrying'); // not checkpointed
      }
    },
  });

  let stopping: Promise<void> | undefined;
  return {
    ready: reader.ready,
    caughtUpAt: () => reader.caughtUpAt(),
    stop: () =>
      (stopping ??= (async () => {
        abort.abort();
        await reader.stop();
      })()),
  };
}
