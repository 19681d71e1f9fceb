/** VEN credentials in the global table (`VEN#<agent id>/AUTH`), written by the PCE that paired the VEN. */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentCredential, AgentCredentialStore } from '../../ven/ports.ts';
import { stamp } from '../keys.ts';
import { venKeys } from '../ven-keys.ts';
import type { DynamoDBDocumentClient } from './client.ts';

export function agentCredentialItem(c: AgentCredential, region: string): Record<string, unknown> {
  return { ...venKeys.agentAuth(c.agentId), agent_id: c.agentId, org_id: c.orgId, workload_id: c.workloadId, token_hash: c.tokenHash, created_at: c.createdAt, ...stamp(region, c.createdAt) };
}

export class DynamoDbAgentCredentialStore implements AgentCredentialStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly region: string,
  ) {}

  async get(agentId: string): Promise<AgentCredential | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: venKeys.agentAuth(agentId) }));
    const item = out.Item;
    if (!item) return null;
    return {
      agentId: String(item.agent_id),
      orgId: Number(item.org_id),
      workloadId: String(item.workload_id),
      tokenHash: String(item.token_hash),
      originRegion: String(item.origin_region),
      createdAt: Number(item.created_at),
    };
  }

  async put(c: AgentCredential): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: agentCredentialItem(c, this.region),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async delete(agentId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: venKeys.agentAuth(agentId) }));
  }
}
