/**
 * The global table: one TableV2 in the leader's region with a replica in every other PCE region.
 * Replicas live in this (primary) stack; regional stacks reach their replica by name.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { GLOBAL_TABLE } from '../../../shared/storage/tables.ts';
import { tableSchema } from './table-schema.ts';

export interface GlobalDataProps {
  readonly tableName: string;
  /** Every PCE region; the stack's own region holds the primary, the others get replicas. */
  readonly regions: readonly string[];
}

export class GlobalData extends Construct {
  readonly table: dynamodb.TableV2;
  readonly replicaRegions: readonly string[];

  constructor(scope: Construct, id: string, props: GlobalDataProps) {
    super(scope, id);
    const primaryRegion = Stack.of(this).region;
    if (!props.regions.includes(primaryRegion)) {
      throw new Error(`GlobalData: the stack region ${primaryRegion} is not one of the PCE regions (${props.regions.join(', ')})`);
    }
    this.replicaRegions = props.regions.filter((region) => region !== primaryRegion);

    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      ...tableSchema(GLOBAL_TABLE),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      replicas: this.replicaRegions.map((region) => ({ region })),
    });
  }
}
