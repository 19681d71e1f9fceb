/** Maps the shared table definitions (shared/storage/tables.ts) onto CDK DynamoDB types. */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { KeyAttribute, TableDefinition } from '../../../shared/storage/tables.ts';

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

export interface TableSchemaProps {
  readonly partitionKey: dynamodb.Attribute;
  readonly sortKey: dynamodb.Attribute;
  readonly dynamoStream?: dynamodb.StreamViewType;
  readonly timeToLiveAttribute?: string;
}

export function tableSchema(definition: TableDefinition): TableSchemaProps {
  return {
    partitionKey: attribute(definition.partitionKey),
    sortKey: attribute(definition.sortKey),
    ...(definition.stream === 'NEW_AND_OLD_IMAGES' ? { dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } : {}),
    ...(definition.timeToLiveAttribute === null ? {} : { timeToLiveAttribute: definition.timeToLiveAttribute }),
  };
}
