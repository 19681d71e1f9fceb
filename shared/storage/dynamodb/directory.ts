import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DirectoryStore, MembershipStore, Org, PceMember, User } from '../../supercluster/membership.ts';
import { keys, stamp } from '../keys.ts';
import { isConditionalCheckFailed, type DynamoDBDocumentClient } from './client.ts';

async function putIfAbsent(client: DynamoDBDocumentClient, tableName: string, item: Record<string, unknown>): Promise<void> {
  try {
    await client.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
  }
}

export class DynamoDbMembershipStore implements MembershipStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async list(): Promise<PceMember[]> {
    const { pk, skPrefix } = keys.pcePrefix();
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
      }),
    );
    return (out.Items ?? []).map((item) => ({
      fqdn: String(item.fqdn),
      region: String(item.region),
      buddy: String(item.buddy),
      continents: (item.continents as string[] | undefined) ?? [],
      joinedAt: Number(item.joined_at),
    }));
  }

  async addIfAbsent(member: PceMember): Promise<void> {
    await putIfAbsent(this.client, this.tableName, {
      ...keys.pce(member.region),
      fqdn: member.fqdn,
      region: member.region,
      buddy: member.buddy,
      continents: [...member.continents],
      joined_at: member.joinedAt,
      ...stamp(this.region, member.joinedAt),
    });
  }
}

export class DynamoDbDirectoryStore implements DirectoryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
    private readonly now: () => number = Date.now,
  ) {}

  async getOrg(orgId: number): Promise<Org | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.org(orgId) }));
    return out.Item ? { id: Number(out.Item.org_id), name: String(out.Item.name), createdAt: Number(out.Item.created_at) } : null;
  }

  async putOrgIfAbsent(org: Org): Promise<void> {
    await putIfAbsent(this.client, this.tableName, { ...keys.org(org.id), org_id: org.id, name: org.name, created_at: org.createdAt, ...stamp(this.region, org.createdAt) });
  }

  async getUser(userId: number): Promise<User | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.user(userId) }));
    const item = out.Item;
    return item ? { id: Number(item.user_id), orgId: Number(item.org_id), username: String(item.username), fullName: String(item.full_name) } : null;
  }
}
