/**
 * Workloads and async jobs against real DynamoDB Local: the two-item layout, fenced transactions,
 * per-item outcomes of bulk writes, listFacts for the compute pipeline, chunked job results.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../../shared/api/errors.ts';
import { JobService } from '../../../shared/jobs/job-service.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DATAFILE_CHUNK_BYTES, DynamoDbJobStore } from '../../../shared/storage/dynamodb/jobs.ts';
import { DynamoDbLabelStore } from '../../../shared/storage/dynamodb/labels.ts';
import { DynamoDbLeaderRecordStore } from '../../../shared/storage/dynamodb/leader-record.ts';
import { DynamoDbWorkloadStore, agentItem } from '../../../shared/storage/dynamodb/workloads.ts';
import { jobKeys, workloadKeys } from '../../../shared/storage/workload-keys.ts';
import { globalTableName, localTableName } from '../../../shared/storage/tables.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { WorkloadService, type BulkItemResult } from '../../../shared/workloads/workload-service.ts';
import { workloadToJson } from '../../../shared/workloads/workload.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('wl');
const region = 'us-east-1';
const table = globalTableName(config);
const fqdns = config.pces.map((p) => p.fqdn);

describe('workloads on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  let leaderStore: DynamoDbLeaderRecordStore;
  let store: DynamoDbWorkloadStore;
  let service: WorkloadService;
  let labels: LabelService;

  const actor = (orgId: number) => ({ orgId, userId: 1 });

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client, leader: leaderStore } = storage);
    const leader = new LeaderView(leaderStore, region, 0);
    const labelStore = new DynamoDbLabelStore(client, table, region);
    labels = new LabelService({ labels: labelStore, leader });
    store = new DynamoDbWorkloadStore(client, table, region);
    service = new WorkloadService({ workloads: store, labels: labelStore, leader, pceFqdns: fqdns });
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('stores a workload as a META and a CONTEXT item, stamped, merged on read; updates only the changed part', async () => {
    const web = await labels.create(actor(1), { key: 'role', value: 'web' });
    const prod = await labels.create(actor(1), { key: 'env', value: 'prod' });
    const w = await service.create(actor(1), {
      name: 'web-1',
      hostname: 'web-1.example.com',
      labels: [{ href: `/orgs/1/labels/${web.id}` }, { href: `/orgs/1/labels/${prod.id}` }],
      interfaces: [
        { name: 'eth0', address: '10.0.0.5', cidr_block: 24, default_gateway_address: '10.0.0.1', link_state: 'up' },
        { name: 'eth0', address: 'fd00::5', cidr_block: 64 },
      ],
      public_ip: '203.0.113.5',
      enforcement_mode: 'selective',
      os_detail: 'Ubuntu 22.04.4 LTS',
      managing_pce_fqdn: 'pce-eu.sc.example.com',
    });
    const meta = (await client.send(new GetCommand({ TableName: table, Key: workloadKeys.meta(1, w.id) }))).Item;
    const context = (await client.send(new GetCommand({ TableName: table, Key: workloadKeys.context(1, w.id) }))).Item;
    expect(meta).toMatchObject({ origin_region: region, updated_at: expect.any(Number), name: 'web-1', labels: [web.id, prod.id], enforcement_mode: 'selective', os_detail: 'Ubuntu 22.04.4 LTS', managing_pce_fqdn: 'pce-eu.sc.example.com' });
    expect(meta).not.toHaveProperty('interfaces');
    expect(context).toMatchObject({ origin_region: region, updated_at: expect.any(Number), public_ip: '203.0.113.5', online: true, interfaces: [expect.objectContaining({ address: '10.0.0.5' }), expect.objectContaining({ address: 'fd00::5' })] });
    expect(context).not.toHaveProperty('name');

    const read = await service.get(1, w.id);
    expect(workloadToJson(read)).toEqual(workloadToJson(w));
    const [shown] = await service.toJson(1, [read]);
    expect(shown).toMatchObject({ os_detail: 'Ubuntu 22.04.4 LTS', labels: [{ href: `/orgs/1/labels/${web.id}`, key: 'role', value: 'web' }, { href: `/orgs/1/labels/${prod.id}`, key: 'env', value: 'prod' }] });

    await service.update(actor(1), w.id, { description: 'frontend' });
    const afterMeta = await store.get(1, w.id, { consistent: true });
    expect(afterMeta?.meta.description).toBe('frontend');
    expect(afterMeta?.context?.updatedAt).toBe(w.context?.updatedAt); // context untouched

    await service.update(actor(1), w.id, { online: false, interfaces: [{ name: 'eth1', address: '10.9.9.9' }] });
    const afterContext = await store.get(1, w.id, { consistent: true });
    expect(afterContext?.meta.updatedAt).toBe(afterMeta?.meta.updatedAt); // meta untouched
    expect(afterContext?.context).toMatchObject({ online: false, interfaces: [{ address: '10.9.9.9' }] });

    expect(await store.listFacts(1)).toEqual([{ id: w.id, labels: [web.id, prod.id], ips: ['10.9.9.9'], subnets: ['10.9.9.9'], enforcementMode: 'selective', managingPceFqdn: 'pce-eu.sc.example.com' }]);

    await service.delete(actor(1), w.id);
    expect(await store.get(1, w.id, { consistent: true })).toBeNull();
    const left = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': workloadKeys.partition(1) }, ConsistentRead: true }));
    expect(left.Items ?? []).toEqual([]);
  });

  it('reports per-change outcomes: conflict on a stale read, not_found on a vanished workload', async () => {
    const w = await service.create(actor(2), { name: 'x' });
    const fence = { region, epoch: 1 };
    const next = { ...w, meta: { ...w.meta, name: 'y', updatedAt: w.meta.updatedAt + 1 } };
    expect(await store.apply([{ kind: 'update', current: w, next }], fence)).toEqual(['ok']);
    // `w` is stale now
    const stale = { ...w, meta: { ...w.meta, name: 'z', updatedAt: w.meta.updatedAt + 2 } };
    const other = await service.create(actor(2), { name: 'other' });
    const renamed = { ...other, meta: { ...other.meta, name: 'other-2', updatedAt: other.meta.updatedAt + 1 } };
    expect(await store.apply([{ kind: 'update', current: w, next: stale }, { kind: 'update', current: other, next: renamed }], fence)).toEqual(['conflict', 'ok']);
    expect((await store.get(2, other.id))?.meta.name).toBe('other-2');
    expect(await store.apply([{ kind: 'delete', workload: next }], fence)).toEqual(['ok']);
    expect(await store.apply([{ kind: 'delete', workload: next }, { kind: 'update', current: next, next: { ...next, meta: { ...next.meta, updatedAt: next.meta.updatedAt + 5 } } }], fence)).toEqual(['not_found', 'not_found']);
    // a context-only update must not resurrect a deleted workload
    const ctxOnly = { ...next, context: next.context ? { ...next.context, online: false, updatedAt: (next.context.updatedAt ?? 0) + 5 } : null };
    expect(await store.apply([{ kind: 'update', current: next, next: ctxOnly }], fence)).toEqual(['not_found']);
    expect(await store.get(2, next.id, { consistent: true })).toBeNull();
  });

  it('bulk-creates, -updates and -deletes 1000 workloads with a few bad items, in fenced batches', async () => {
    const db = await labels.create(actor(3), { key: 'role', value: 'db' });
    const bad = new Set([7, 500, 999]);
    const items = Array.from({ length: 1000 }, (_, i) =>
      bad.has(i)
        ? { name: `bad-${i}`, interfaces: [{ name: 'eth0', address: `10.${i}.0.300` }] }
        : { name: `w-${i}`, labels: i % 2 ? [{ href: `/orgs/3/labels/${db.id}` }] : [], interfaces: [{ name: 'eth0', address: `10.3.${Math.floor(i / 250)}.${i % 250}` }] },
    );
    const created = await service.bulkCreate(actor(3), items);
    expect(created).toHaveLength(1000);
    expect(created.filter((r) => r.status === 'created')).toHaveLength(997);
    for (const i of bad) expect(created[i]).toMatchObject({ status: 'validation_failure', href: null, errors: [{ token: 'invalid_ip_address' }] });

    const facts = await store.listFacts(3);
    expect(facts).toHaveLength(997);
    expect(facts.filter((f) => f.labels.includes(db.id))).toHaveLength(498); // odd indices, minus the bad 7 and 999
    expect(new Set(facts.flatMap((f) => f.ips)).size).toBe(997);

    const hrefs = created.flatMap((r) => (r.href ? [r.href] : []));
    const updates: unknown[] = hrefs.map((href, i) => ({ href, enforcement_mode: i % 3 === 0 ? 'full' : 'visibility_only' }));
    updates.push({ href: '/orgs/3/workloads/00000000-0000-4000-8000-000000000000', name: 'ghost' }, { href: '/orgs/3/workloads/11111111-1111-4111-8111-111111111111', enforcement_mode: 'bogus' });
    const updated = await service.bulkUpdate(actor(3), updates);
    expect(updated.filter((r) => r.status === 'updated')).toHaveLength(997);
    expect(updated.at(-2)?.status).toBe('not_found');
    expect(updated.at(-1)).toMatchObject({ status: 'validation_failure', errors: [{ token: 'invalid_enforcement_mode' }] });
    expect((await store.listFacts(3)).filter((f) => f.enforcementMode === 'full')).toHaveLength(333);

    const deleted = await service.bulkDelete(actor(3), [...hrefs.slice(0, 500).map((href) => ({ href })), { href: 'nope' }]);
    expect(deleted.filter((r: BulkItemResult) => r.status === 'deleted')).toHaveLength(500);
    expect(deleted.at(-1)?.status).toBe('validation_failure');
    expect(await store.list(3, { consistent: true })).toHaveLength(497);
  });

  it('a storage error in the second transaction of a bulk request fails only its items; the others are written and answered, and a retry is idempotent', async () => {
    // the real store over a client whose second TransactWriteItems fails with an unexpected error
    let transactions = 0;
    const flaky = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
        return async (command: unknown, ...rest: unknown[]) => {
          if (command instanceof TransactWriteCommand && ++transactions === 2) throw Object.assign(new Error('simulated: socket hang up'), { name: 'InternalServerError' });
          return (target.send as (c: unknown, ...r: unknown[]) => Promise<unknown>)(command, ...rest);
        };
      },
    });
    const leader = new LeaderView(leaderStore, region, 0);
    const storageErrors: unknown[] = [];
    const flakyService = new WorkloadService({
      workloads: new DynamoDbWorkloadStore(flaky, table, region),
      labels: new DynamoDbLabelStore(client, table, region),
      leader,
      pceFqdns: fqdns,
      onStorageError: (err) => storageErrors.push(err),
    });
    const items = Array.from({ length: 200 }, (_, i) => ({ name: `f-${i}`, interfaces: [{ name: 'eth0', address: `10.8.${Math.floor(i / 250)}.${i % 250}` }] }));
    const created = await flakyService.bulkCreate(actor(8), items);
    expect(created).toHaveLength(200);
    const failedItems = created.filter((r) => r.status === 'failure');
    expect(failedItems.length).toBeGreaterThan(0);
    expect(failedItems.length).toBeLessThan(200);
    expect(created.filter((r) => r.status === 'created')).toHaveLength(200 - failedItems.length);
    for (const r of failedItems) expect(r).toMatchObject({ href: null, token: 'storage_error', errors: [{ token: 'storage_error' }] });
    expect(JSON.stringify(created)).not.toContain('simulated');
    expect(storageErrors).toHaveLength(1);
    // what the answer says is what is stored
    const stored = await store.list(8, { consistent: true });
    expect(new Set(stored.map((w) => `/orgs/8/workloads/${w.id}`))).toEqual(new Set(created.flatMap((r) => (r.status === 'created' && r.href ? [r.href] : []))));

    // the client retries the failed items (the flaky transaction is behind us) and repeats an update: no duplicates, same state
    const retried = await flakyService.bulkCreate(actor(8), items.filter((_, i) => created[i]?.status === 'failure'));
    expect(retried.every((r) => r.status === 'created')).toBe(true);
    const all = await store.list(8, { consistent: true });
    expect(all).toHaveLength(200);
    const update = all.map((w) => ({ href: `/orgs/8/workloads/${w.id}`, description: 'checked' }));
    for (let i = 0; i < 2; i++) expect((await flakyService.bulkUpdate(actor(8), update)).every((r) => r.status === 'updated')).toBe(true);
    expect((await store.list(8, { consistent: true })).filter((w) => w.meta.description === 'checked')).toHaveLength(200);
  });

  it('lists a page reading about as many items as it returns, in creation order, and counts from the keys only (managed, unpaired and orphan items included)', async () => {
    const org = 7;
    // counts the items DynamoDB evaluated for the store's Queries
    let scanned = 0;
    const counting = { send: async (cmd: unknown) => {
      const out = (await client.send(cmd as QueryCommand)) as { ScannedCount?: number };
      scanned += out.ScannedCount ?? 0;
      return out;
    } } as unknown as DynamoDBDocumentClient;
    const metered = new DynamoDbWorkloadStore(counting, table, region);
    const made = await service.bulkCreate(actor(org), Array.from({ length: 300 }, (_, i) => ({ name: `p-${i}` })));
    expect(made.every((r) => r.status === 'created')).toBe(true);
    // a managed workload known only from its agent item, one unpaired (hidden), an orphan context item (hidden)
    const agent = { agentId: 'a-1', pceFqdn: fqdns[0] ?? '', region, since: 1, pairedPceFqdn: fqdns[0] ?? '', pairedAt: 1, pairingProfileId: null, hostname: 'managed', osId: null, osDetail: null, agentVersion: null, status: 'active' as const, interfaces: [], online: true, labels: [], enforcementMode: 'idle' as const, visibilityLevel: null, updatedAt: 1 };
    const put = (Item: Record<string, unknown>) => client.send(new PutCommand({ TableName: table, Item }));
    await put(agentItem(org, '00000000-0000-4000-8000-000000000001', agent, region));
    await put(agentItem(org, '00000000-0000-4000-8000-000000000002', agent, region));
    await put({ ...workloadKeys.meta(org, '00000000-0000-4000-8000-000000000002'), org_id: org, unpaired_at: 5, updated_at: 5 });
    await put({ ...workloadKeys.context(org, '00000000-0000-4000-8000-000000000003'), org_id: org, online: true, updated_at: 5 });

    const all = (await store.list(org)).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(all).toHaveLength(301);
    expect(await metered.count(org)).toBe(301);
    for (const n of [1, 2, 50, 299, 301, 400]) {
      scanned = 0;
      const page = await metered.page(org, n);
      expect(page.map((w) => w.id)).toEqual(all.slice(0, n).map((w) => w.id));
      if (n <= 50) expect(scanned).toBeLessThanOrEqual(2 * n + 8);
    }
    // the service: no filter -> the page and the count; ids are time-ordered, so the oldest come first
    const { items, total } = await service.list(org, {}, 3);
    expect(total).toBe(301);
    expect(items.map((w) => w.meta.name ?? w.meta.hostname)).toEqual(['managed', 'p-0', 'p-1']);
    expect((await service.list(org, { name: 'p-29' }, 500)).items.map((w) => w.meta.name)).toEqual(['p-29', ...Array.from({ length: 10 }, (_, i) => `p-${290 + i}`)]);
  });

  it('stores async job results in the local table, chunked, with a TTL', async () => {
    const local = localTableName(config, region);
    const jobs = new JobService({ jobs: new DynamoDbJobStore(client, local) });
    const requester = { orgId: 4, userId: 1, authUsername: 'api_0123456789abcdef' };
    const big = Array.from({ length: 2_000 }, (_, i) => ({ i, pad: 'é'.repeat(200) })); // ~830 KB, multi-byte characters across chunk borders
    const job = await jobs.runNow(requester, 'workloads:get', 'GET /api/v2/orgs/4/workloads', async () => big);
    expect(job.status).toBe('done');
    if (!job.resultId) throw new Error('no result');
    const file = await jobs.result(requester, job.resultId);
    expect(JSON.parse(new TextDecoder().decode(file.body))).toEqual(big);

    const items = (await client.send(new QueryCommand({ TableName: local, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': jobKeys.datafilePartition(4, job.resultId) }, ConsistentRead: true }))).Items ?? [];
    const chunks = items.filter((it) => String(it.sk).startsWith('CHUNK#'));
    expect(chunks.length).toBe(Math.ceil(file.body.byteLength / DATAFILE_CHUNK_BYTES));
    expect(chunks.length).toBeGreaterThan(1);
    const nowSeconds = Date.now() / 1000;
    for (const it of items) expect(Number(it.expires_at)).toBeGreaterThan(nowSeconds + 23 * 3600);
    const jobItem = (await client.send(new GetCommand({ TableName: local, Key: jobKeys.job(4, job.id) }))).Item;
    expect(jobItem).toMatchObject({ status: 'done', result_id: job.resultId, expires_at: job.expiresAt, requested_by_key: requester.authUsername });
    // stored with its owner: another key, or another org, reads nothing (404)
    const other = { ...requester, authUsername: 'api_fedcba9876543210' };
    await expect(jobs.get(other, job.id)).rejects.toMatchObject({ statusCode: 404 });
    await expect(jobs.result(other, job.resultId)).rejects.toMatchObject({ statusCode: 404 });
    await expect(jobs.get({ ...requester, orgId: 5 }, job.id)).rejects.toMatchObject({ statusCode: 404 });
    await expect(jobs.result({ ...requester, orgId: 5 }, job.resultId)).rejects.toMatchObject({ statusCode: 404 });

    const small = new DynamoDbJobStore(client, local, 1_000);
    await small.putDatafile({ orgId: 4, id: 'tiny-chunks', contentType: 'application/json', requestedByKey: requester.authUsername, body: new TextEncoder().encode(JSON.stringify(big.slice(0, 100))), createdAt: 1, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    expect(JSON.parse(new TextDecoder().decode((await small.getDatafile(4, 'tiny-chunks'))?.body))).toEqual(big.slice(0, 100));
    expect(await small.getDatafile(4, 'missing')).toBeNull();

    // a failed job keeps its message for the client (result.message)
    const failed = await jobs.runNow(requester, 'workloads:get', 'GET /x', async () => {
      throw new Error('internal detail');
    });
    expect(await jobs.get(requester, failed.id)).toMatchObject({ status: 'failed', resultId: null, failureMessage: failed.failureMessage });
    expect(failed.failureMessage).toContain(failed.id);
  });

  it('a repeated identical async request writes only its job: the datafile stored a moment ago is reused, not rewritten', async () => {
    const local = localTableName(config, region);
    const store = new DynamoDbJobStore(client, local);
    let datafileWrites = 0;
    const put = store.putDatafile.bind(store);
    store.putDatafile = async (file) => {
      datafileWrites++;
      await put(file);
    };
    const jobs = new JobService({ jobs: store });
    const requester = { orgId: 6, userId: 1, authUsername: 'api_0123456789abcdef' };
    const rows = Array.from({ length: 1_500 }, (_, i) => ({ i, pad: 'x'.repeat(300) })); // ~480 KB: two chunks
    const first = await jobs.runNow(requester, 'workloads:get', 'GET /x', async () => rows);
    const meta = async () => (await client.send(new GetCommand({ TableName: local, Key: jobKeys.datafileMeta(6, first.resultId ?? '') }))).Item;
    const stored = await meta();
    const second = await jobs.runNow(requester, 'workloads:get', 'GET /x', async () => rows);
    expect(second).toMatchObject({ status: 'done', resultId: first.resultId });
    expect(second.id).not.toBe(first.id);
    expect(datafileWrites).toBe(1);
    expect(await meta()).toEqual(stored);
    expect(JSON.parse(new TextDecoder().decode((await jobs.result(requester, second.resultId ?? '')).body))).toEqual(rows);
    // a changed result is a new datafile
    const third = await jobs.runNow(requester, 'workloads:get', 'GET /x', async () => rows.slice(1));
    expect(third.resultId).not.toBe(first.resultId);
    expect(datafileWrites).toBe(2);
  });

  it('a demoted leader is refused by the fence (403), single and bulk, and writes nothing', async () => {
    const view = new LeaderView(leaderStore, region, 60_000); // long cache: still believes it leads
    const stale = new WorkloadService({ workloads: store, labels: new DynamoDbLabelStore(client, table, region), leader: view, pceFqdns: fqdns });
    const before = await stale.create(actor(5), { name: 'before' });
    const current = await leaderStore.get({ consistent: true });
    if (!current) throw new Error('no leader record');
    await leaderStore.replace(current, { leaderRegion: 'eu-west-1', leaderFqdn: 'pce-eu.sc.example.com', epoch: 2, assignedAt: Date.now(), previousLeaderFqdn: current.leaderFqdn });

    const refused = stale.create(actor(5), { name: 'after' });
    await expect(refused).rejects.toBeInstanceOf(NotLeaderError);
    await expect(refused).rejects.toMatchObject({ leaderFqdn: 'pce-eu.sc.example.com', statusCode: 403 });
    // leadership comes back (epoch 3), a fresh view caches that, then it moves away again (epoch 4)
    await leaderStore.replace({ ...current, leaderRegion: 'eu-west-1', leaderFqdn: 'pce-eu.sc.example.com', epoch: 2 }, { ...current, epoch: 3 });
    const view2 = new LeaderView(leaderStore, region, 60_000);
    expect(await view2.fence()).toEqual({ region, epoch: 3 });
    await leaderStore.replace({ ...current, epoch: 3 }, { leaderRegion: 'eu-west-1', leaderFqdn: 'pce-eu.sc.example.com', epoch: 4, assignedAt: Date.now(), previousLeaderFqdn: current.leaderFqdn });
    const stale2 = new WorkloadService({ workloads: store, labels: new DynamoDbLabelStore(client, table, region), leader: view2, pceFqdns: fqdns });
    await expect(stale2.bulkCreate(actor(5), [{ name: 'a' }, { name: 'b' }])).rejects.toBeInstanceOf(NotLeaderError);
    await expect(stale2.update(actor(5), before.id, { name: 'renamed' })).rejects.toBeInstanceOf(NotLeaderError);
    expect((await store.list(5, { consistent: true })).map((w) => w.meta.name)).toEqual(['before']);
  });
});
