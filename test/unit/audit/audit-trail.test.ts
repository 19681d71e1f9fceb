import { beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { AuditTrail } from '../../../shared/audit/audit-trail.ts';
import { outcomeOf, isAudited, writeAction } from '../../../shared/audit/classify.ts';
import { eventIdTime, eventToJson, newEventId, type AuditEvent } from '../../../shared/audit/event.ts';
import type { AuditEventStore, EventQuery } from '../../../shared/audit/ports.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { testConfig } from '../../helpers/config.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeIdentityStore } from '../../helpers/identity-fakes.ts';
import { baseApiDeps } from '../../helpers/api-deps.ts';
import { FakeLabelStore, FakeLeaderStore } from '../../helpers/fakes.ts';

class FakeAuditEventStore implements AuditEventStore {
  readonly events: AuditEvent[] = [];
  failing = false;
  lastQuery: EventQuery | null = null;
  async put(event: AuditEvent): Promise<void> {
    if (this.failing) throw new Error('table unavailable');
    this.events.push(event);
  }
  async list(orgId: number, query: EventQuery): Promise<AuditEvent[]> {
    this.lastQuery = query;
    return this.events
      .filter((e) => e.orgId === orgId && e.timestamp >= query.since && e.timestamp <= query.until && (query.eventType === undefined || e.eventType === query.eventType))
      .sort((a, b) => b.timestamp - a.timestamp)
      .slice(0, query.maxResults);
  }
  async get(orgId: number, id: string): Promise<AuditEvent | null> {
    return this.events.find((e) => e.orgId === orgId && e.id === id) ?? null;
  }
}

const config = testConfig();
const [us, eu] = config.pces;

describe('audit event classification', () => {
  it('names writes in Illumio style', () => {
    expect(writeAction('POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets').eventType).toBe('rule_set.create');
    expect(writeAction('PUT', '/api/v2/orgs/1/sec_policy/draft/rule_sets/5/sec_rules/7')).toEqual({ eventType: 'sec_rule.update', resource: { type: 'sec_rule', href: '/orgs/1/sec_policy/draft/rule_sets/5/sec_rules/7' }, changeType: 'update' });
    expect(writeAction('PUT', '/api/v2/orgs/1/workloads/bulk_update').eventType).toBe('workloads.bulk_update');
    expect(writeAction('PUT', '/api/v2/orgs/1/workloads/unpair').eventType).toBe('workloads.unpair');
    expect(writeAction('DELETE', '/api/v2/orgs/1/labels/3').eventType).toBe('label.delete');
    expect(writeAction('PUT', '/api/v2/orgs/1/agents/ab-12/update')).toMatchObject({ eventType: 'agent.update', resource: { href: '/orgs/1/agents/ab-12' } });
    expect(writeAction('POST', '/api/v2/orgs/1/sec_policy').eventType).toBe('sec_policy.create');
    expect(writeAction('PUT', '/api/v2/orgs/1/settings/workloads').eventType).toBe('workload_settings.update');
    expect(writeAction('POST', '/api/v2/orgs/1/pairing_profiles/2/pairing_key').eventType).toBe('pairing_key.create');
    expect(writeAction('POST', '/api/v2/users/1/api_keys').eventType).toBe('api_key.create');
  });

  it('records accepted writes and refusals, never reads that succeeded nor the VEN protocol', () => {
    expect(isAudited('POST', '/api/v2/orgs/1/labels', 201)).toBe(true);
    expect(isAudited('GET', '/api/v2/orgs/1/labels', 200)).toBe(false);
    expect(isAudited('POST', '/api/v2/orgs/1/labels', 500)).toBe(false);
    for (const status of [401, 403, 406, 429]) expect(isAudited('GET', '/api/v2/orgs/1/labels', status)).toBe(true);
    expect(isAudited('POST', '/api/v2/ven/v1/heartbeat', 200)).toBe(false);
    expect(isAudited('POST', '/api/v2/ven/v1/heartbeat', 401)).toBe(false);
    expect(outcomeOf('GET', '/api/v2/orgs/1/labels', 401, null)).toMatchObject({ eventType: 'request.authentication_failed', status: 'failure', severity: 'err' });
    expect(outcomeOf('POST', '/api/v2/orgs/1/labels', 403, null)).toMatchObject({ eventType: 'request.authorization_failed', status: 'failure' });
    expect(outcomeOf('POST', '/api/v2/orgs/1/labels', 406, null)).toMatchObject({ eventType: 'label.create', status: 'failure', severity: 'warning' });
    expect(outcomeOf('POST', '/api/v2/orgs/1/labels', 201, '/orgs/1/labels/9')).toEqual({ eventType: 'label.create', status: 'success', severity: 'info', resourceChanges: [{ resourceType: 'label', href: '/orgs/1/labels/9', changeType: 'create' }] });
  });

  it('uses UUIDv7 ids that carry their time and sort by it', () => {
    const a = newEventId(Date.UTC(2026, 11, 1, 12));
    const b = newEventId(Date.UTC(2026, 11, 1, 12) + 1);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdTime(a)).toBe(Date.UTC(2026, 11, 1, 12));
    expect(a < b).toBe(true);
  });
});

describe('audit trail middleware (fakes)', () => {
  let store: FakeAuditEventStore;
  let onLeader: (e: ReturnType<typeof httpEvent>) => Promise<{ statusCode?: number; body?: string }>;
  let onMember: typeof onLeader;
  let auth: { username: string; secret: string };

  function pceApi(region: string, leaderStore: FakeLeaderStore, labels: FakeLabelStore, apiKeys: FakeIdentityStore) {
    const pce = config.pces.find((p) => p.region === region);
    if (!pce) throw new Error(region);
    const handler = createApiHandler({
      ...baseApiDeps({ config, region, leaderStore, identity: apiKeys, labels }),
      audit: new AuditTrail({ store, pceFqdn: pce.fqdn, region, regions: config.pces.map((p) => p.region), defaultOrgId: 1 }),
    });
    return async (event: ReturnType<typeof httpEvent>) => (await handler(event, lambdaContext())) as { statusCode?: number; body?: string };
  }

  beforeEach(async () => {
    store = new FakeAuditEventStore();
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: us?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const labels = new FakeLabelStore(leaderStore);
    const keys = new FakeIdentityStore(leaderStore);
    keys.users.set(7, { id: 7, orgId: 1, username: 'ops', fullName: 'Ops', createdAt: 0 });
    const key = generateApiKey({ userId: 7, orgId: 1, now: 0, role: 'owner' });
    await keys.put(key.record);
    auth = { username: key.record.authUsername, secret: key.secret };
    onLeader = pceApi('us-east-1', leaderStore, labels, keys);
    onMember = pceApi('eu-west-1', leaderStore, labels, keys);
  });

  it('records a write with who, what, where and the outcome, and serves it on GET /events', async () => {
    const created = await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value: 'web' } }));
    expect(created.statusCode).toBe(201);
    expect(store.events).toHaveLength(1);
    const listed = await onLeader(httpEvent('GET', '/api/v2/orgs/1/events?event_type=label.create', { auth }));
    expect(listed.statusCode).toBe(200);
    const [event] = JSON.parse(listed.body ?? '[]') as Record<string, unknown>[];
    expect(event).toMatchObject({
      href: expect.stringMatching(/^\/orgs\/1\/events\/[0-9a-f-]{36}$/),
      timestamp: expect.stringMatching(/Z$/),
      pce_fqdn: us?.fqdn,
      created_by: { user: { href: '/users/7', username: auth.username } },
      event_type: 'label.create',
      status: 'success',
      severity: 'info',
      action: { api_endpoint: '/api/v2/orgs/1/labels', api_method: 'POST', http_status_code: 201, src_ip: '127.0.0.1' },
      resource_changes: [{ resource: { label: { href: JSON.parse(created.body ?? '{}').href } }, change_type: 'create' }],
    });
    const one = await onLeader(httpEvent('GET', `/api/v2${String(event?.href)}`, { auth }));
    expect(one.statusCode).toBe(200);
    expect(JSON.parse(one.body ?? '{}')).toEqual(event);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/events/00000000-0000-7000-8000-000000000000', { auth }))).statusCode).toBe(404);
    // reads are not recorded
    expect(store.events).toHaveLength(1);
  });

  it('records 401 (claimed username only), 403 of a member and 406, with the final status', async () => {
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { auth: { ...auth, secret: 'wrong-secret-value' } }))).statusCode).toBe(401);
    expect((await onMember(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value: 'db' } }))).statusCode).toBe(403);
    expect((await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'nope' } }))).statusCode).toBe(406);
    const json = store.events.map(eventToJson);
    expect(json[0]).toMatchObject({ event_type: 'request.authentication_failed', status: 'failure', created_by: { user: { href: null, username: auth.username } }, action: { http_status_code: 401, errors: [{ token: 'authentication_failed' }] } });
    expect(json[1]).toMatchObject({ event_type: 'request.authorization_failed', pce_fqdn: eu?.fqdn, action: { http_status_code: 403, errors: [{ token: 'supercluster_member_read_only' }] } });
    expect(json[2]).toMatchObject({ event_type: 'label.create', status: 'failure', action: { http_status_code: 406 } });
  });

  it('never puts a secret in an event', async () => {
    const secrets = ['s3cr3t-activation-code-1234', 'hunter2-password', 'tok_abcdefabcdef', auth.secret, 'f'.repeat(64)];
    await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value: 'x', secret: secrets[0], activation_code: secrets[0], password: secrets[1], token: secrets[2] } }));
    await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth: { ...auth, secret: secrets[1] ?? '' }, body: { secret: secrets[0] } }));
    await onLeader(httpEvent('POST', '/api/v2/orgs/1/pairing_profiles/1/pairing_key', { auth: { username: secrets[4] ?? '', secret: secrets[0] ?? '' }, body: { activation_code: secrets[0] } }));
    await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth: null, headers: { authorization: `Bearer ${secrets[2]}`, 'x-api-key': secrets[3] ?? '' }, body: { password: secrets[1] } }));
    await onLeader(httpEvent('POST', '/api/v2/ven/v1/heartbeat', { auth: null, headers: { authorization: `Bearer ${secrets[2]}` } }));
    // the access routes: a key's secret is in its 201 answer only; users, principals, permissions and revocations are events too
    const createdKey = await onLeader(httpEvent('POST', '/api/v2/users/7/api_keys', { auth, body: { name: 'ci', description: secrets[0] } }));
    expect(createdKey.statusCode).toBe(201);
    const newKey = JSON.parse(createdKey.body ?? '{}') as { secret: string; key_id: string; href: string };
    secrets.push(newKey.secret);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { auth: { username: `api_${newKey.key_id}`, secret: newKey.secret } }))).statusCode).toBe(200);
    expect((await onLeader(httpEvent('POST', '/api/v2/users/7/api_keys', { auth, body: { name: 'bad', expires_in_seconds: 0, secret: secrets[1] } }))).statusCode).toBe(406);
    expect((await onLeader(httpEvent('POST', '/api/v2/users', { auth, body: { username: 'dev', full_name: 'Dev' } }))).statusCode).toBe(201);
    const principal = JSON.parse((await onLeader(httpEvent('POST', '/api/v2/orgs/1/auth_security_principals', { auth, body: { name: 'dev', type: 'user' } }))).body ?? '{}') as { href: string };
    expect((await onLeader(httpEvent('POST', '/api/v2/orgs/1/permissions', { auth, body: { role: { href: '/orgs/1/roles/read_only' }, auth_security_principal: { href: principal.href } } }))).statusCode).toBe(201);
    expect((await onLeader(httpEvent('DELETE', `/api/v2${newKey.href}`, { auth }))).statusCode).toBe(204);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { auth: { username: `api_${newKey.key_id}`, secret: newKey.secret } }))).statusCode).toBe(401);
    expect(store.events.map((e) => e.eventType).slice(4)).toEqual(['api_key.create', 'api_key.create', 'user.create', 'auth_security_principal.create', 'permission.create', 'api_key.delete', 'request.authentication_failed']);
    expect(eventToJson(store.events[4] as AuditEvent).resource_changes).toEqual([expect.objectContaining({ resource: { api_key: { href: newKey.href } } })]);
    const recorded = JSON.stringify([store.events, store.events.map(eventToJson)]);
    for (const secret of secrets) expect(recorded).not.toContain(secret);
    expect(recorded).not.toMatch(/authorization|Basic |Bearer /i);
    // a username that is not an API key username may be a pasted secret: not kept
    expect(eventToJson(store.events[2] as AuditEvent).created_by).toEqual({ anonymous: {} });
  });

  it('answers the request even when the event cannot be written', async () => {
    store.failing = true;
    expect((await onLeader(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'role', value: 'web' } }))).statusCode).toBe(201);
    expect((await onLeader(httpEvent('GET', '/api/v2/orgs/1/labels', { auth: null }))).statusCode).toBe(401);
  });

  it('reads no further back than the retention period, nor ahead of now, and caps max_results', async () => {
    const res = await onLeader(httpEvent('GET', '/api/v2/orgs/1/events?timestamp[gte]=0001-01-01T00:00:00Z&timestamp[lte]=9999-01-01T00:00:00Z&max_results=10000', { auth }));
    expect(res.statusCode).toBe(200);
    const query = store.lastQuery;
    expect(query?.since).toBeGreaterThan(Date.now() - 91 * 86_400_000);
    expect(query?.until).toBeLessThan(Date.now() + 120_000);
    expect(query).toMatchObject({ maxResults: 10_000, regions: config.pces.map((p) => p.region) });
  });

  it('answers bad filters with 406 and an Illumio-style body', async () => {
    for (const query of ['timestamp[gte]=yesterday', 'max_results=10001', 'max_results=-1', 'event_type=DROP%20TABLE', 'timestamp[gte]=2026-02-01T00:00:00Z&timestamp[lte]=2026-01-01T00:00:00Z']) {
      const res = await onLeader(httpEvent('GET', `/api/v2/orgs/1/events?${query}`, { auth }));
      expect(res.statusCode, query).toBe(406);
      expect(JSON.parse(res.body ?? '')).toEqual([{ token: 'input_validation_error', message: expect.any(String) }]);
    }
  });
});
