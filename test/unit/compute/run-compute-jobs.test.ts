/** The compute queue consumer's FIFO partial-batch logic (lambdas/compute/run-jobs.ts). */
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { isRetrySoonError, runComputeJobs, type ComputeRunner } from '../../../lambdas/compute/run-jobs.ts';
import { ComputeConflictError, NOTHING_COMPUTED, type ComputeOutcome } from '../../../shared/compute/compute-service.ts';
import type { ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import { SnapshotIncompleteError } from '../../../shared/policy/snapshot/errors.ts';

const job = (orgId: number, workload: string): ComputeJobV1 => ({ version: 1, kind: 'workload_changed', org_id: orgId, workload_ids: [workload], requested_at: 1 });

function record(id: string, body: ComputeJobV1 | string): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:pce-compute-eu-west-1.fifo',
    awsRegion: 'eu-west-1',
  };
}

const done: ComputeOutcome = NOTHING_COMPUTED;
const idOf = (j: ComputeJobV1) => (j.kind === 'workload_changed' ? j.workload_ids[0] : j.kind);

/** Runs what it is given; a batch containing a failing job fails, and so does that job alone. */
class FakeCompute implements ComputeRunner {
  batches: string[][] = [];
  singles: string[] = [];
  constructor(private readonly failing: ReadonlyMap<string, Error> = new Map()) {}
  async runBatch(jobs: readonly ComputeJobV1[]): Promise<ComputeOutcome> {
    this.batches.push(jobs.map((j) => idOf(j) ?? ''));
    const error = jobs.map((j) => this.failing.get(idOf(j) ?? '')).find((e) => e !== undefined);
    if (error) throw error;
    return done;
  }
  async run(j: ComputeJobV1): Promise<ComputeOutcome> {
    this.singles.push(idOf(j) ?? '');
    const error = this.failing.get(idOf(j) ?? '');
    if (error) throw error;
    return done;
  }
}

const logger = { info: () => undefined, warn: () => undefined };

async function run(records: SQSRecord[], compute: FakeCompute) {
  const soon: string[] = [];
  const response = await runComputeJobs(records, { compute, logger, retrySoon: async (rh) => void soon.push(rh) });
  return { failures: response.batchItemFailures.map((f) => f.itemIdentifier), soon };
}

describe('runComputeJobs: FIFO partial batch failures', () => {
  it('runs a good batch together and reports nothing', async () => {
    const compute = new FakeCompute();
    const { failures, soon } = await run([record('m1', job(1, 'a')), record('m2', job(2, 'b')), record('m3', job(1, 'c'))], compute);
    expect(failures).toEqual([]);
    expect(soon).toEqual([]);
    expect(compute.batches).toEqual([['a', 'b', 'c']]);
    expect(compute.singles).toEqual([]);
  });

  it('on a failing batch runs the jobs one by one up to the first failure, and reports it and every later message (not run)', async () => {
    const compute = new FakeCompute(new Map([['b', new Error('boom')]]));
    const { failures, soon } = await run([record('m1', job(1, 'a')), record('m2', job(1, 'b')), record('m3', job(1, 'c')), record('m4', job(2, 'd'))], compute);
    expect(compute.singles).toEqual(['a', 'b']); // c and d never run
    expect(failures).toEqual(['m2', 'm3', 'm4']);
    // the failed job waits for the visibility timeout; the unrun ones come back soon (they must not block their groups)
    expect(soon).toEqual(['rh-m3', 'rh-m4']);
  });

  it('an invalid body fails, with every later message, while the valid messages before it succeed', async () => {
    const compute = new FakeCompute();
    const { failures, soon } = await run([record('m1', job(1, 'a')), record('m2', job(1, 'b')), record('m3', 'not json'), record('m4', job(1, 'd'))], compute);
    expect(compute.batches).toEqual([['a', 'b']]);
    expect(failures).toEqual(['m3', 'm4']);
    expect(soon).toEqual(['rh-m4']);
  });

  it('an invalid first message: nothing runs, everything is reported', async () => {
    const compute = new FakeCompute();
    const { failures } = await run([record('m1', '{"version":1,"kind":"nope"}'), record('m2', job(1, 'b'))], compute);
    expect(compute.batches).toEqual([]);
    expect(failures).toEqual(['m1', 'm2']);
  });

  it('a job failing before an invalid message moves the first failure earlier', async () => {
    const compute = new FakeCompute(new Map([['a', new Error('boom')]]));
    const { failures } = await run([record('m1', job(1, 'a')), record('m2', 'garbage'), record('m3', job(1, 'c'))], compute);
    expect(compute.singles).toEqual(['a']);
    expect(failures).toEqual(['m1', 'm2', 'm3']);
  });

  it('a batch that fails but whose jobs all succeed alone reports nothing', async () => {
    const compute = new FakeCompute();
    compute.runBatch = async () => {
      throw new ComputeConflictError('sequence moved');
    };
    const { failures, soon } = await run([record('m1', job(1, 'a')), record('m2', job(1, 'b'))], compute);
    expect(compute.singles).toEqual(['a', 'b']);
    expect(failures).toEqual([]);
    expect(soon).toEqual([]);
  });

  it.each([
    ['SnapshotIncompleteError', new SnapshotIncompleteError(1, 2, ['chunk 0'])],
    ['ComputeConflictError', new ComputeConflictError('sequence moved')],
  ])('a job failing with %s comes back soon, together with the later ones', async (_name, error) => {
    const compute = new FakeCompute(new Map([['b', error]]));
    const { failures, soon } = await run([record('m1', job(1, 'a')), record('m2', job(1, 'b')), record('m3', job(1, 'c'))], compute);
    expect(failures).toEqual(['m2', 'm3']);
    expect(soon).toEqual(['rh-m2', 'rh-m3']);
  });

  it('still reports the failures when the queue cannot shorten the retries', async () => {
    const compute = new FakeCompute(new Map([['a', new SnapshotIncompleteError(1, 2, [])]]));
    const response = await runComputeJobs([record('m1', job(1, 'a')), record('m2', job(1, 'b'))], {
      compute,
      logger,
      retrySoon: async () => {
        throw new Error('SQS down');
      },
    });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
  });

  it('moves an invalid body straight to the DLQ and runs the jobs around it', async () => {
    const compute = new FakeCompute();
    const moved: { messageId: string; reason: string }[] = [];
    const response = await runComputeJobs([record('m1', job(1, 'a')), record('m2', '{"kind":"nope"}'), record('m3', job(1, 'c'))], {
      compute,
      logger,
      deadLetter: async (message, reason) => void moved.push({ messageId: message.messageId, reason }),
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(moved.map((m) => m.messageId)).toEqual(['m2']);
    expect(moved[0]?.reason).toMatch(/not a ComputeJobV1/);
    expect(compute.batches).toEqual([['a', 'c']]);
  });

  it('an invalid body the DLQ cannot take fails as before, with every later message', async () => {
    const compute = new FakeCompute();
    const response = await runComputeJobs([record('m1', job(1, 'a')), record('m2', 'not json'), record('m3', job(1, 'c'))], {
      compute,
      logger,
      deadLetter: async () => Promise.reject(new Error('AccessDenied')),
    });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m2', 'm3']);
    expect(compute.batches).toEqual([['a']]);
  });

  it('a job failing after a dead-lettered body is reported by its own position', async () => {
    const compute = new FakeCompute(new Map([['c', new Error('boom')]]));
    const response = await runComputeJobs([record('m1', 'not json'), record('m2', job(1, 'b')), record('m3', job(1, 'c')), record('m4', job(1, 'd'))], {
      compute,
      logger,
      deadLetter: async () => undefined,
    });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m3', 'm4']);
  });

  it('isRetrySoonError: only replication lag and concurrent runs', () => {
    expect(isRetrySoonError(new SnapshotIncompleteError(1, 2, []))).toBe(true);
    expect(isRetrySoonError(new ComputeConflictError('x'))).toBe(true);
    expect(isRetrySoonError(new Error('x'))).toBe(false);
    expect(isRetrySoonError(undefined)).toBe(false);
  });
});
