/**
 * The labels policy objects refer to, read straight from the labels partition with a consistent read:
 * the leader validates label hrefs right after a client created them (automation creates a label and a
 * rule set naming it back to back), which an eventually consistent read could miss.
 */

import type { PolicyLabel } from '../../policy/model.ts';
import type { PolicyLabelSource } from '../../policy/objects/ports.ts';
import { keys } from '../keys.ts';
import { queryPartition, type DynamoDBDocumentClient } from './client.ts';

export class DynamoDbPolicyLabelSource implements PolicyLabelSource {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async labels(orgId: number): Promise<PolicyLabel[]> {
    const items = await queryPartition(this.client, this.tableName, { pk: keys.labelPartition(orgId), consistent: true, attributes: ['id', 'key', 'value'] });
    return items.map((item) => ({ id: Number(item.id), key: String(item.key), value: String(item.value) }));
  }
}
