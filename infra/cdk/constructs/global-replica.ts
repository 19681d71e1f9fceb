/**
 * This region's replica of the global table, seen from a regional stack.
 *
 * The replica belongs to the global data stack (TableV2 keeps replicas in the primary's stack), and
 * CloudFormation cannot read a replica's stream ARN (aws-cdk#31335). So the replica is referenced by
 * name (its ARN is arn:<partition>:dynamodb:<this region>:<account>:table/<name>) and its stream ARN
 * is read at deploy time by a DescribeTable call in this region.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface GlobalReplicaProps {
  readonly tableName: string;
}

export const LATEST_STREAM_ARN_PATH = 'Table.LatestStreamArn';

export class GlobalReplica extends Construct {
  /** The replica in this stack's region, with its stream (grants are scoped to this region's ARNs). */
  readonly table: dynamodb.ITable;
  readonly streamArn: string;
  readonly describeTable: AwsCustomResource;

  constructor(scope: Construct, id: string, props: GlobalReplicaProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const replicaArn = stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: props.tableName });

    const describe = {
      service: 'DynamoDB',
      action: 'DescribeTable',
      parameters: { TableName: props.tableName },
      region: stack.region,
      // The stream ARN changes only if the replica is recreated; then the physical id changes too.
      physicalResourceId: PhysicalResourceId.fromResponse(LATEST_STREAM_ARN_PATH),
      outputPaths: [LATEST_STREAM_ARN_PATH],
    };
    this.describeTable = new AwsCustomResource(this, 'DescribeTable', {
      onCreate: describe,
      onUpdate: describe,
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: [replicaArn] }),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'DescribeTableLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    this.streamArn = this.describeTable.getResponseField(LATEST_STREAM_ARN_PATH);
    acknowledgeProviderFindings(stack);

    this.table = dynamodb.Table.fromTableAttributes(this, 'Table', {
      tableName: props.tableName,
      tableStreamArn: this.streamArn,
      // GLOBAL_TABLE has no secondary index, so grants cover the table only. When one is added, list
      // it here (globalIndexes) to grant exactly that index instead of a table/<name>/index/* wildcard.
    });
  }
}

/**
 * AwsCustomResource runs on a CDK-owned singleton provider function per stack (construct id
 * "AWS" + its UUID without dashes); its role and runtime are not ours to change.
 */
function acknowledgeProviderFindings(stack: Stack): void {
  const provider = stack.node.tryFindChild(`AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
  if (provider === undefined) throw new Error('GlobalReplica: AwsCustomResource provider function not found');
  Validations.of(provider).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'CDK AwsCustomResource provider (DescribeTable of the replica) uses AWSLambdaBasicExecutionRole for its logs.',
    },
    { id: 'AwsSolutions-L1', reason: 'The AwsCustomResource provider runtime is chosen by aws-cdk-lib, not by this app.' },
  );
}
