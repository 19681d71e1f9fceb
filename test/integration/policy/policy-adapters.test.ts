/**
 * The policy adapters against real DynamoDB Local: draft transactions (fence, optimistic head, id
 * counters), provisioning (chunks + version item + ACTIVE_POLICY pointer) and snapshot reads that never
 * return part of a version.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotLeaderError, ValidationError } from '../../../shared/api/errors.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import type { PolicyActor } from '../../../shared/policy/objects/common.ts';
import { POLICY_IDS_PER_EPOCH } from '../../../shared/policy/objects/defaults.ts';
import { DraftChangedError } from '../../../shared/policy/objects/errors.ts';
import { PolicyObjectService, type PolicyServiceDeps } from '../../../shared/policy/objects/policy-object-service.ts';
import type { PolicyStore, ProvisionWrite } from '../../../shared/policy/objects/ports.ts';
import { ProvisioningService } from '../../../shared/policy/objects/provisioning-service.ts';
import type { ActivePolicyDocument } from '../../../shared/policy/snapshot/document.ts';
import { SnapshotChecksumError, SnapshotIncompleteError } from '../../../shared/policy/snapshot/errors.ts';
import { toPolicySnapshot } from '../../../shared/policy/snapshot/to-policy-snapshot.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbLabelStore } from '../../../shared/storage/dynamodb/labels.ts';
import { DynamoDbLeaderRecordStore } from '../../../shared/storage/dynamodb/leader-record.ts';
import { DynamoDbPolicyStore } from '../../../shared/storage/dynamodb/policy-drafts.ts';
import { DynamoDbPolicyLabelSource } from '../../../shared/storage/dynamodb/policy-labels.ts';
import { DynamoDbPolicySnapshotStore } from '../../../shared/storage/dynamodb/policy-snapshots.ts';
import { parseActivePolicyPointer, policyKeys } from '../../../shared/storage/policy-keys.ts';
import { globalTableName } from '../../../shared/storage/tables.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('policy');
const region = 'us-east-1';
const table = globalTableName(config);
const fence1 = { region, epoch: 1 };

/** The store, recording the documents it was asked to provision. */
function recording(store: PolicyStore): PolicyStore & { documents: ActivePolicyDocument[] } {
  const documents: ActivePolicyDocument[] = [];
  return {
    documents,
    loadDraft: (o) => store.loadDraft(o),
    listDraft: (o, t) => store.listDraft(o, t),
    getDraft: (o, t, i) => store.getDraft(o, t, i),
    loadDraftHead: (o) => store.loadDraftHead(o),
    getDrafts: (o, t, ids) => store.getDrafts(o, t, ids),
    nameClaim: (o, t, n) => store.nameClaim(o, t, n),
    writeDraft: (w, f) => store.writeDraft(w, f),
    provision: async (w: ProvisionWrite, f) => {
      documents.push(w.document);
      return store.provision(w, f);
    },
  };
}

describe('policy adapters (DynamoDB Local)', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  let leaderStore: DynamoDbLeaderRecordStore;
  let labels: LabelService;

  const services = (options: { chunkChars?: number; leaderTtlMs?: number } = {}) => {
    const store = recording(new DynamoDbPolicyStore(client, table, region, { chunkChars: options.chunkChars }));
    const deps: PolicyServiceDeps = {
      store,
      snapshots: new DynamoDbPolicySnapshotStore(client, table),
      labels: new DynamoDbPolicyLabelSource(client, table),
      leader: new LeaderView(leaderStore, region, options.leaderTtlMs ?? 0),
    };
    return { store, deps, objects: new PolicyObjectService(deps), provisioning: new ProvisioningService(deps) };
  };
  const items = async (pk: string) => (await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }))).Items ?? [];
  const hrefOf = (orgId: number, type: string, id: number) => `/orgs/${orgId}/sec_policy/draft/${type}/${id}`;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client, leader: leaderStore } = storage);
    labels = new LabelService({ labels: new DynamoDbLabelStore(client, table, region), leader: new LeaderView(leaderStore, region, 0) });
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('draft CRUD: one stamped item per object, epoch-scoped ids, head revision per write, conflicts retried', async () => {
    const actor: PolicyActor = { orgId: 11, userId: 1 };
    const { objects } = services();
    const web = await labels.create(actor, { key: 'role', value: 'web' });
    const svc = await objects.create(actor, 'services', { name: 'https', service_ports: [{ proto: 6, port: 443 }] });
    expect(svc.object.id).toBe(POLICY_IDS_PER_EPOCH + 1);
    const lg = await objects.create(actor, 'label_groups', { name: 'web', key: 'role', labels: [{ href: `/orgs/11/labels/${web.id}` }] });
    const rs = await objects.create(actor, 'rule_sets', {
      name: 'rs',
      rules: [{ providers: [{ label_group: { href: hrefOf(11, 'label_groups', lg.object.id) } }], consumers: [{ actors: 'ams' }], ingress_services: [{ href: hrefOf(11, 'services', svc.object.id) }] }],
    });
    expect(rs.object.rules[0]?.id).toBe(rs.object.id + 1);

    const raw = (await client.send(new GetCommand({ TableName: table, Key: policyKeys.draftObject(11, 'services', svc.object.id) }))).Item;
    expect(raw).toMatchObject({ object_type: 'services', name: 'https', origin_region: region, updated_at: svc.object.updatedAt, object: { servicePorts: [{ proto: 6, port: 443 }] } });
    const head = (await client.send(new GetCommand({ TableName: table, Key: policyKeys.draftHead(11) }))).Item;
    expect(head).toMatchObject({ revision: 3, origin_region: region });
    expect((await client.send(new GetCommand({ TableName: table, Key: policyKeys.idCounter(11, 1) }))).Item).toMatchObject({ last: 4 });

    await objects.update(actor, 'services', svc.object.id, { name: 'https-2' });
    expect((await objects.get(11, 'draft', 'services', svc.object.id)).object.name).toBe('https-2');
    await expect(objects.delete(actor, 'services', svc.object.id)).rejects.toMatchObject({ errors: [{ token: 'object_in_use' }] });
    const rule = rs.object.rules[0];
    if (!rule) throw new Error('no rule');
    await objects.deleteRule(actor, rs.object.id, rule.id);
    await objects.delete(actor, 'services', svc.object.id);
    expect(await objects.get(11, 'draft', 'services', svc.object.id).catch((e: unknown) => e)).toMatchObject({ statusCode: 404 });

    // concurrent writes on the leader: serialised by the head, all land, ids distinct
    const many = await Promise.all(Array.from({ length: 6 }, (_, i) => objects.create(actor, 'ip_lists', { name: `ipl-${i}`, ip_ranges: [{ from_ip: `10.0.${i}.0/24` }] })));
    expect(new Set(many.map((v) => v.object.id)).size).toBe(6);
    expect((await objects.list(11, 'draft', 'ip_lists', {}, 500)).total).toBe(6);
  });

  it('label groups: created from the head, the name claim and the contained groups (BatchGet); claims stop duplicates and go stale harmlessly; legacy drafts get claimed once', async () => {
    const actor: PolicyActor = { orgId: 16, userId: 1 };
    const { store, objects } = services();
    const a = await objects.create(actor, 'label_groups', { name: 'A', key: 'app' });
    const b = await objects.create(actor, 'label_groups', { name: 'b', key: 'app', sub_groups: [{ href: hrefOf(16, 'label_groups', a.object.id) }] });
    expect(await store.loadDraftHead(16)).toMatchObject({ head: { revision: 2, namesClaimed: true }, counters: [{ epoch: 1, last: 2 }] });
    expect((await store.getDrafts(16, 'label_groups', [a.object.id, b.object.id, 999])).map((g) => g.name).sort()).toEqual(['A', 'b']);
    expect(await store.nameClaim(16, 'label_groups', 'a')).toBe(a.object.id);
    expect(await objects.create(actor, 'label_groups', { name: 'B', key: 'app' }).catch((e: unknown) => e)).toMatchObject({ errors: [{ token: 'name_in_use' }] });
    // the claim is conditional: a write that did not see another owner fails and is retried
    const head = (await store.loadDraftHead(16)).head;
    const c = { ...a.object, id: a.object.id + 100, name: 'a' };
    await expect(store.writeDraft({ orgId: 16, expectedHead: head, ids: null, put: [{ type: 'label_groups', object: c, nameClaim: { staleOwner: null } }], remove: [], now: Date.now() }, fence1)).rejects.toThrow(DraftChangedError);
    // a renamed group's old claim is stale: the name is free again
    await objects.update(actor, 'label_groups', a.object.id, { name: 'a2' });
    expect((await objects.create(actor, 'label_groups', { name: 'a', key: 'app' })).object.name).toBe('a');
    // drafts from before claims: no head flag, no claims; the next write claims every name at once
    for (const item of await items(policyKeys.draftPartition(16))) {
      if (String(item.sk).startsWith(policyKeys.nameClaimPrefix)) await client.send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }));
    }
    await client.send(new UpdateCommand({ TableName: table, Key: policyKeys.draftHead(16), UpdateExpression: 'REMOVE names_claimed' }));
    expect(await objects.create(actor, 'label_groups', { name: 'A2', key: 'app' }).catch((e: unknown) => e)).toMatchObject({ errors: [{ token: 'name_in_use' }] });
    await objects.create(actor, 'label_groups', { name: 'd', key: 'app' });
    expect((await store.loadDraftHead(16)).head?.namesClaimed).toBe(true);
    expect(await store.nameClaim(16, 'label_groups', 'b')).toBe(b.object.id);
    expect(await store.nameClaim(16, 'label_groups', 'A2')).toBe(a.object.id);
    // an interrupted migration (one claim still missing): the next write claims what is missing
    await client.send(new DeleteCommand({ TableName: table, Key: policyKeys.nameClaim(16, 'label_groups', 'b') }));
    await client.send(new UpdateCommand({ TableName: table, Key: policyKeys.draftHead(16), UpdateExpression: 'REMOVE names_claimed' }));
    await objects.create(actor, 'label_groups', { name: 'e', key: 'app' });
    expect(await store.nameClaim(16, 'label_groups', 'b')).toBe(b.object.id);
    expect((await store.loadDraftHead(16)).head?.namesClaimed).toBe(true);
  });

  it('provision writes chunks, a version item and the ACTIVE_POLICY pointer; the snapshot reads back identical', async () => {
    const actor: PolicyActor = { orgId: 12, userId: 1 };
    const { store, objects, provisioning } = services();
    expect(await provisioning.ensureDefaultPolicy({ orgId: 12, fence: fence1, now: Date.now() })).toEqual({ version: 1, created: true });
    expect(await provisioning.ensureDefaultPolicy({ orgId: 12, fence: fence1, now: Date.now() })).toEqual({ version: 1, created: false });
    const env = await labels.create(actor, { key: 'env', value: 'prod' });
    const rs = await objects.create(actor, 'rule_sets', {
      name: 'any',
      scopes: [[{ label: { href: `/orgs/12/labels/${env.id}` } }]],
      rules: [{ providers: [{ actors: 'ams' }], consumers: [{ ip_list: { href: hrefOf(12, 'ip_lists', 1) } }], ingress_services: [{ href: hrefOf(12, 'services', 1) }] }],
    });
    const v2 = await provisioning.provision(actor, { update_description: 'open up' });
    expect(v2).toMatchObject({ version: 2, epoch: 1, commitMessage: 'open up', objectCounts: { rule_sets: 1, services: 1, ip_lists: 1, label_groups: 0 }, content: { chunks: 1 } });

    const pointer = (await client.send(new GetCommand({ TableName: table, Key: { pk: 'ORG#12#POLICY', sk: 'ACTIVE_POLICY' } }))).Item;
    expect(pointer).toMatchObject({ version: 2, epoch: 1, sha256: v2.content.sha256, chunks: 1, origin_region: region, updated_at: expect.any(Number) });
    expect(parseActivePolicyPointer(pointer ?? {})).toEqual({ orgId: 12, version: 2, epoch: 1, sha256: v2.content.sha256 });
    expect((await client.send(new GetCommand({ TableName: table, Key: { pk: 'ORG#12#POLICY', sk: 'VERSION#0000000002#E000001' } }))).Item).toMatchObject({ commit_message: 'open up', origin_region: region });
    expect(await items('ORG#12#POLICY#v2#E1')).toMatchObject([{ sk: 'CHUNK#0000', origin_region: region, data: expect.any(String) }]);

    // a fresh reader (another PCE's cold Lambda) gets exactly what was provisioned
    const reader = new DynamoDbPolicySnapshotStore(client, table);
    const sent = store.documents.at(-1);
    if (!sent) throw new Error('nothing provisioned');
    expect((await reader.readActive(12))?.document).toStrictEqual(JSON.parse(JSON.stringify(sent)));
    const active = await reader.getActive(12);
    expect(active).toMatchObject({ version: 2, sha256: v2.content.sha256 });
    expect(active?.snapshot).toStrictEqual(toPolicySnapshot(sent));
    expect(active?.snapshot.ruleSets).toMatchObject([{ id: rs.object.id, scopes: [[{ kind: 'label', id: env.id }]] }]);
    expect(active?.snapshot.labels).toEqual([{ id: env.id, key: 'env', value: 'prod' }]);
    expect((await reader.getVersion(12, 1)).snapshot.ruleSets).toEqual([]);
    expect((await reader.listVersions(12)).map((v) => v.version)).toEqual([2, 1]);
    await expect(provisioning.provision(actor, {})).rejects.toMatchObject({ errors: [{ token: 'nothing_to_provision' }] });
  });

  it('change_subset provisions only the listed objects and refuses a missing dependency', async () => {
    const actor: PolicyActor = { orgId: 13, userId: 1 };
    const { objects, provisioning, deps } = services();
    const ipl = await objects.create(actor, 'ip_lists', { name: 'corp', ip_ranges: [{ from_ip: '10.0.0.0/8' }] });
    const other = await objects.create(actor, 'services', { name: 'dns', service_ports: [{ proto: 17, port: 53 }] });
    const rs = await objects.create(actor, 'rule_sets', { name: 'rs', rules: [{ providers: [{ actors: 'ams' }], consumers: [{ ip_list: { href: hrefOf(13, 'ip_lists', ipl.object.id) } }], ingress_services: [{ proto: 6, port: 22 }] }] });
    const refused = await provisioning.provision(actor, { change_subset: { rule_sets: [{ href: hrefOf(13, 'rule_sets', rs.object.id) }] } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ errors: [{ token: 'unprovisioned_dependency' }] });
    expect(await deps.snapshots.readActive(13)).toBeNull();

    const v1 = await provisioning.provision(actor, { change_subset: { rule_sets: [{ href: hrefOf(13, 'rule_sets', rs.object.id) }], ip_lists: [{ href: hrefOf(13, 'ip_lists', ipl.object.id) }] } });
    expect(v1.objectCounts).toEqual({ label_groups: 0, services: 0, ip_lists: 1, rule_sets: 1, enforcement_boundaries: 0, virtual_services: 0 });
    expect((await provisioning.pending(13)).map((c) => [c.type, c.id, c.updateType])).toEqual([['services', other.object.id, 'create']]);
  });

  it('reads back what clients read: label group names (draft and active), rule external data through a provision', async () => {
    const actor: PolicyActor = { orgId: 16, userId: 1 };
    const { objects, provisioning } = services();
    const web = await labels.create(actor, { key: 'role', value: 'web' });
    const inner = await objects.create(actor, 'label_groups', { name: 'inner', key: 'role', labels: [{ href: `/orgs/16/labels/${web.id}` }] });
    const outer = await objects.create(actor, 'label_groups', { name: 'outer', key: 'role', sub_groups: [{ href: hrefOf(16, 'label_groups', inner.object.id) }] });
    const rs = await objects.create(actor, 'rule_sets', {
      name: 'rs',
      rules: [{ providers: [{ label_group: { href: hrefOf(16, 'label_groups', outer.object.id) } }], consumers: [{ actors: 'ams' }], ingress_services: [{ proto: 6, port: 22 }], external_data_set: 'tf', external_data_reference: 'rule-1' }],
    });
    await provisioning.provision(actor, {});
    for (const state of ['draft', 'active'] as const) {
      expect((await objects.get(16, state, 'label_groups', inner.object.id)).names?.labels.get(web.id)).toEqual({ id: web.id, key: 'role', value: 'web' });
      expect((await objects.list(16, state, 'label_groups', { name: 'out' }, 500)).items[0]?.names?.groups.get(inner.object.id)).toBe('inner');
      expect((await objects.listRules(16, state, rs.object.id, 500)).items[0]?.rule).toMatchObject({ externalDataSet: 'tf', externalDataReference: 'rule-1' });
    }
  });

  it('never returns part of a version: SnapshotIncompleteError for a missing chunk or version item, SnapshotChecksumError for foreign content', async () => {
    const actor: PolicyActor = { orgId: 14, userId: 1 };
    const { objects, provisioning } = services({ chunkChars: 200 });
    const ranges = Array.from({ length: 3_000 }, (_, i) => ({ from_ip: `10.${(i * 7919) % 256}.${(i * 104729) % 256}.${i % 256}` }));
    await objects.create(actor, 'ip_lists', { name: 'big', ip_ranges: ranges });
    const v1 = await provisioning.provision(actor, {});
    expect(v1.content.chunks).toBeGreaterThan(12); // chunks written in several fenced transactions before the pointer
    const warm = new DynamoDbPolicySnapshotStore(client, table);
    const before = await warm.getActive(14);
    expect(before?.snapshot.ipLists[0]?.ipRanges).toHaveLength(3_000);

    await client.send(new DeleteCommand({ TableName: table, Key: policyKeys.chunk(14, 1, 1, 3) }));
    const cold = new DynamoDbPolicySnapshotStore(client, table);
    const incomplete = await cold.getActive(14).catch((e: unknown) => e);
    expect(incomplete).toBeInstanceOf(SnapshotIncompleteError);
    expect(incomplete).toMatchObject({ orgId: 14, version: 1, missing: [`chunk 3 of ${v1.content.chunks}`] });
    await expect(cold.getVersion(14, 1)).rejects.toBeInstanceOf(SnapshotIncompleteError);
    await expect(cold.getVersion(14, 2)).rejects.toMatchObject({ missing: ['version item'] });
    // versions are immutable: a warm reader keeps serving what it verified
    expect((await warm.getActive(14))?.sha256).toBe(v1.content.sha256);

    // chunk 3 back, but with other content (here: chunk 4's): all chunks present, hash does not match
    const foreign = (await client.send(new GetCommand({ TableName: table, Key: policyKeys.chunk(14, 1, 1, 4) }))).Item?.data;
    await client.send(new PutCommand({ TableName: table, Item: { ...policyKeys.chunk(14, 1, 1, 3), index: 3, data: foreign, origin_region: region, updated_at: Date.now() } }));
    await expect(new DynamoDbPolicySnapshotStore(client, table).getActive(14)).rejects.toBeInstanceOf(SnapshotChecksumError);
  });

  it('a demoted leader is refused by the fence inside the write (403), and writes nothing', async () => {
    const actor: PolicyActor = { orgId: 15, userId: 1 };
    const { objects, provisioning } = services({ leaderTtlMs: 60_000 }); // long cache: still believes it leads
    await objects.create(actor, 'services', { name: 'before', service_ports: [{ proto: 6 }] });
    const current = await leaderStore.get({ consistent: true });
    if (!current) throw new Error('no leader record');
    await leaderStore.replace(current, { leaderRegion: 'eu-west-1', leaderFqdn: 'pce-eu.sc.example.com', epoch: current.epoch + 1, assignedAt: Date.now(), previousLeaderFqdn: current.leaderFqdn });
    const refused = objects.create(actor, 'services', { name: 'after', service_ports: [{ proto: 6 }] });
    await expect(refused).rejects.toBeInstanceOf(NotLeaderError);
    await expect(refused).rejects.toMatchObject({ leaderFqdn: 'pce-eu.sc.example.com' });
    await expect(provisioning.provision(actor, {})).rejects.toBeInstanceOf(NotLeaderError);
    expect((await items(policyKeys.draftPartition(15))).filter((i) => String(i.sk).startsWith('SERVICE#')).map((i) => i.name)).toEqual(['before']);
    expect(await items(policyKeys.policyPartition(15))).toEqual([]);
  });
});
