/**
 * The identity items against DynamoDB Local: every one in an `AUTH#` partition (API key items `APIKEY#`),
 * stamped with its origin region, fenced by the leader record; a key and its index entry written and
 * deleted together; usernames and principal names unique; the bootstrap user re-runnable.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessService, ensureOwnerUser } from '../../../shared/auth/access-service.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { DuplicatePrincipalError, DuplicateUsernameError } from '../../../shared/auth/identity.ts';
import { DynamoDbApiKeyStore } from '../../../shared/storage/dynamodb/api-keys.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbIdentityStore } from '../../../shared/storage/dynamodb/identity.ts';
import { DynamoDbLabelStore } from '../../../shared/storage/dynamodb/labels.ts';
import { AUTH_PARTITION_PREFIX } from '../../../shared/storage/keys.ts';
import { globalTableName } from '../../../shared/storage/tables.ts';
import { FenceFailedError } from '../../../shared/supercluster/leader.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('identity');
const region = 'us-east-1';
const table = globalTableName(config);
const fence = { region, epoch: 1 };

describe('identity store (DynamoDB Local)', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  let identity: DynamoDbIdentityStore;
  let apiKeys: DynamoDbApiKeyStore;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client } = storage);
    identity = new DynamoDbIdentityStore(client, table, region);
    apiKeys = new DynamoDbApiKeyStore(client, table, region);
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('keeps every identity item in an AUTH# partition (API keys in APIKEY#), stamped, and the bootstrap user re-runnable', async () => {
    const admin = { id: 1, orgId: 1, username: 'admin', fullName: 'Admin', createdAt: 1 };
    await ensureOwnerUser(identity, fence, admin);
    await ensureOwnerUser(identity, fence, admin);
    expect(await identity.listUsers()).toEqual([admin]);
    expect((await identity.listPermissions(1)).map((p) => p.role)).toEqual(['owner']);
    const user = await identity.createUser({ orgId: 1, username: 'Alice', fullName: 'Alice', now: 2 }, fence);
    expect(user.id).toBe(2);
    await expect(identity.createUser({ orgId: 1, username: 'alice', fullName: '', now: 3 }, fence)).rejects.toBeInstanceOf(DuplicateUsernameError);
    await expect(identity.createUser({ orgId: 1, username: 'bob', fullName: '', now: 3 }, { region, epoch: 9 })).rejects.toBeInstanceOf(FenceFailedError);
    await apiKeys.put(generateApiKey({ userId: user.id, orgId: 1, now: 4, name: 'ci' }).record, fence);
    const items = ((await client.send(new ScanCommand({ TableName: table }))).Items ?? []).filter((i) => !['SUPERCLUSTER', 'ORG#'].some((p) => String(i.pk).startsWith(p)));
    for (const item of items) {
      expect(String(item.pk).startsWith(AUTH_PARTITION_PREFIX) || String(item.pk).startsWith('APIKEY#'), String(item.pk)).toBe(true);
      expect(item).toMatchObject({ origin_region: region, updated_at: expect.any(Number) });
    }
    expect(items.map((i) => String(i.pk)).sort()).toEqual(
      expect.arrayContaining(['AUTH#USERS', 'AUTH#USERNAMES', 'AUTH#ORG#1#PRINCIPALS', 'AUTH#ORG#1#PRINCIPAL_NAMES', 'AUTH#ORG#1#PERMISSIONS', 'AUTH#COUNTERS', `AUTH#USER#${user.id}#APIKEYS`]),
    );
  });

  it('writes a key with its index entry (no secret hash there) and revokes both', async () => {
    const user = await identity.createUser({ orgId: 1, username: 'carol', fullName: '', now: 5 }, fence);
    const key = generateApiKey({ userId: user.id, orgId: 1, now: 5, name: 'k', description: 'd', expiresAt: 99_000, role: 'ruleset_manager', scope: ['/orgs/1/labels/1'] });
    expect(await apiKeys.put(key.record, fence)).toBe(true);
    expect(await apiKeys.get(key.record.authUsername)).toEqual(key.record);
    const { secretHash: _hash, ...meta } = key.record;
    expect(await identity.listUserKeys(user.id)).toEqual([meta]);
    const index = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `AUTH#USER#${user.id}#APIKEYS` } }));
    expect(JSON.stringify(index.Items)).not.toContain(key.record.secretHash);
    expect(await identity.deleteKey(user.id, key.record.keyId, fence)).toBe(true);
    expect(await identity.deleteKey(user.id, key.record.keyId, fence)).toBe(false);
    expect(await apiKeys.get(key.record.authUsername)).toBeNull();
    expect(await identity.listUserKeys(user.id)).toEqual([]);
  });

  it('deletes a user with all its keys, and frees its username', async () => {
    const user = await identity.createUser({ orgId: 1, username: 'dave', fullName: '', now: 6 }, fence);
    const made = await Promise.all([1, 2, 3].map(async (i) => {
      const k = generateApiKey({ userId: user.id, orgId: 1, now: 6 + i });
      await apiKeys.put(k.record, fence);
      return k.record.authUsername;
    }));
    await identity.deleteUser(user, fence);
    for (const u of made) expect(await apiKeys.get(u)).toBeNull();
    expect(await identity.getUser(user.id)).toBeNull();
    expect((await identity.createUser({ orgId: 1, username: 'dave', fullName: '', now: 7 }, fence)).id).toBeGreaterThan(user.id);
  });

  it('keeps principal names unique per type, renames, and validates permissions against labels and principals', async () => {
    await identity.createPrincipal({ id: 'g1', orgId: 1, name: 'Ops', displayName: 'Ops', type: 'group' }, fence, 8);
    await expect(identity.createPrincipal({ id: 'g2', orgId: 1, name: 'ops', displayName: 'x', type: 'group' }, fence, 8)).rejects.toBeInstanceOf(DuplicatePrincipalError);
    await identity.createPrincipal({ id: 'u9', orgId: 1, name: 'ops', displayName: 'x', type: 'user' }, fence, 8);
    await identity.updatePrincipal({ id: 'g1', orgId: 1, name: 'Ops', displayName: 'Ops', type: 'group' }, { id: 'g1', orgId: 1, name: 'SRE', displayName: 'SRE', type: 'group' }, fence, 9);
    await identity.createPrincipal({ id: 'g3', orgId: 1, name: 'ops', displayName: 'again', type: 'group' }, fence, 9);
    const labels = new DynamoDbLabelStore(client, table, region);
    const label = await labels.create({ orgId: 1, key: 'app', value: 'payments', externalDataSet: null, externalDataReference: null, userId: 1, now: 10 }, fence);
    const access = new AccessService({ identity, apiKeys, labels, fencing: { fence: async () => fence, failed: async (c) => c as Error } });
    const p = await access.createPermission(1, { role: { href: '/orgs/1/roles/ruleset_manager' }, scope: [{ label: { href: `/orgs/1/labels/${label.id}` } }], auth_security_principal: { href: '/orgs/1/auth_security_principals/g1' } });
    expect(await access.getPermission(1, p.id)).toEqual(p);
    await expect(access.createPermission(1, { role: { href: '/orgs/1/roles/ruleset_manager' }, scope: [{ label: { href: '/orgs/1/labels/123456' } }], auth_security_principal: { href: '/orgs/1/auth_security_principals/g1' } })).rejects.toMatchObject({ statusCode: 406 });
    await expect(access.deletePrincipal(1, 'g1')).rejects.toMatchObject({ statusCode: 406 });
    await access.deletePermission(1, p.id);
    await access.deletePrincipal(1, 'g1');
    expect((await identity.listPrincipals(1)).map((x) => x.id).sort()).toEqual(expect.not.arrayContaining(['g1']));
  });
});
