/**
 * Managed workloads as this PCE writes them (ADR 0008): its own `<workload>#AGENT#<region>` items and the
 * credentials of the VENs it paired. No leader fence: a member records its own VENs; each item has one
 * writer (this region), so conditions on it are meaningful in this replica. The label-use items of an
 * agent item (ADR 0015) are this PCE's too: written and removed with it.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentCredential, ManagedWorkloadStore } from '../../ven/ports.ts';
import type { ManagedAgent, Workload } from '../../workloads/workload.ts';
import { labelUseKeys, workloadKeys } from '../workload-keys.ts';
import { agentCredentialItem } from './agent-credentials.ts';
import { batchPutAll, isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { agentItem, labelUseItem, mergeWorkloadItems, toAgent } from './workloads.ts';

/** Attempts of deleteAgent when this PCE's item changed between its read and its delete. */
const DELETE_ATTEMPTS = 3;

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
   * orphan goes offline with the sweep, and its label uses point at nothing: label DELETE confirms each one).
   */
  async pair(c: AgentCredential, orgId: number, workloadId: string, agent: ManagedAgent): Promise<void> {
    await batchPutAll(this.client, this.tableName, [agentItem(orgId, workloadId, agent, this.region), agentCredentialItem(c, this.region), ...this.labelUses(orgId, workloadId, agent)]);
  }

  /**
   * An update of this PCE's own item (`expectedUpdatedAt` a number) keeps its labels (an agent item's labels
   * are those pairing chose; the leader changes a workload's labels in its META item), so it is one PutItem.
   * A new or replaced item (a take-over) is written with its label uses in one transaction.
   */
  async putAgent(orgId: number, workloadId: string, agent: ManagedAgent, expectedUpdatedAt?: number | null): Promise<boolean> {
    const condition =
      expectedUpdatedAt === undefined
        ? {}
        : expectedUpdatedAt === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'updated_at = :seen', ExpressionAttributeValues: { ':seen': expectedUpdatedAt } };
    const put = { TableName: this.tableName, Item: agentItem(orgId, workloadId, agent, this.region), ...condition };
    const uses = typeof expectedUpdatedAt === 'number' ? [] : this.labelUses(orgId, workloadId, agent);
    try {
      if (uses.length === 0) await this.client.send(new PutCommand(put));
      else await this.client.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, ...uses.map((Item) => ({ Put: { TableName: this.tableName, Item } }))] }));
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err) || (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')) return false;
      throw err;
    }
  }

  async ownAgent(orgId: number, workloadId: string): Promise<ManagedAgent | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: workloadKeys.agent(orgId, workloadId, this.region), ConsistentRead: true }));
    return out.Item ? toAgent(out.Item, this.region) : null;
  }

  /** Deletes this PCE's agent item and its label uses in one transaction, conditional on the item as read. */
  async deleteAgent(orgId: number, workloadId: string): Promise<void> {
    const key = workloadKeys.agent(orgId, workloadId, this.region);
    for (let attempt = 1; ; attempt++) {
      const own = await this.ownAgent(orgId, workloadId);
      if (!own) return;
      const labels = [...new Set(own.labels)];
      if (labels.length === 0) {
        await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: key }));
        return;
      }
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Delete: { TableName: this.tableName, Key: key, ConditionExpression: 'updated_at = :seen', ExpressionAttributeValues: { ':seen': own.updatedAt } } },
              ...labels.map((labelId) => ({ Delete: { TableName: this.tableName, Key: labelUseKeys.item(orgId, labelId, workloadId, `AGENT#${this.region}`) } })),
            ],
          }),
        );
        return;
      } catch (err) {
        // the item changed since it was read (a heartbeat's write): read it again
        if (!(err instanceof TransactionCanceledException) || attempt >= DELETE_ATTEMPTS) throw err;
      }
    }
  }

  /** The label-use items of this PCE's agent item (ADR 0015). */
  private labelUses(orgId: number, workloadId: string, agent: ManagedAgent): Record<string, unknown>[] {
    return [...new Set(agent.labels)].map((labelId) => labelUseItem(orgId, labelId, workloadId, `AGENT#${this.region}`, this.region, agent.updatedAt));
  }
}
