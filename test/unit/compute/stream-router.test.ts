import { describe, expect, it } from 'vitest';
import type { ComputeJobV1 } from '../../../shared/compute/jobs.ts';
import { WORKLOADS_PER_SLICE, parseComputeJob, sliceOf } from '../../../shared/compute/jobs.ts';
import type { ComputeQueue } from '../../../shared/compute/ports.ts';
import { routeChanges, type ChangeRecord, type Item } from '../../../shared/compute/stream-router.ts';
import { FakeLagStore } from '../../helpers/fakes.ts';

class FakeQueue implements ComputeQueue {
  sent: ComputeJobV1[] = [];
  failNext = false;
  async send(jobs: readonly ComputeJobV1[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue down');
    }
    this.sent.push(...jobs);
  }
}

const recognise = {
  activePolicy: (item: Item) => (item.pk === 'ORG#1#POLICY' && item.sk === 'ACTIVE' ? { orgId: 1, version: Number(item.version) } : null),
  workload: (item: Item) => (item.pk === 'ORG#1#WORKLOADS' ? { orgId: 1, workloadId: String(item.sk).split('#')[0] ?? '' } : null),
};

function deps(queue: FakeQueue, managed: number) {
  return {
    selfRegion: 'eu-west-1',
    lags: new FakeLagStore(),
    queue,
    managedHere: async () => managed,
    recognise,
    now: () => 1000,
  };
}

const put = (item: Item): ChangeRecord => ({ eventName: 'MODIFY', newItem: item, oldItem: item });

describe('stream router', () => {
  it('fans a provision out into slices of the workloads this PCE manages (its VEN count), newest version only', async () => {
    const queue = new FakeQueue();
    const failed = await routeChanges([put({ pk: 'ORG#1#POLICY', sk: 'ACTIVE', version: 3 }), put({ pk: 'ORG#1#POLICY', sk: 'ACTIVE', version: 4 })], deps(queue, WORKLOADS_PER_SLICE * 2 + 1));
    expect(failed).toBe(-1);
    expect(queue.sent.map((j) => (j.kind === 'recompute_all' ? [j.policy_version, j.slice, j.slices] : null))).toEqual([
      [4, 0, 3],
      [4, 1, 3],
      [4, 2, 3],
    ]);
  });

  it('turns a batch of workload changes into one job, also beside a provision (which only covers workloads still managed here)', async () => {
    const queue = new FakeQueue();
    await routeChanges([put({ pk: 'ORG#1#WORKLOADS', sk: 'a#META' }), put({ pk: 'ORG#1#WORKLOADS', sk: 'a#CONTEXT' }), put({ pk: 'ORG#1#WORKLOADS', sk: 'b#META' })], deps(queue, 1));
    expect(queue.sent.map((j) => (j.kind === 'workload_changed' ? j.workload_ids : j.kind))).toEqual([['a', 'b']]);
    const q2 = new FakeQueue();
    await routeChanges([put({ pk: 'ORG#1#WORKLOADS', sk: 'a#META' }), put({ pk: 'ORG#1#POLICY', sk: 'ACTIVE', version: 2 })], deps(q2, 1));
    expect(q2.sent.map((j) => j.kind)).toEqual(['recompute_all', 'workload_changed']);
  });

  it('records replication probes from peers and ignores its own', async () => {
    const d = deps(new FakeQueue(), 0);
    await routeChanges([put({ pk: 'PCE_STATUS', sk: 'STATUS#us-east-1', region: 'us-east-1', written_at: 900 }), put({ pk: 'PCE_STATUS', sk: 'STATUS#eu-west-1', region: 'eu-west-1', written_at: 950 })], d);
    expect(await d.lags.list()).toEqual([{ peerRegion: 'us-east-1', lagMs: 100, receivedAt: 1000 }]);
  });

  it('still sends the jobs of the records before a failed one (the event source retries from the failure)', async () => {
    const queue = new FakeQueue();
    const d = deps(queue, 1);
    const failing = { ...d, lags: { record: async () => Promise.reject(new Error('throttled')), list: async () => [] } };
    const failedAt = await routeChanges([put({ pk: 'ORG#1#WORKLOADS', sk: 'a#META' }), put({ pk: 'PCE_STATUS', sk: 'STATUS#us-east-1', region: 'us-east-1', written_at: 1 }), put({ pk: 'ORG#1#WORKLOADS', sk: 'b#META' })], failing);
    expect(failedAt).toBe(1);
    expect(queue.sent.map((j) => (j.kind === 'workload_changed' ? j.workload_ids : j.kind))).toEqual([['a']]);
  });

  it('asks for the whole batch again when the queue refuses the jobs', async () => {
    const queue = new FakeQueue();
    queue.failNext = true;
    expect(await routeChanges([put({ pk: 'ORG#1#WORKLOADS', sk: 'a#META' })], deps(queue, 1))).toBe(0);
  });

  it('validates job messages against the versioned contract and keeps slices stable', () => {
    expect(() => parseComputeJob('{"version":2,"kind":"recompute_all"}')).toThrow(/not a ComputeJobV1/);
    expect(() => parseComputeJob('nope')).toThrow(/not JSON/);
    expect(parseComputeJob(JSON.stringify({ version: 1, kind: 'workload_changed', org_id: 1, workload_ids: ['x'], requested_at: 1 })).kind).toBe('workload_changed');
    expect(sliceOf('abc', 7)).toBe(sliceOf('abc', 7));
  });
});
