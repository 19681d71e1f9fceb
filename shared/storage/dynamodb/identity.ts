/**
 * The identity items in the global table (leader-written, stamped; every partition starts with `AUTH#`):
 * users `AUTH#USERS / USER#<id>` with their username claims `AUTH#USERNAMES / <username>`, each user's key
 * index `AUTH#USER#<id>#APIKEYS / KEY#<key_id>` (written with the key item `APIKEY#<auth_username>` in one
 * transaction, see api-keys.ts), principals `AUTH#ORG#<org>#PRINCIPALS` with their type+name claims
 * `AUTH#ORG#<org>#PRINCIPAL_NAMES`, permissions `AUTH#ORG#<org>#PERMISSIONS`, user id counters `AUTH#COUNTERS`.
 */
import { GetCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { DuplicatePrincipalError, DuplicateUsernameError, type AccessPermission, type ApiKeyMeta, type IdentityStore, type Principal, type PrincipalType, type User } from '../../auth/identity.ts';
import type { Role } from '../../auth/permissions.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { keys, stamp } from '../keys.ts';
import { apiKeyMetaOf } from './api-keys.ts';
import { cancellationCodes, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

type Action = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** User ids per leadership epoch: epoch 1 hands out 2, 3, ... (1 is the bootstrap user), epoch 2 from 1,000,002. */
export const USER_IDS_PER_EPOCH = 1_000_000;

/** TransactWriteItems takes 100 actions; the fence takes one. */
const ACTIONS_PER_TRANSACTION = 99;

const toUser = (item: Record<string, unknown>): User => ({ id: Number(item.user_id), orgId: Number(item.org_id), username: String(item.username), fullName: String(item.full_name ?? ''), createdAt: Number(item.created_at ?? 0) });
const toPrincipal = (item: Record<string, unknown>): Principal => ({ id: String(item.id), orgId: Number(item.org_id), name: String(item.name), displayName: String(item.display_name), type: item.type as PrincipalType });
const toPermission = (item: Record<string, unknown>): AccessPermission => ({ id: String(item.id), orgId: Number(item.org_id), role: item.role as Role, scope: ((item.scope as unknown[] | undefined) ?? []).map(String), principalId: String(item.principal_id) });

export class DynamoDbIdentityStore implements IdentityStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  private put(item: Record<string, unknown>, condition?: string): Action {
    return { Put: { TableName: this.tableName, Item: item, ...(condition ? { ConditionExpression: condition } : {}) } };
  }

  private del(key: { pk: string; sk: string }): Action {
    return { Delete: { TableName: this.tableName, Key: key } };
  }

  private userItem(user: User, now: number) {
    return { ...keys.user(user.id), user_id: user.id, org_id: user.orgId, username: user.username, full_name: user.fullName, created_at: user.createdAt, ...stamp(this.region, now) };
  }

  async listUsers(): Promise<User[]> {
    return (await queryPartition(this.client, this.tableName, { pk: keys.usersPartition() })).map(toUser);
  }

  async getUser(id: number): Promise<User | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.user(id) }));
    return out.Item ? toUser(out.Item) : null;
  }

  async createUser(input: { orgId: number; username: string; fullName: string; now: number }, fence: WriteFence): Promise<User> {
    const allocated = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.userCounter(fence.epoch),
        UpdateExpression: 'ADD #last :one SET origin_region = :region, updated_at = :now',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: { ':one': 1, ':region': this.region, ':now': input.now },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const user: User = { id: (fence.epoch - 1) * USER_IDS_PER_EPOCH + 1 + Number(allocated.Attributes?.last), orgId: input.orgId, username: input.username, fullName: input.fullName, createdAt: input.now };
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        this.put({ ...keys.username(user.username), user_id: user.id, ...stamp(this.region, input.now) }, 'attribute_not_exists(pk)'),
        this.put(this.userItem(user, input.now), 'attribute_not_exists(pk)'),
      ]);
    } catch (err) {
      if (cancellationCodes(err)?.[1] === 'ConditionalCheckFailed') throw new DuplicateUsernameError(`username ${user.username} is taken`, { cause: err });
      throw err;
    }
    return user;
  }

  async putUserIfAbsent(user: User, fence: WriteFence): Promise<void> {
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        this.put({ ...keys.username(user.username), user_id: user.id, ...stamp(this.region, user.createdAt) }, 'attribute_not_exists(pk)'),
        this.put(this.userItem(user, user.createdAt), 'attribute_not_exists(pk)'),
      ]);
    } catch (err) {
      const codes = cancellationCodes(err);
      if (codes?.[1] === 'ConditionalCheckFailed' || codes?.[2] === 'ConditionalCheckFailed') return;
      throw err;
    }
  }

  async deleteUser(user: User, fence: WriteFence): Promise<void> {
    const keyActions = (await this.listUserKeys(user.id)).flatMap((k) => [this.del(keys.apiKey(k.authUsername)), this.del(keys.userApiKey(user.id, k.keyId))]);
    // keys first (a user with many keys takes several transactions), the user and its username claim last
    for (let i = 0; i < keyActions.length; i += ACTIONS_PER_TRANSACTION) await fencedTransactWrite(this.client, this.tableName, fence, keyActions.slice(i, i + ACTIONS_PER_TRANSACTION));
    await fencedTransactWrite(this.client, this.tableName, fence, [this.del(keys.user(user.id)), this.del(keys.username(user.username))]);
  }

  async listUserKeys(userId: number): Promise<ApiKeyMeta[]> {
    return (await queryPartition(this.client, this.tableName, { pk: keys.userApiKeysPartition(userId) })).map(apiKeyMetaOf);
  }

  async deleteKey(userId: number, keyId: string, fence: WriteFence): Promise<boolean> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.userApiKey(userId, keyId), ConsistentRead: true }));
    if (!out.Item) return false;
    const meta = apiKeyMetaOf(out.Item);
    await fencedTransactWrite(this.client, this.tableName, fence, [this.del(keys.apiKey(meta.authUsername)), this.del(keys.userApiKey(userId, keyId))]);
    return true;
  }

  async listPrincipals(orgId: number): Promise<Principal[]> {
    return (await queryPartition(this.client, this.tableName, { pk: keys.principalsPartition(orgId) })).map(toPrincipal);
  }

  private principalItem(p: Principal, now: number) {
    return { ...keys.principal(p.orgId, p.id), id: p.id, org_id: p.orgId, name: p.name, display_name: p.displayName, type: p.type, ...stamp(this.region, now) };
  }

  private nameClaim(p: Principal, now: number): Action {
    return this.put({ ...keys.principalName(p.orgId, p.type, p.name), principal_id: p.id, ...stamp(this.region, now) }, 'attribute_not_exists(pk)');
  }

  async createPrincipal(principal: Principal, fence: WriteFence, now: number): Promise<void> {
    await this.principalWrite(fence, [this.nameClaim(principal, now), this.put(this.principalItem(principal, now), 'attribute_not_exists(pk)')], 1);
  }

  async updatePrincipal(current: Principal, next: Principal, fence: WriteFence, now: number): Promise<void> {
    const renamed = current.name.toLowerCase() !== next.name.toLowerCase();
    await this.principalWrite(fence, [...(renamed ? [this.nameClaim(next, now), this.del(keys.principalName(current.orgId, current.type, current.name))] : []), this.put(this.principalItem(next, now))], renamed ? 1 : -1);
  }

  private async principalWrite(fence: WriteFence, actions: Action[], claimIndex: number): Promise<void> {
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, actions);
    } catch (err) {
      if (claimIndex >= 0 && cancellationCodes(err)?.[claimIndex] === 'ConditionalCheckFailed') throw new DuplicatePrincipalError('principal name taken', { cause: err });
      throw err;
    }
  }

  async deletePrincipal(principal: Principal, fence: WriteFence): Promise<void> {
    await fencedTransactWrite(this.client, this.tableName, fence, [this.del(keys.principal(principal.orgId, principal.id)), this.del(keys.principalName(principal.orgId, principal.type, principal.name))]);
  }

  async listPermissions(orgId: number): Promise<AccessPermission[]> {
    return (await queryPartition(this.client, this.tableName, { pk: keys.permissionsPartition(orgId) })).map(toPermission);
  }

  async putPermission(p: AccessPermission, fence: WriteFence, now: number): Promise<void> {
    await fencedTransactWrite(this.client, this.tableName, fence, [this.put({ ...keys.permission(p.orgId, p.id), id: p.id, org_id: p.orgId, role: p.role, scope: [...p.scope], principal_id: p.principalId, ...stamp(this.region, now) })]);
  }

  async deletePermission(p: AccessPermission, fence: WriteFence): Promise<void> {
    await fencedTransactWrite(this.client, this.tableName, fence, [this.del(keys.permission(p.orgId, p.id))]);
  }
}

