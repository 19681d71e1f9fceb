/**
 * The compiled-policy store against real DynamoDB Local: the layout by change (pointers, groups,
 * content-addressed rule lists, sets, head), the head's conditional commit (the compute sequence whose
 * advance lets a runtime detect that another run completed first), slice progress, and the compute
 * service and the VEN policy view over it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import type { DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { EMPTY_HEAD, nextHead, type GroupRecord, type IndexChanges, type RuleListRecord } from '../../../shared/compute/compiled-index.ts';
import { ComputeConflictError } from '../../../shared/compute/compute-service.ts';
import { CompiledPolicyView } from '../../../shared/compute/policy-view.ts';
import { rulesHashOf } from '../../../shared/policy/compiled.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { queryPartition } from '../../../shared/storage/dynamodb/client.ts';
import { compiledKeys, DynamoDbCompiledPolicyStore } from '../../../shared/storage/dynamodb/compiled-policy.ts';
import { localTableName } from '../../../shared/storage/tables.ts';
import { computeWorld, webToDbPolicy } from '../../helpers/compute.ts';
import { startTestDynamoDb, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('compiled');
const region = 'eu-west-1';

const group = (list: string): GroupRecord => ({ list, hashes: { visibility_only: `${list}-v`, selective: `${list}-s`, full: `${list}-f` } });
const changes = (c: Partial<IndexChanges>): IndexChanges => ({ pointers: new Map(), groups: new Map(), lists: [], ...c });
const run = (c: IndexChanges, policyVersion: number | null = 1) => ({ changes: c, policyVersion, sha256: 'doc', reloadAll: false, at: 7 });

describe('DynamoDbCompiledPolicyStore (DynamoDB Local)', () => {
  let ddb: DynamoDbLocal;
  let client: DynamoDBDocumentClient;
  let store: DynamoDbCompiledPolicyStore;
  const table = localTableName(config, region);

  beforeAll(async () => {
    ddb = await startTestDynamoDb();
    await ensureTables({ endpoint: ddb.endpoint, config });
    client = dynamoDbDocumentClient(ddb.endpoint, region);
    store = new DynamoDbCompiledPolicyStore(client, table);
  });

  afterAll(async () => {
    client?.destroy();
    await ddb?.stop();
  });

  it('commits the head only from the sequence a run read; invalidate moves the sequence and the epoch', async () => {
    expect(await store.head(7)).toEqual(EMPTY_HEAD);
    const h1 = nextHead(EMPTY_HEAD, run(changes({ pointers: new Map([['w1', null]]) })));
    expect(await store.commit(7, 0, h1)).toBe(true);
    expect(await store.commit(7, 0, h1)).toBe(false);
    expect(await store.head(7)).toEqual(h1);
    // the time the head's version became current is kept (read back as written)
    expect(h1.versionAt).toBe(7);
    const h2 = nextHead(h1, run(changes({}), 2));
    expect(await store.commit(7, 1, h2)).toBe(true);
    expect(await store.head(7)).toMatchObject({ seq: 2, policyVersion: 2, rev: 1, log: [{ rev: 1, workloads: ['w1'], groups: [] }] });
    await store.invalidate(7);
    expect(await store.head(7)).toMatchObject({ seq: 3, epoch: 1, policyVersion: 2 });
    expect(await store.commit(7, 2, nextHead(h2, run(changes({}))))).toBe(false);
    expect((await store.head(8)).seq).toBe(0);
    // an org's first run after an invalidate on an empty org
    await store.invalidate(9);
    expect(await store.head(9)).toMatchObject({ seq: 1, epoch: 1, policyVersion: null });
  });

  it('stores pointers and groups (deletes included) and reads them back by one Query or by key', async () => {
    const org = 21;
    await store.putIndex(org, changes({ groups: new Map([['L#1,2', group('a')], ['W#w3', group('b')], ['L#9', group('c')]]), pointers: new Map([['w1', { group: 'L#1,2', mode: 'full' }], ['w2', { group: null, mode: 'idle' }], ['w3', { group: 'W#w3', mode: 'selective' }]]) }), 5);
    await store.putIndex(org, changes({ groups: new Map([['L#9', null]]), pointers: new Map([['w3', null]]) }), 6);
    const index = await store.loadIndex(org);
    // each read back with the time it was written (policy arrival: docs/vens-api.md)
    expect(Object.fromEntries(index.pointers)).toEqual({ w1: { group: 'L#1,2', mode: 'full', computedAt: 5 }, w2: { group: null, mode: 'idle', computedAt: 5 } });
    expect(Object.fromEntries(index.groups)).toEqual({ 'L#1,2': { ...group('a'), computedAt: 5 }, 'W#w3': { ...group('b'), computedAt: 5 } });
    const some = await store.getIndexEntries(org, ['w1', 'w3'], ['L#9', 'W#w3']);
    expect(Object.fromEntries(some.pointers)).toEqual({ w1: { group: 'L#1,2', mode: 'full', computedAt: 5 } });
    expect(Object.fromEntries(some.groups)).toEqual({ 'W#w3': { ...group('b'), computedAt: 5 } });
    // the head is not a group
    await store.commit(org, 0, nextHead(EMPTY_HEAD, run(changes({}))));
    expect((await store.loadIndex(org)).groups.size).toBe(2);
  });

  it('rule lists round-trip, large ones gzipped; sets by id with their hashes', async () => {
    const org = 22;
    const rule = (i: number) => ({ rule_id: i, peers: `ls:${String(i).padStart(32, '0')}`, services: [{ proto: 6, port: i % 65536 }, { proto: 17, port: 1, to_port: 9 }, { proto: -1 }] });
    const small: RuleListRecord = { id: 'small', inbound: [rule(1)], outbound: [], ipSetIds: ['ls:1'] };
    const large: RuleListRecord = { id: 'large', inbound: Array.from({ length: 2_000 }, (_, i) => rule(i)), outbound: [rule(5)], ipSetIds: ['ls:1', 'ls:2'] };
    await store.putRuleLists(org, [small, large]);
    const items = await queryPartition(client, table, { pk: `COMPILED#${org}#R` });
    expect(items.find((i) => i.sk === 'large')?.rules_gz).toBeInstanceOf(Uint8Array);
    const back = await store.getRuleLists(org, ['small', 'large', 'missing']);
    expect(back.get('small')).toEqual(small);
    expect(back.get('large')).toEqual(large);
    expect(back.has('missing')).toBe(false);
    await store.putIpSets(org, [{ id: 'ls:1', members: ['10.0.0.1'], hash: 'h1' }, { id: 'ls:2', members: [], hash: 'h2' }]);
    expect(await store.ipSetHashes(org, ['ls:1', 'ls:2', 'ls:3'])).toEqual(new Map([['ls:1', 'h1'], ['ls:2', 'h2']]));
    expect(await store.getIpSets(org, ['ls:2', 'ls:1'])).toEqual([{ id: 'ls:2', members: [], hash: 'h2' }, { id: 'ls:1', members: ['10.0.0.1'], hash: 'h1' }]);
    // sets of another org are apart
    expect(await store.getIpSets(org + 1, ['ls:1'])).toEqual([]);
  });

  it('records slice progress idempotently, per document', async () => {
    expect(await store.sliceProgress(7, 3)).toBeNull();
    await store.markSlicesDone(7, 3, [1], 4);
    await store.markSlicesDone(7, 3, [1], 4);
    await store.markSlicesDone(7, 3, [0], 4);
    expect((await store.sliceProgress(7, 3))?.done).toEqual(new Set([0, 1]));
    await store.markSlicesDone(7, 3, [2, 3], 4);
    expect((await store.sliceProgress(7, 3))?.done).toEqual(new Set([0, 1, 2, 3]));
    await store.markSlicesDone(7, 9, [0], 2, 'sha-a');
    await store.markSlicesDone(7, 9, [1], 2, 'sha-a');
    expect((await store.sliceProgress(7, 9, 'sha-a'))?.done).toEqual(new Set([0, 1]));
    // a second leader's version 9 (a different document) after a failover
    expect(await store.sliceProgress(7, 9, 'sha-b')).toBeNull();
    await store.markSlicesDone(7, 9, [1], 3, 'sha-b');
    expect(await store.sliceProgress(7, 9, 'sha-b')).toEqual({ slices: 3, done: new Set([1]) });
    expect(await store.sliceProgress(7, 9, 'sha-a')).toBeNull();
  });

  it('the compute service over DynamoDB: a provision that changes one rule writes the groups, not a pointer per workload; the policy route and the VEN view read it', async () => {
    const org = 1;
    const facts = [
      ...Array.from({ length: 120 }, (_, i) => ({ id: `web${i}`, labels: [1], ips: [`10.0.0.${i + 1}`], enforcementMode: 'full' as const, managingPceFqdn: 'me' })),
      ...Array.from({ length: 80 }, (_, i) => ({ id: `db${i}`, labels: [2], ips: [`10.0.1.${i + 1}`], enforcementMode: 'full' as const, managingPceFqdn: 'me' })),
    ];
    const world = computeWorld(store, facts);
    const compute = world.runtime();
    await compute.run({ version: 1, kind: 'recompute_all', org_id: org, policy_version: 1, slice: 0, slices: 1, requested_at: 0 });
    expect(await store.summary(org)).toMatchObject({ policyVersion: 1, workloads: 200, groups: 2, missingGroups: 0 });
    const pointersAt = async () => (await queryPartition(client, table, { pk: compiledKeys.pointerPartition(org), attributes: ['sk', 'computed_at'] })).map((i) => Number(i.computed_at));
    const before = await pointersAt();

    world.setActive({ version: 2, snapshot: webToDbPolicy(2, 6543) });
    const out = await compute.run({ version: 1, kind: 'recompute_all', org_id: org, policy_version: 2, slice: 0, slices: 1, requested_at: 0 });
    expect(out).toMatchObject({ workloadsComputed: 200, pointersWritten: 0, groupsWritten: 2, ruleListsWritten: 2, ipSetsWritten: 0 });
    expect(await pointersAt()).toEqual(before);
    const db = await store.getPolicy(org, 'db7');
    expect(db?.policy).toMatchObject({ policyVersion: 2, enforcementMode: 'full', inbound: [{ ruleId: 1, services: [{ proto: 6, port: 6543 }] }] });

    const view = new CompiledPolicyView({ store });
    // available since the later of version 2's run and the db group's rewrite (the same run here)
    expect(await view.current(org, 'db7')).toEqual({ policyVersion: 2, rulesHash: db?.policy.rulesHash, availableAt: (await store.head(org)).versionAt });
    expect((await store.head(org)).versionAt).toBe(db?.computedAt);
    const full = await view.fetch(org, 'web3', undefined);
    if (!full?.rules) throw new Error('no rules');
    expect(rulesHashOf(full.rules)).toBe(full.rules_hash);
    expect(full.ip_sets.map((s) => s.members)).toEqual([['10.0.1.1-10.0.1.80']]);
  });

  it('two compute runtimes: the one overtaken fails with a conflict, and its retry leaves the newest IP set stored', async () => {
    const org = 2;
    const { runtime, setFacts, facts, onNextRead } = computeWorld(store, [
      { id: 'web1', labels: [1], ips: ['10.0.0.1'], enforcementMode: 'full', managingPceFqdn: 'me' },
      { id: 'db1', labels: [2], ips: ['10.0.1.1'], enforcementMode: 'full', managingPceFqdn: 'other' },
    ]);
    const [a, b] = [runtime(), runtime()];
    const provision = { version: 1 as const, kind: 'recompute_all' as const, org_id: org, policy_version: 1, slice: 0, slices: 1, requested_at: 0 };
    const changed = { version: 1 as const, kind: 'workload_changed' as const, org_id: org, workload_ids: ['db1'], requested_at: 0 };
    const peers = async () => {
      const web1 = (await store.getPolicy(org, 'web1'))?.policy;
      return (await store.getIpSets(org, [web1?.outbound[0]?.peers ?? '']))[0]?.members;
    };
    const withDb1 = (ip: string) => facts().map((f) => (f.id === 'db1' ? { ...f, ips: [ip] } : f));

    await a.run(provision);
    expect(await peers()).toEqual(['10.0.1.1']);
    setFacts(withDb1('10.0.1.2'));
    onNextRead(async () => {
      setFacts(withDb1('10.0.1.3'));
      await b.run(changed);
    });
    await expect(a.run(changed)).rejects.toBeInstanceOf(ComputeConflictError);
    expect(await peers()).toEqual(['10.0.1.2']); // a's older view landed last
    await b.run(changed); // the redelivered job, on the runtime that overtook: the invalidated sequence sends it to the store
    expect(await peers()).toEqual(['10.0.1.3']);
  });
});
