/**
 * The audit trail on DynamoDB Local: events in the writing PCE's day partitions of the global table
 * (stamped, with the TTL attribute the table expires them by), read back newest first across every
 * region's partitions with filters; and through the API handler, a write and a 401 on the leader show
 * in GET /events with no secret.
 */
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambdas/api/app.ts';
import { AuditTrail, EVENT_RETENTION_DAYS } from '../../../shared/audit/audit-trail.ts';
import { eventDay, type AuditEvent } from '../../../shared/audit/event.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { globalTableAdapters } from '../../../shared/storage/dynamodb/adapters.ts';
import { DynamoDbAuditEventStore } from '../../../shared/storage/dynamodb/audit-events.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { keys } from '../../../shared/storage/keys.ts';
import { GLOBAL_TABLE, globalTableName } from '../../../shared/storage/tables.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { httpEvent, lambdaContext } from '../../helpers/events.ts';
import { FakeDirectory, FakeLagStore, FakeRuntimeState, FakeStatusStore } from '../../helpers/fakes.ts';
import { FakeJobStore } from '../../helpers/workload-fakes.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('audit');
const region = 'us-east-1';
const table = globalTableName(config);
const regions = config.pces.map((p) => p.region);
const DAY = 86_400_000;

function event(id: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id,
    orgId: 1,
    timestamp: 0,
    pceFqdn: 'pce-us.sc.example.com',
    region,
    principal: { kind: 'user', userHref: '/users/1', username: 'api_0000000000000001' },
    eventType: 'label.create',
    status: 'success',
    severity: 'info',
    apiEndpoint: '/api/v2/orgs/1/labels',
    apiMethod: 'POST',
    httpStatusCode: 201,
    srcIp: '10.0.0.1',
    errorTokens: [],
    resourceChanges: [],
    ...overrides,
  };
}

describe('audit events on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  // a day ahead, so DynamoDB Local's TTL sweeper never sees these as expired
  const now = Date.now() + DAY;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client } = storage);
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('stores each event in its PCE and day partition, stamped and with the TTL, and reads every region newest first', async () => {
    const trailUs = new AuditTrail({ store: new DynamoDbAuditEventStore(client, table, region), pceFqdn: 'pce-us', region, regions, defaultOrgId: 1, now: () => now });
    const recorded: AuditEvent[] = [];
    for (let i = 0; i < 3; i++) {
      const t = now - i * DAY - 1_000;
      const trail = new AuditTrail({ store: new DynamoDbAuditEventStore(client, table, region), pceFqdn: 'pce-us', region, regions, defaultOrgId: 1, now: () => t });
      const e = await trail.record({ method: 'PUT', path: `/api/v2/orgs/1/labels/${i + 1}`, status: 204, orgId: 1, caller: { userId: 1, authUsername: 'api_0000000000000001', orgId: 1 }, claimedUsername: null, srcIp: '10.0.0.1', createdHref: null, errorTokens: [] });
      if (e) recorded.push(e);
    }
    // an event a member recorded (its item replicated here): the member's own region wrote it
    const euStore = new DynamoDbAuditEventStore(client, table, 'eu-west-1');
    const euEvent = (await new AuditTrail({ store: euStore, pceFqdn: 'pce-eu', region: 'eu-west-1', regions, defaultOrgId: 1, now: () => now - 500 }).record({ method: 'GET', path: '/api/v2/orgs/1/labels', status: 401, orgId: 1, caller: null, claimedUsername: 'api_00000000000000ee', srcIp: '10.0.0.2', createdHref: null, errorTokens: ['authentication_failed'] })) as AuditEvent;
    await expect(euStore.put(event('01', { region }))).rejects.toThrow(/one writer region/);

    const first = recorded[0] as AuditEvent;
    const item = (await client.send(new GetCommand({ TableName: table, Key: { pk: keys.events(1, region, eventDay(first.timestamp)), sk: first.id }, ConsistentRead: true }))).Item;
    expect(item).toMatchObject({ origin_region: region, updated_at: first.timestamp, expires_at: Math.floor(first.timestamp / 1000) + EVENT_RETENTION_DAYS * 86_400, event_type: 'label.update' });
    expect(GLOBAL_TABLE.timeToLiveAttribute).toBe('expires_at');
    expect((await client.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription).toMatchObject({ AttributeName: 'expires_at', TimeToLiveStatus: 'ENABLED' });

    const all = await trailUs.list(1, {});
    expect(all.map((e) => e.id)).toEqual([euEvent.id, ...recorded.map((e) => e.id)]);
    expect((await trailUs.list(1, { maxResults: 2 })).map((e) => e.id)).toEqual([euEvent.id, recorded[0]?.id]);
    expect((await trailUs.list(1, { eventType: 'request.authentication_failed' })).map((e) => e.id)).toEqual([euEvent.id]);
    expect((await trailUs.list(1, { createdBy: 'api_00000000000000ee' })).map((e) => e.id)).toEqual([euEvent.id]);
    expect((await trailUs.list(1, { createdBy: '/users/1' })).map((e) => e.id)).toEqual(recorded.map((e) => e.id));
    expect((await trailUs.list(1, { since: now - DAY - 2_000, until: now - 900 })).map((e) => e.id)).toEqual([recorded[0]?.id, recorded[1]?.id]);
    expect((await trailUs.list(2, {})).length).toBe(0);
    expect(await trailUs.get(1, euEvent.id)).toEqual(euEvent);
    expect(await trailUs.get(1, recorded[2]?.id ?? '')).toEqual(recorded[2]);
  });

  it('shows a write and a 401 on the leader in GET /events, with no secret', async () => {
    const global = globalTableAdapters(client, table, region);
    const key = generateApiKey({ userId: 3, orgId: 1, now: Date.now() });
    await global.apiKeys.put(key.record);
    const auth = { username: key.record.authUsername, secret: key.secret };
    const pce = config.pces.find((p) => p.region === region);
    if (!pce) throw new Error(region);
    const leader = new LeaderView(global.leaderRecord, region, 0);
    const handler = createApiHandler({
      logger: new Logger({ logLevel: 'SILENT' }),
      apiKeys: global.apiKeys,
      leader,
      directory: new FakeDirectory(),
      labels: new LabelService({ labels: global.labels, leader }),
      workloads: new WorkloadService({ workloads: global.workloads, labels: global.labels, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
      jobs: new JobService({ jobs: new FakeJobStore() }),
      supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
      audit: new AuditTrail({ store: global.auditEvents, pceFqdn: pce.fqdn, region, regions, defaultOrgId: config.org_id }),
    });
    const api = async (e: ReturnType<typeof httpEvent>) => (await handler(e, lambdaContext())) as { statusCode?: number; body?: string };

    expect((await api(httpEvent('POST', '/api/v2/orgs/1/labels', { auth, body: { key: 'app', value: 'audited' }, headers: { 'x-secret': 'body-secret-42' } }))).statusCode).toBe(201);
    expect((await api(httpEvent('GET', '/api/v2/orgs/1/labels', { auth: { ...auth, secret: 'wrong-secret-43' } }))).statusCode).toBe(401);
    const res = await api(httpEvent('GET', `/api/v2/orgs/1/events?timestamp[gte]=${new Date(Date.now() - 60_000).toISOString()}`, { auth }));
    expect(res.statusCode).toBe(200);
    const events = JSON.parse(res.body ?? '[]') as Record<string, unknown>[];
    expect(events.slice(0, 2)).toMatchObject([
      { event_type: 'request.authentication_failed', status: 'failure', pce_fqdn: pce.fqdn, created_by: { user: { username: auth.username } }, action: { http_status_code: 401, api_method: 'GET' } },
      { event_type: 'label.create', status: 'success', created_by: { user: { href: '/users/3', username: auth.username } }, action: { http_status_code: 201, api_method: 'POST' } },
    ]);
    for (const secret of [auth.secret, 'body-secret-42', 'wrong-secret-43']) expect(res.body).not.toContain(secret);
  });
});
