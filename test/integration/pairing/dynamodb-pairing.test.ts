/**
 * Pairing against DynamoDB Local: three PCE regions (one database each) with the global-table replicator
 * between them. Profiles are leader-written and fenced; keys are written and consumed only in the region
 * that generated them, so two PCEs racing with a one-use key pair exactly one VEN; a member cut off from
 * the other regions still pairs with its own keys.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import { GlobalTableReplicator } from '../../../infra/local/replicator.ts';
import { NotLeaderError } from '../../../shared/api/errors.ts';
import { PairingKeyExpiredError, PairingKeyOriginUnreachableError, PairingKeyUsedUpError, PairingProfileChangedError } from '../../../shared/pairing/errors.ts';
import { hashActivationCode } from '../../../shared/pairing/pairing-key.ts';
import { PairingProfileService } from '../../../shared/pairing/pairing-profile-service.ts';
import { PairingService } from '../../../shared/pairing/pairing-service.ts';
import { documentClient, type DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbLabelStore } from '../../../shared/storage/dynamodb/labels.ts';
import { DynamoDbLeaderRecordStore } from '../../../shared/storage/dynamodb/leader-record.ts';
import { dynamoDbPairingAdapters } from '../../../shared/storage/dynamodb/pairing.ts';
import type { RegionClientFactory } from '../../../shared/storage/dynamodb/pairing-keys.ts';
import { venKeys } from '../../../shared/storage/ven-keys.ts';
import { FenceFailedError, LeaderView } from '../../../shared/supercluster/leader.ts';
import { LOCAL_CREDENTIALS } from '../../../infra/local/clients.ts';
import { eventually, startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('pairing');
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-1';
const actor = { orgId: 1, userId: 3 };

describe('pairing on DynamoDB Local', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let replicator: GlobalTableReplicator;
  const clients = new Map<string, DynamoDBDocumentClient>();
  const extraClients: DynamoDBDocumentClient[] = [];
  const client = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = dynamoDbDocumentClient(storage.ddb.endpoint, region);
      clients.set(region, c);
    }
    return c;
  };

  /** One PCE's pairing services; `remote` builds its clients of the other regions (default: the same DynamoDB Local). */
  function pce(region: string, remote: RegionClientFactory = client) {
    const stores = dynamoDbPairingAdapters(client(region), storage.table, region, remote);
    const leader = new LeaderView(new DynamoDbLeaderRecordStore(client(region), storage.table, region), region, 0);
    return {
      stores,
      profiles: new PairingProfileService({ profiles: stores.profiles, uses: stores.uses, labels: new DynamoDbLabelStore(client(region), storage.table, region), leader }),
      pairing: new PairingService({ pces: config.pces, region, managementServer: { superclusterFqdn: null, port: 8443 }, ...stores }),
    };
  }

  /** A profile created on the leader and replicated to every region. */
  async function profile(body: Record<string, unknown>): Promise<number> {
    const json = await pce(US).profiles.create(actor, { name: `PP-${Math.random().toString(36).slice(2, 8)}`, ...body });
    const id = Number(json.href.split('/').pop());
    await replicator.waitForIdle();
    return id;
  }

  beforeAll(async () => {
    storage = await startLeaderStorage(config, US);
    replicator = GlobalTableReplicator.forSupercluster(storage.ddb.endpoint, config);
    await replicator.start();
  });

  afterAll(async () => {
    await replicator?.stop();
    for (const c of [...clients.values(), ...extraClients]) c.destroy();
    await storage?.stop();
  });

  it('writes profiles on the leader only (fenced), stamped, and replicates them to the members', async () => {
    const created = await pce(US).profiles.create(actor, { name: 'PP-WEB', allowed_uses_per_key: '5', key_lifespan: 3600, role_label_lock: false, external_data_set: 'tf' });
    const id = Number(created.href.split('/').pop());
    expect(id).toBeGreaterThan(1_000_000_000); // epoch 1 ids
    const item = (await client(US).send(new GetCommand({ TableName: storage.table, Key: venKeys.pairingProfile(1, id) }))).Item;
    expect(item).toMatchObject({ origin_region: US, name: 'PP-WEB', allowed_uses_per_key: 5, key_lifespan: 3600, locks: { role_label_lock: false, app_label_lock: true } });
    const onMember = await eventually('the profile on the member', async () => (await pce(EU).stores.profiles.get(1, id)) ?? undefined);
    expect(onMember).toMatchObject({ name: 'PP-WEB', allowedUsesPerKey: 5, keyLifespan: 3600, externalDataSet: 'tf', locks: { role_label_lock: false } });
    await expect(pce(EU).profiles.update(actor, id, { enabled: false })).rejects.toBeInstanceOf(NotLeaderError);

    const stores = pce(US).stores;
    const current = await stores.profiles.get(1, id, { consistent: true });
    if (!current) throw new Error('profile missing');
    await expect(stores.profiles.update(current, { ...current, name: 'x', updatedAt: current.updatedAt + 1 }, { region: US, epoch: 2 })).rejects.toBeInstanceOf(FenceFailedError);
    await expect(stores.profiles.update({ ...current, updatedAt: 1 }, { ...current, name: 'x' }, { region: US, epoch: 1 })).rejects.toBeInstanceOf(PairingProfileChangedError);
    await pce(US).profiles.update(actor, id, { description: 'web VENs' });
    expect((await pce(US).profiles.getJson(1, id)).description).toBe('web VENs');
    await pce(US).profiles.delete(actor, id);
    expect(await stores.profiles.get(1, id, { consistent: true })).toBeNull();
  });

  it('stores a key hashed in the generating region with its expiry and uses', async () => {
    const id = await profile({ allowed_uses_per_key: 2, key_lifespan: 600 });
    replicator.pause();
    try {
      const before = Date.now();
      const { activationCode, pairingCommand } = await pce(EU).pairing.generateKey(actor, id, {});
      expect(pairingCommand).toBe(`pair.sh --management-server pce-eu.sc.example.com:8443 --activation-code ${activationCode}`);
      const item = (await client(EU).send(new GetCommand({ TableName: storage.table, Key: venKeys.pairingKey(hashActivationCode(activationCode)) }))).Item;
      expect(item).toMatchObject({ origin_region: EU, org_id: 1, profile_id: id, allowed_uses: 2, remaining_uses: 2 });
      expect(Number(item?.expires_at) - Number(item?.created_at)).toBe(600_000);
      expect(Number(item?.created_at)).toBeGreaterThanOrEqual(before);
      expect(JSON.stringify(item)).not.toContain(activationCode);
      // written in its region only (the replicator is paused: nothing else wrote it)
      expect((await client(US).send(new GetCommand({ TableName: storage.table, Key: venKeys.pairingKey(hashActivationCode(activationCode)) }))).Item).toBeUndefined();
    } finally {
      replicator.resume();
    }
  });

  it.each([
    ['replicated', false],
    ['not replicated yet', true],
  ])('lets a one-use key generated in eu-west-1 pair one VEN when PCEs in us-east-1 and eu-west-1 race with it (%s)', async (_, paused) => {
    const id = await profile({ allowed_uses_per_key: 1 });
    const codes = await Promise.all(Array.from({ length: 8 }, () => pce(EU).pairing.generateKey(actor, id, {})));
    if (paused) replicator.pause();
    else await replicator.waitForIdle();
    try {
      const us = pce(US).pairing;
      const eu = pce(EU).pairing;
      for (const { activationCode } of codes) {
        const now = Date.now();
        const results = await Promise.allSettled([us.redeem({ activationCode, now }), eu.redeem({ activationCode, now })]);
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected');
        expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(PairingKeyUsedUpError);
        const item = (await client(EU).send(new GetCommand({ TableName: storage.table, Key: venKeys.pairingKey(hashActivationCode(activationCode)), ConsistentRead: true }))).Item;
        expect(item?.remaining_uses).toBe(0);
      }
    } finally {
      replicator.resume();
    }
    await replicator.waitForIdle();
    expect(await pce(US).profiles.getJson(1, id)).toMatchObject({ total_use_count: codes.length });
  });

  it('gives a key exactly allowed_uses_per_key pairings, even all in the same millisecond, and every replica sees them', async () => {
    const id = await profile({ allowed_uses_per_key: 3 });
    const { activationCode } = await pce(EU).pairing.generateKey(actor, id, {});
    await replicator.waitForIdle();
    const now = Date.now();
    const results = await Promise.allSettled([US, EU, AP, US, EU, AP].map((region) => pce(region).pairing.redeem({ activationCode, now })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PairingKeyUsedUpError);
    await replicator.waitForIdle();
    for (const region of [US, EU, AP]) expect((await pce(region).stores.keys.get(hashActivationCode(activationCode), region))?.remainingUses, region).toBe(0);
  });

  it('refuses a key after its lifespan, in the conditional write as well', async () => {
    const id = await profile({ allowed_uses_per_key: 3, key_lifespan: 1 });
    const { activationCode } = await pce(EU).pairing.generateKey(actor, id, {});
    const created = Date.now();
    await expect(pce(US).pairing.redeem({ activationCode, now: created })).resolves.toMatchObject({ originRegion: EU });
    await expect(pce(US).pairing.redeem({ activationCode, now: created + 5_000 })).rejects.toBeInstanceOf(PairingKeyExpiredError);
    // the origin's condition decides on its own too (a replica that let it through would not matter)
    const consumed = await pce(US).stores.keys.consume(hashActivationCode(activationCode), EU, created + 5_000);
    expect(consumed.status).toBe('expired');
  });

  it('pairs any number of VENs with an unlimited key, counted on every PCE that paired', async () => {
    const id = await profile({ allowed_uses_per_key: 'unlimited' });
    const { activationCode } = await pce(AP).pairing.generateKey(actor, id, {});
    await replicator.waitForIdle();
    const pces = [pce(US).pairing, pce(EU).pairing, pce(AP).pairing];
    const now = Date.now();
    // two pairings of one PCE in the same millisecond both count, on every replica
    await Promise.all(Array.from({ length: 12 }, (_, i) => pces[i % 3]?.redeem({ activationCode, now })));
    await replicator.waitForIdle();
    expect(await pce(US).profiles.getJson(1, id)).toMatchObject({ total_use_count: 12, last_pairing_at: new Date(now).toISOString() });
    const items = (await client(US).send(new QueryCommand({ TableName: storage.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': venKeys.pairingUsesPartition(1), ':p': venKeys.pairingUses(1, id, '').sk } }))).Items ?? [];
    expect(items.map((i) => [i.region, i.uses, i.origin_region]).sort()).toEqual([
      [AP, 4, AP],
      [EU, 4, EU],
      [US, 4, US],
    ]);
  });

  it("lets a member cut off from every other region pair with its own keys, and answers 'retry later' for the others", async () => {
    const id = await profile({ allowed_uses_per_key: 1 });
    const remoteKey = (await pce(EU).pairing.generateKey(actor, id, {})).activationCode;
    await replicator.waitForIdle();
    // the member in ap-southeast-1 reaches only its own replica: its clients of other regions go nowhere
    const unreachable = (region: string) => {
      const c = documentClient({ region, endpoint: 'http://127.0.0.1:9', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: { connectionTimeout: 500, requestTimeout: 500 } });
      extraClients.push(c);
      return c;
    };
    replicator.pause([AP]);
    try {
      const isolated = pce(AP, unreachable).pairing;
      const own = (await isolated.generateKey(actor, id, {})).activationCode;
      await expect(isolated.redeem({ activationCode: own, now: Date.now() })).resolves.toMatchObject({ originRegion: AP, orgId: 1 });
      const started = Date.now();
      const err = await isolated.redeem({ activationCode: remoteKey, now: Date.now() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PairingKeyOriginUnreachableError);
      expect(err).toMatchObject({ originRegion: EU, retryAfterSeconds: 30 });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      replicator.resume();
    }
    // nothing of the remote key was used: it pairs once, from anywhere
    await expect(pce(AP).pairing.redeem({ activationCode: remoteKey, now: Date.now() })).resolves.toMatchObject({ originRegion: EU });
    await expect(pce(US).pairing.redeem({ activationCode: remoteKey, now: Date.now() })).rejects.toBeInstanceOf(PairingKeyUsedUpError);
  });
});
