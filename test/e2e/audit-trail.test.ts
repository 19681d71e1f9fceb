/**
 * The audit trail on the local supercluster: a write on the leader and a 401 on a member both show in
 * GET /events on the leader (the member's event replicated), in Illumio's event shape, with no secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';

type Event = { href: string; event_type: string; pce_fqdn: string; status: string; created_by: Record<string, unknown>; action: { http_status_code: number; api_method: string; api_endpoint: string } };

describe('audit trail (local supercluster)', () => {
  let cluster: RunningCluster;

  beforeAll(async () => {
    cluster = await startCluster({ firstAddress: '127.0.41.11', port: 19250 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('shows a leader write and a member 401 on the leader, with no secret', async () => {
    const [leaderFqdn, memberFqdn] = cluster.state.pces.map((p) => p.fqdn);
    const key = cluster.state.api_key;
    const since = new Date(Date.now() - 1_000).toISOString();
    const label = await cluster.create(0, '/orgs/1/labels', { key: 'app', value: 'audit-e2e' });
    const wrongSecret = 'not-the-secret-0123456789';
    expect((await cluster.api(1, 'GET', '/api/v2/orgs/1/labels', undefined, { username: key.username, secret: wrongSecret })).status).toBe(401);

    const events = await eventually(
      async () => {
        const res = await cluster.api(0, 'GET', `/api/v2/orgs/1/events?timestamp[gte]=${since}`);
        const list = res.json as Event[];
        return list.some((e) => e.pce_fqdn === memberFqdn && e.event_type === 'request.authentication_failed') ? { list, raw: JSON.stringify(list) } : null;
      },
      20_000,
      "the member's 401 event on the leader",
    );
    expect(events.list.find((e) => e.event_type === 'label.create')).toMatchObject({ pce_fqdn: leaderFqdn, status: 'success', created_by: { user: { username: key.username } }, action: { http_status_code: 201, api_method: 'POST' }, resource_changes: [{ resource: { label: { href: label.href } } }] });
    expect(events.list.find((e) => e.pce_fqdn === memberFqdn)).toMatchObject({ status: 'failure', created_by: { user: { username: key.username } }, action: { http_status_code: 401, api_endpoint: '/api/v2/orgs/1/labels' } });
    expect(events.raw).not.toContain(key.secret);
    expect(events.raw).not.toContain(wrongSecret);
    // readable on the member too, one event by its uuid
    const one = await cluster.api(1, 'GET', `/api/v2${events.list[0]?.href ?? ''}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(events.list[0]);
    expect((await cluster.api(0, 'GET', '/api/v2/orgs/1/events?max_results=abc')).status).toBe(406);
  }, 60_000);
});
