/** The SQS adapters of the compute pipeline against the local SQS server. */
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsClient } from '../../../infra/local/clients.ts';
import { ensureQueues, startSqsServer, type SqsServer } from '../../../infra/local/sqs-server.ts';
import { parseComputeJob, type ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import { approximateQueueDepth, SqsComputeQueue } from '../../../shared/storage/sqs/compute-queue.ts';

describe('SQS compute queue (local SQS server)', () => {
  let server: SqsServer;
  let queues: Awaited<ReturnType<typeof ensureQueues>>;
  const client = () => sqsClient(server.endpoint, 'eu-west-1');

  beforeAll(async () => {
    server = await startSqsServer();
    queues = await ensureQueues(server.endpoint, 'eu-west-1', { compute: 'it-compute.fifo', dlq: 'it-compute-dlq.fifo' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('sends jobs in batches of ten, each a valid ComputeJobV1, delivered in order (one org: one FIFO group)', async () => {
    const jobs: ComputeJobV1[] = Array.from({ length: 23 }, (_, i) => ({ version: 1, kind: 'workload_changed', org_id: 1, workload_ids: [`w${i}`], requested_at: i }));
    await new SqsComputeQueue(client(), queues.computeQueueUrl).send(jobs);
    const received: ComputeJobV1[] = [];
    for (let i = 0; i < 20 && received.length < 23; i++) {
      const out = await client().send(new ReceiveMessageCommand({ QueueUrl: queues.computeQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
      received.push(...(out.Messages ?? []).map((m) => parseComputeJob(m.Body ?? '')));
    }
    expect(received.map((j) => (j.kind === 'workload_changed' ? j.workload_ids[0] : ''))).toEqual(jobs.map((j) => (j.kind === 'workload_changed' ? j.workload_ids[0] : '')));
  });

  it('reports the depth of the dead-letter queue (what /health warns about)', async () => {
    expect(await approximateQueueDepth(client(), queues.dlqUrl)).toBe(0);
    await client().send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: '{"poison":true}', MessageGroupId: 'org-1', MessageDeduplicationId: 'poison' }));
    expect(await approximateQueueDepth(client(), queues.dlqUrl)).toBe(1);
  });
});
