/**
 * Managed workloads as this PCE writes them (ADR 0008): its own `<workload>#AGENT#<region>` items and the
 * credentials of the VENs it paired. No leader fence: a member records its own VENs; each item has one
 * writer (this region), so conditions on it are meaningful in this replica.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentCredential, ManagedWorkloadStore } from '../../ven/ports.ts';
import type { ManagedAgent, Workload } from '../../workloads/workload.ts';
import { workloadKeys } from '../workload-keys.ts';
import { agentCredentialItem } from './agent-credentials.ts';
import { batchPutAll, isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { agentItem, mergeWorkloadItems, toAgent } from './workloads.ts';

export class DynamoDbManagedWorkloadStore implements ManagedWorkloadStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async get(orgId: number, workloadId: string, options: { consistent?: boolean } = {}): Promise<Workload | null> {
    const items = await queryPartition(this.client, this.tableName, { pk: workloadKeys.partition(orgId), skPrefix: workloadKeys.itemPrefix(workloadId), consistent: options.consistent ?? false });
    return mergeWorkloadItems(orgId, items)[0] ?? null;
  }

  /**
   * One BatchWriteItem of both items, without conditions: the agent and workload ids are fresh random
   * UUIDs, and a pairing storm must not queue behind DynamoDB's conditional-write rate. The agent item
   * goes in the same request as the credential; a VEN whose pairing failed half-way pairs again (the
   * orphan goes offline with the sweep).
   */
  async pair(c: AgentCredential, orgId: number, workloadId: string, agent: ManagedAgent): Promise<void> {
    await batchPutAll(this.client, this.tableName, [agentItem(orgId, workloadId, agent, this.region), agentCredentialItem(c, this.region)]);
  }

  async putAgent(orgId: number, workloadId: string, agent: ManagedAgent, expectedUpdatedAt?: number | null): Promise<boolean> {
    const condition =
      expectedUpdatedAt === undefined
        ? {}
        : expectedUpdatedAt === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'updated_at = :seen', ExpressionAttributeValues: { ':seen': expectedUpdatedAt } };
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: agentItem(orgId, workloadId, agent, this.region), ...condition }));
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async ownAgent(orgId: number, workloadId: string): Promise<ManagedAgent | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: workloadKeys.agent(orgId, workloadId, this.region), ConsistentRead: true }));
    return out.Item ? toAgent(out.Item, this.region) : null;
  }

  async deleteAgent(orgId: number, workloadId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: workloadKeys.agent(orgId, workloadId, this.region) }));
  }
}
