import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { forwardStreamFailures, onFailureDestinationRecord } from '../../../infra/local/stream-failures.ts';
import type { StreamBatchFailure } from '../../../infra/local/stream-poller.ts';
import { streamFailureHandler } from '../../../lambdas/stream/failures.ts';
import type { ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import { computeJobV1 } from '../../../shared/compute/jobs.ts';
import { queueReconcile, reconcileAfterStreamFailures, streamFailureMetadata } from '../../../shared/compute/reconcile.ts';

const SECRET = 'sha256$secret-hash-of-an-api-key';

/** What Lambda puts on a stream event source's on-failure destination. */
const destinationRecord = {
  requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:router', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  version: '1.0',
  timestamp: '2025-01-01T00:00:00.000Z',
  DDBStreamBatchInfo: {
    shardId: 'shardId-1',
    startSequenceNumber: '100',
    endSequenceNumber: '120',
    approximateArrivalOfFirstRecord: '2025-01-01T00:00:00Z',
    approximateArrivalOfLastRecord: '2025-01-01T00:00:01Z',
    batchSize: 3,
    streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/pce-global/stream/2025',
  },
  // not part of Lambda's record: never copied into a log line
  records: [{ secret_hash: SECRET }],
};

function fakes() {
  const sent: ComputeJobV1[][] = [];
  const logs: { message: string; fields: Record<string, unknown> }[] = [];
  return {
    sent,
    logs,
    deps: { queue: { send: async (jobs: readonly ComputeJobV1[]) => void sent.push([...jobs]) }, orgId: 1, now: () => 1_700_000_000_000, log: (message: string, fields: Record<string, unknown>) => logs.push({ message, fields }) },
  };
}

describe('reconcile on demand', () => {
  it('queues one valid reconcile job (the one the scheduled function sends)', async () => {
    const { sent, deps } = fakes();
    const job = await queueReconcile(deps);
    expect(sent).toEqual([[job]]);
    expect(computeJobV1.parse(job)).toEqual({ version: 1, kind: 'reconcile', org_id: 1, requested_at: 1_700_000_000_000 });
  });

  it("keeps only the failure record's whitelisted metadata", () => {
    const metadata = streamFailureMetadata(destinationRecord);
    expect(metadata).toEqual({
      condition: 'RetryAttemptsExhausted',
      functionArn: destinationRecord.requestContext.functionArn,
      invokeCount: 6,
      functionError: 'Unhandled',
      streamArn: destinationRecord.DDBStreamBatchInfo.streamArn,
      shardId: 'shardId-1',
      startSequenceNumber: '100',
      endSequenceNumber: '120',
      batchSize: 3,
      firstRecordArrival: '2025-01-01T00:00:00Z',
      lastRecordArrival: '2025-01-01T00:00:01Z',
      failedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(JSON.stringify(metadata)).not.toContain(SECRET);
    expect(streamFailureMetadata({ hello: 1 })).toBeNull();
    expect(streamFailureMetadata('text')).toBeNull();
  });

  it('logs every failed batch and queues ONE reconcile for all of them; an unrecognised body queues one too, logged by size only', async () => {
    const { sent, logs, deps } = fakes();
    await reconcileAfterStreamFailures(deps, [JSON.stringify(destinationRecord), JSON.stringify({ ...destinationRecord, DDBStreamBatchInfo: { ...destinationRecord.DDBStreamBatchInfo, shardId: 'shardId-2' } }), `not json ${SECRET}`]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual([expect.objectContaining({ kind: 'reconcile', org_id: 1 })]);
    expect(logs.map((l) => l.message)).toEqual(['replica stream batch failed', 'replica stream batch failed', 'unrecognised message on the replica stream failure queue', 'reconcile job queued']);
    expect(logs.map((l) => l.fields.shardId)).toEqual(['shardId-1', 'shardId-2', undefined, undefined]);
    expect(JSON.stringify(logs)).not.toContain(SECRET);
  });

  it('queues nothing for no message, and throws when the job cannot be queued (the messages are delivered again)', async () => {
    const { sent, deps } = fakes();
    await expect(reconcileAfterStreamFailures(deps, [])).resolves.toBeNull();
    expect(sent).toEqual([]);
    await expect(reconcileAfterStreamFailures({ ...deps, queue: { send: async () => Promise.reject(new Error('SQS down')) } }, [JSON.stringify(destinationRecord)])).rejects.toThrow(/SQS down/);
  });
});

describe('the local stream poller onFailure (same handler as the AWS on-failure queue consumer)', () => {
  const record = (sequence: string, secret: string, seconds: number): DynamoDBRecord => ({
    eventName: 'INSERT',
    dynamodb: { ApproximateCreationDateTime: seconds, SequenceNumber: sequence, Keys: { pk: { S: 'APIKEY#alice' }, sk: { S: 'APIKEY' } }, NewImage: { secret_hash: { S: secret } } },
  });
  const failure: StreamBatchFailure = {
    condition: 'RetryAttemptsExhausted',
    functionName: 'stream-router-eu-west-1',
    region: 'eu-west-1',
    streamArn: 'arn:aws:dynamodb:eu-west-1:000000000000:table/pce-global/stream/x',
    shardId: 'shardId-7',
    startSequenceNumber: '5',
    endSequenceNumber: '6',
    attempts: 4,
    lastError: 'boom',
    records: [record('5', SECRET, 1_735_689_600), record('6', SECRET, 1_735_689_601)],
    timestamp: '2025-01-01T00:00:02.000Z',
  };

  it("builds Lambda's on-failure record: where the batch lies, never its records", () => {
    const body = onFailureDestinationRecord(failure);
    expect(JSON.stringify(body)).not.toContain(SECRET);
    expect(JSON.stringify(body)).not.toContain('APIKEY#alice');
    expect(streamFailureMetadata(body)).toMatchObject({ condition: 'RetryAttemptsExhausted', shardId: 'shardId-7', startSequenceNumber: '5', endSequenceNumber: '6', batchSize: 2, invokeCount: 4, functionError: 'Unhandled', firstRecordArrival: '2025-01-01T00:00:00.000Z' });
  });

  it('queues a reconcile job through the stream-failures handler and logs the batch without a secret', async () => {
    const { sent, logs, deps } = fakes();
    await forwardStreamFailures(streamFailureHandler(deps), { region: 'eu-west-1' })(failure);
    expect(sent).toEqual([[expect.objectContaining({ kind: 'reconcile', org_id: 1 })]]);
    expect(logs[0]).toMatchObject({ message: 'replica stream batch failed', fields: { shardId: 'shardId-7', batchSize: 2 } });
    expect(JSON.stringify(logs)).not.toContain(SECRET);
  });
});
