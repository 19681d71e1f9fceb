/**
 * The labels policy objects refer to, read straight from the labels partition with a consistent read:
 * the leader validates label hrefs right after a client created them (automation creates a label and a
 * rule set naming it back to back), which an eventually consistent read could miss.
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { PolicyLabel } from '../../policy/model.ts';
import type { PolicyLabelSource } from '../../policy/objects/ports.ts';
import { keys } from '../keys.ts';
import type { DynamoDBDocumentClient } from './client.ts';

export class DynamoDbPolicyLabelSource implements PolicyLabelSource {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async labels(orgId: number): Promise<PolicyLabel[]> {
    const labels: PolicyLabel[] = [];
    let startKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const out: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.labelPartition(orgId) },
          ProjectionExpression: 'id, #key, #value',
          ExpressionAttributeNames: { '#key': 'key', '#value': 'value' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) labels.push({ id: Number(item.id), key: String(item.key), value: String(item.value) });
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return labels;
  }
}
