/**
 * This PCE's local table: never replicated (heartbeats, compiled policy, lag readings, jobs).
 * Its content can be rebuilt by recomputing, so it keeps PITR but not deletion protection.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { LOCAL_TABLE } from '../../../shared/storage/tables.ts';
import { tableSchema } from './table-schema.ts';

export interface LocalDataProps {
  readonly tableName: string;
}

export class LocalData extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: LocalDataProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      ...tableSchema(LOCAL_TABLE),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
