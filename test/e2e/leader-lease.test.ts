/**
 * The leader lease on a running local supercluster (docs/adr/0012-leader-lease.md): `pce-ctl local partition`
 * of the leader's region also cuts its lease proxy, so the leader, whose own replica still names it the leader,
 * refuses writes with 503 leader_lease_lost within the lease bound while its endpoint keeps answering; members
 * keep serving; after `heal` it renews and writes again. A connected handover then moves the lease with the
 * record. Short lease settings (6 s, skew 1 s) keep it quick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

const DURATION_MS = 6_000;
const RENEW_EVERY_MS = 2_000;

async function control(cluster: RunningCluster, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${cluster.state.local.control}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

describe('leader lease (local cloud)', () => {
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.34.11', port: 18534, config: { leader_lease: { duration_seconds: 6, clock_skew_seconds: 1 } } });
  }, 150_000);

  afterAll(async () => {
    const stopped = await cluster?.stop();
    expect(stopped?.code).toBe(0);
  });

  it('a partitioned leader refuses writes within the lease bound while its endpoint answers, and writes again after heal', async () => {
    expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value: 'lease-before' })).status).toBe(201);

    await control(cluster, '/replication/pause', { regions: ['us-east-1'] });
    const cut = Date.now();
    let n = 0;
    const refused = await eventually(
      async () => {
        const res = await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value: `lease-during-${n++}` });
        return res.status === 503 ? res : undefined;
      },
      DURATION_MS + RENEW_EVERY_MS + 5_000,
      'the partitioned leader to refuse writes',
    );
    // a cut-off leader stops writing within duration + one renewal (plus the poll)
    expect(Date.now() - cut).toBeLessThan(DURATION_MS + RENEW_EVERY_MS + 1_000);
    expect(refused.json).toEqual([{ token: 'leader_lease_lost', message: expect.stringMatching(/cannot prove a live leader lease/) as unknown }]);
    expect(refused.headers.get('retry-after')).toBe('5');
    // never a write after the first refusal, and the endpoint still answers reads and health checks
    expect((await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value: 'lease-refused' })).status).toBe(503);
    expect((await cluster.api(0, 'GET', '/api/v2/orgs/1/labels?value=lease-refused')).json).toEqual([]);
    expect((await fetch(`${cluster.state.pces[0]?.url}/api/v2/supercluster/leader`)).status).toBe(202);
    expect((await cluster.api(0, 'GET', '/api/v2/orgs/1/labels')).status).toBe(200);
    // members are unaffected: they answer their 403 (not the lease's 503) and their reads
    expect((await cluster.api(1, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value: 'lease-member' })).status).toBe(403);
    expect((await cluster.api(1, 'GET', '/api/v2/orgs/1/labels')).status).toBe(200);

    await control(cluster, '/replication/resume', { regions: ['us-east-1'] });
    await eventually(async () => ((await cluster.api(0, 'POST', '/api/v2/orgs/1/labels', { key: 'role', value: 'lease-after' })).status === 201 ? true : undefined), 10_000, 'the healed leader to write again');
  });
});
