/**
 * A local stand-in for a Lambda SQS event source mapping with ReportBatchItemFailures: long-polls a queue,
 * invokes the handler with an SQSEvent shaped as Lambda delivers it, deletes the messages that succeeded
 * and leaves the failed ones (batchItemFailures, or the whole batch if the handler throws) to reappear
 * after the visibility timeout, so the queue's RedrivePolicy moves a poison message to the DLQ.
 *
 * local-aws-sqs quirk: a long poll (WaitTimeSeconds > 0) is held for the whole wait until
 * MaxNumberOfMessages are collected, even when messages are available, and a message whose visibility
 * timeout ends during that wait is returned twice in the same response. So this poller short-polls
 * (WaitTimeSeconds 0; the server still gathers for ~40 ms) and sleeps `pollIntervalMs` when the queue is empty.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttribute, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { backoffMs, errorMessage, isAbortError, sleep } from './internal.ts';
import { lambdaContext } from './lambda-context.ts';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void;

export interface PollQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly handler: SqsHandler;
  /** Messages per invocation (default 10; above 10, several receives fill one batch). */
  readonly batchSize?: number;
  /**
   * Accepted for parity with the Lambda/SQS setting, but not sent: see the local-aws-sqs quirk above.
   * An empty queue is re-polled every `pollIntervalMs` instead.
   */
  readonly waitTimeSeconds?: number;
  /** Pause after an empty receive (default 20 ms; the server itself holds a receive ~40 ms). */
  readonly pollIntervalMs?: number;
  /** Visibility timeout of received messages in seconds (default: the queue's). */
  readonly visibilityTimeout?: number;
  /** awsRegion of the records (default: the client's region). */
  readonly region?: string;
  /** For the Lambda context (default sqs-<queue name>). */
  readonly functionName?: string;
  /** Function timeout reported by context.getRemainingTimeInMillis (default 60 s; not enforced). */
  readonly timeoutMs?: number;
  /** Handler errors and transient SQS errors (default: console.warn). */
  readonly onError?: (error: Error) => void;
}

export interface QueuePoller {
  /** Stops receiving; an in-flight invocation and its deletes finish first. Idempotent. */
  stop(): Promise<void>;
}

/** arn:aws:sqs:<region>:<account>:<name> for a local-aws-sqs queue URL (http://host:port/<account>/<name>). */
export function queueArnFromUrl(queueUrl: string, region: string): string {
  const parts = new URL(queueUrl).pathname.split('/').filter(Boolean);
  const name = parts.at(-1);
  const account = parts.at(-2) ?? '000000000000';
  if (!name) throw new Error(`not a queue URL: ${queueUrl}`);
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

function toLambdaMessageAttribute(value: MessageAttributeValue): SQSMessageAttribute {
  return {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    dataType: value.DataType ?? 'String',
  };
}

/** One received message as a Lambda SQSRecord. */
export function toSqsRecord(message: Message, eventSourceARN: string, awsRegion: string): SQSRecord {
  const a = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(a.AWSTraceHeader ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
    ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
    ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
    ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    ...(a.DeadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: a.DeadLetterQueueSourceArn } : {}),
  };
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, toLambdaMessageAttribute(v)])),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

/**
 * Message ids that failed. As in Lambda, a thrown error fails the whole batch, and so does a failure
 * entry that names no message of the batch.
 */
export function failedMessageIds(records: readonly SQSRecord[], response: unknown): Set<string> {
  const all = new Set(records.map((r) => r.messageId));
  if (typeof response !== 'object' || response === null || !('batchItemFailures' in response)) return new Set();
  const failures: unknown = response.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const failed = new Set<string>();
  for (const failure of failures) {
    const id: unknown = typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure ? failure.itemIdentifier : undefined;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

/** Polls `queueUrl` and invokes `handler` like Lambda's SQS event source. */
export function pollQueue(options: PollQueueOptions): QueuePoller {
  const { client, queueUrl, handler } = options;
  const batchSize = Math.max(1, options.batchSize ?? 10);
  const pollIntervalMs = Math.max(0, options.pollIntervalMs ?? 20);
  const queueName = new URL(queueUrl).pathname.split('/').filter(Boolean).at(-1) ?? 'queue';
  const functionName = options.functionName ?? `sqs-${queueName}`;
  const onError = options.onError ?? ((error: Error) => console.warn(`[${functionName}] ${error.message}`));
  const abort = new AbortController();
  const signal = abort.signal;

  const receive = async (max: number): Promise<Message[]> =>
    (
      await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, max),
          WaitTimeSeconds: 0,
          VisibilityTimeout: options.visibilityTimeout,
          MessageSystemAttributeNames: ['All'],
          // local-aws-sqs only honours the older parameter (AWS accepts both)
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      )
    ).Messages ?? [];

  const deleteMessages = async (records: readonly SQSRecord[]): Promise<void> => {
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      let entries = chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        try {
          const result = await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
          const failed = new Set((result.Failed ?? []).map((f) => f.Id));
          if (failed.size > 0 && attempt >= 3) {
            onError(new Error(`${functionName}: could not delete ${failed.size} processed message(s); they will be redelivered`));
            break;
          }
          entries = entries.filter((e) => failed.has(e.Id));
        } catch (err) {
          if (attempt >= 3) {
            onError(new Error(`${functionName}: DeleteMessageBatch failed; ${entries.length} processed message(s) will be redelivered: ${errorMessage(err)}`, { cause: err }));
            break;
          }
          await sleep(backoffMs(attempt));
        }
      }
    }
  };

  async function run(): Promise<void> {
    const region = options.region ?? (await client.config.region());
    const eventSourceARN = queueArnFromUrl(queueUrl, region);
    let failures = 0;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        messages = await receive(batchSize);
        while (messages.length < batchSize && messages.length % 10 === 0 && messages.length > 0 && !signal.aborted) {
          const more = await receive(batchSize - messages.length);
          if (more.length === 0) break;
          messages.push(...more);
        }
        failures = 0;
      } catch (err) {
        if (signal.aborted && isAbortError(err)) break;
        failures++;
        if (failures === 1 || failures % 20 === 0) onError(new Error(`${functionName}: ReceiveMessage failed (${failures}x); retrying: ${errorMessage(err)}`, { cause: err }));
        await sleep(backoffMs(failures, 100, 5_000), signal);
        continue;
      }
      if (messages.length === 0) {
        await sleep(pollIntervalMs, signal);
        continue;
      }
      const records = messages.map((m) => toSqsRecord(m, eventSourceARN, region));
      let failed: Set<string>;
      try {
        const response = await handler({ Records: records }, lambdaContext(functionName, region, options.timeoutMs));
        failed = failedMessageIds(records, response);
      } catch (err) {
        failed = new Set(records.map((r) => r.messageId));
        onError(new Error(`${functionName} failed on a batch of ${records.length}: ${errorMessage(err)}`, { cause: err }));
      }
      // failed messages stay invisible until their visibility timeout expires, then come back (or go to the DLQ)
      await deleteMessages(records.filter((r) => !failed.has(r.messageId)));
    }
  }

  const running = run().catch((err: unknown) => onError(new Error(`${functionName}: poller stopped unexpectedly: ${errorMessage(err)}`, { cause: err })));

  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        abort.abort();
        await running;
      })()),
  };
}
