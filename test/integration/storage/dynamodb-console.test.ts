/**
 * The web console's items against DynamoDB Local: password hashes as identity items (AUTH#, stamped, fenced by
 * the leader record, found through the username claim), sessions in the PCE's local table (by token hash, with
 * the TTL attribute), and the sign-in use case over both.
 */
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOwnerUser } from '../../../shared/auth/access-service.ts';
import { ConsoleSessionService, setPassword, tokenHashOf } from '../../../shared/auth/console-sessions.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbConsoleSessionStore, DynamoDbPasswordStore } from '../../../shared/storage/dynamodb/console.ts';
import { DynamoDbIdentityStore } from '../../../shared/storage/dynamodb/identity.ts';
import { AUTH_PARTITION_PREFIX, keys } from '../../../shared/storage/keys.ts';
import { globalTableName, localTableName } from '../../../shared/storage/tables.ts';
import { FenceFailedError } from '../../../shared/supercluster/leader.ts';
import { startLeaderStorage, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('console');
const region = 'us-east-1';
const table = globalTableName(config);
const local = localTableName(config, region);
const fence = { region, epoch: 1 };
const PASSWORD = 'a long enough password';

describe('web console storage (DynamoDB Local)', () => {
  let storage: Awaited<ReturnType<typeof startLeaderStorage>>;
  let client: DynamoDBDocumentClient;
  let identity: DynamoDbIdentityStore;
  let passwords: DynamoDbPasswordStore;
  let sessions: DynamoDbConsoleSessionStore;

  beforeAll(async () => {
    storage = await startLeaderStorage(config, region);
    ({ client } = storage);
    identity = new DynamoDbIdentityStore(client, table, region);
    passwords = new DynamoDbPasswordStore(client, table, region);
    sessions = new DynamoDbConsoleSessionStore(client, local);
    await ensureOwnerUser(identity, fence, { id: 1, orgId: 1, username: 'admin', fullName: 'Admin', createdAt: 1 });
  });

  afterAll(async () => {
    await storage?.stop();
  });

  it('stores the password as a fenced, stamped identity item holding only its scrypt hash', async () => {
    expect(await passwords.userIdOf('ADMIN')).toBe(1);
    expect(await passwords.userIdOf('nobody')).toBeNull();
    await setPassword({ passwords, users: identity }, 'admin', PASSWORD, fence, 5);
    const item = (await client.send(new GetCommand({ TableName: table, Key: keys.consolePassword(1) }))).Item;
    expect(String(item?.pk).startsWith(AUTH_PARTITION_PREFIX)).toBe(true);
    expect(item).toMatchObject({ user_id: 1, hash: expect.stringMatching(/^scrypt\$/), origin_region: region, updated_at: 5 });
    expect(JSON.stringify(item)).not.toContain(PASSWORD);
    await expect(passwords.put(1, 'scrypt$x', { region, epoch: 7 }, 6)).rejects.toBeInstanceOf(FenceFailedError);
  });

  it('signs in against the stores: a session item in the local table by token hash with a TTL; sign-out deletes it', async () => {
    const service = new ConsoleSessionService({ sessions, passwords, users: identity });
    expect((await service.signIn('admin', 'wrong password!!')).ok).toBe(false);
    const outcome = await service.signIn('admin', PASSWORD);
    if (!outcome.ok) throw new Error('sign-in refused');
    const items = (await client.send(new ScanCommand({ TableName: local }))).Items ?? [];
    const item = items.find((i) => i.pk === `CONSOLE_SESSION#${tokenHashOf(outcome.token)}`);
    expect(item).toMatchObject({ user_id: 1, org_id: 1, username: 'admin', expires_at: Math.ceil(outcome.session.expiresAt / 1000) });
    expect(JSON.stringify(items)).not.toContain(outcome.token);
    expect(await service.resume(outcome.token)).toMatchObject({ userId: 1 });
    await sessions.touch(tokenHashOf(outcome.token), outcome.session.lastSeenAt + 1);
    expect((await sessions.get(tokenHashOf(outcome.token)))?.lastSeenAt).toBe(outcome.session.lastSeenAt + 1);
    await service.signOut(outcome.token);
    expect(await service.resume(outcome.token)).toBeNull();
    // refreshing a session signed out meanwhile does not bring it back
    await sessions.touch(tokenHashOf(outcome.token), 1);
    expect(await sessions.get(tokenHashOf(outcome.token))).toBeNull();
  });
});
