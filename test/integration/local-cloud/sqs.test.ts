import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sqsClient } from '../../../infra/local/clients.ts';
import { pollQueue } from '../../../infra/local/sqs-poller.ts';
import { ensureQueues, startSqsServer, type EnsuredQueues, type SqsServer } from '../../../infra/local/sqs-server.ts';
import { eventually, sleep, uniqueKey } from './helpers.ts';

const REGION = 'eu-west-1';

describe('local SQS: server, queues, Lambda-style poller', () => {
  let server: SqsServer;
  let client: SQSClient;

  const queues = (): Promise<EnsuredQueues> => {
    const name = uniqueKey('compute').replace(/#/g, '-');
    return ensureQueues(server.endpoint, REGION, { compute: name, dlq: `${name}-dlq` });
  };
  const depth = async (url: string): Promise<number> => {
    const a = (
      await client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      )
    ).Attributes;
    return Number(a?.ApproximateNumberOfMessages ?? 0) + Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };
  const send = (url: string, body: string) => client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));

  beforeAll(async () => {
    server = await startSqsServer();
    client = sqsClient(server.endpoint, REGION);
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it('creates a compute queue with a redrive policy to its DLQ, idempotently', async () => {
    const first = await ensureQueues(server.endpoint, REGION, { compute: 'pce-compute-eu-west-1', dlq: 'pce-compute-dlq-eu-west-1' });
    expect(first.computeQueueUrl).toBe(`${server.endpoint}/123456789012/pce-compute-eu-west-1`);
    expect(first.dlqArn).toMatch(/^arn:aws:sqs:[a-z0-9-]+:123456789012:pce-compute-dlq-eu-west-1$/);
    const attributes = (await client.send(new GetQueueAttributesCommand({ QueueUrl: first.computeQueueUrl, AttributeNames: ['All'] }))).Attributes;
    expect(JSON.parse(attributes?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: first.dlqArn, maxReceiveCount: 5 });
    expect(attributes?.VisibilityTimeout).toBe('30');

    const again = await ensureQueues(server.endpoint, REGION, { compute: 'pce-compute-eu-west-1', dlq: 'pce-compute-dlq-eu-west-1' }, { visibilityTimeoutSeconds: 10 });
    expect(again).toEqual(first);
    const updated = (await client.send(new GetQueueAttributesCommand({ QueueUrl: first.computeQueueUrl, AttributeNames: ['VisibilityTimeout'] }))).Attributes;
    expect(updated?.VisibilityTimeout).toBe('10');
  });

  it('invokes the handler with Lambda-shaped records and deletes the messages it handled', async () => {
    const q = await queues();
    const records: SQSRecord[] = [];
    const contexts: Context[] = [];
    await client.send(
      new SendMessageCommand({
        QueueUrl: q.computeQueueUrl,
        MessageBody: JSON.stringify({ job: 'provision', version: 3 }),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'full' } },
      }),
    );
    await send(q.computeQueueUrl, 'second');
    const poller = pollQueue({
      client,
      queueUrl: q.computeQueueUrl,
      waitTimeSeconds: 1,
      visibilityTimeout: 5,
      handler: async (event, context) => {
        records.push(...event.Records);
        contexts.push(context);
      },
    });
    try {
      await eventually('2 records', async () => (records.length >= 2 ? true : undefined));
      const first = records.find((r) => r.body.includes('provision'));
      expect(first).toMatchObject({
        messageId: expect.any(String),
        receiptHandle: expect.any(String),
        body: JSON.stringify({ job: 'provision', version: 3 }),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.any(String), ApproximateFirstReceiveTimestamp: expect.any(String) },
        messageAttributes: { kind: { stringValue: 'full', dataType: 'String', stringListValues: [], binaryListValues: [] } },
        md5OfBody: expect.any(String),
        eventSource: 'aws:sqs',
        eventSourceARN: q.computeQueueArn.replace(/^arn:aws:sqs:[^:]*:/, `arn:aws:sqs:${REGION}:`),
        awsRegion: REGION,
      });
      expect(contexts[0]?.functionName).toMatch(/^sqs-compute-/);
      await eventually('the queue to be empty', async () => ((await depth(q.computeQueueUrl)) === 0 ? true : undefined));
    } finally {
      await poller.stop();
    }
  });

  it('leaves failed messages (batchItemFailures) to come back after the visibility timeout', async () => {
    const q = await queues();
    await send(q.computeQueueUrl, 'ok');
    await send(q.computeQueueUrl, 'flaky');
    const seen: { body: string; receiveCount: string }[] = [];
    const poller = pollQueue({
      client,
      queueUrl: q.computeQueueUrl,
      waitTimeSeconds: 1,
      visibilityTimeout: 1,
      handler: async (event): Promise<SQSBatchResponse> => {
        const failures: { itemIdentifier: string }[] = [];
        for (const r of event.Records) {
          seen.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount });
          if (r.body === 'flaky' && r.attributes.ApproximateReceiveCount === '1') failures.push({ itemIdentifier: r.messageId });
        }
        return { batchItemFailures: failures };
      },
    });
    try {
      await eventually('the flaky message to come back', async () => (seen.some((s) => s.body === 'flaky' && s.receiveCount === '2') ? true : undefined), 10_000);
      await eventually('the queue to be empty', async () => ((await depth(q.computeQueueUrl)) === 0 ? true : undefined));
      expect(seen.filter((s) => s.body === 'ok')).toEqual([{ body: 'ok', receiveCount: '1' }]);
    } finally {
      await poller.stop();
    }
  });

  it('moves a poison message to the DLQ after maxReceiveCount (5) failed receives', async () => {
    const q = await queues();
    await send(q.computeQueueUrl, 'poison');
    const counts: string[] = [];
    const errors: Error[] = [];
    const poller = pollQueue({
      client,
      queueUrl: q.computeQueueUrl,
      waitTimeSeconds: 1,
      visibilityTimeout: 1,
      onError: (error) => errors.push(error),
      handler: async (event) => {
        for (const r of event.Records) counts.push(r.attributes.ApproximateReceiveCount);
        throw new Error('cannot compute');
      },
    });
    try {
      const dead = await eventually(
        'the poison message in the DLQ',
        async () => (await client.send(new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, WaitTimeSeconds: 0 }))).Messages?.[0],
        15_000,
        200,
      );
      expect(dead.Body).toBe('poison');
      await sleep(1_200);
      expect(counts).toEqual(['1', '2', '3', '4', '5']);
      expect(errors.filter((e) => /cannot compute/.test(e.message))).toHaveLength(5);
      expect(await depth(q.computeQueueUrl)).toBe(0);
    } finally {
      await poller.stop();
    }
  });
});
