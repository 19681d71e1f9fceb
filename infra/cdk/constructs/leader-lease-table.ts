/**
 * The leader lease table (docs/adr/0012-leader-lease.md): a TableV2 with multi-Region strong consistency
 * (MRSC), created in the stack's region (the lease's home replica) with the other replicas and the witness
 * of the placement. One item; only the api and scheduled functions of each regional stack may GetItem/PutItem
 * it (grants in data-access.ts, by ARN in the replica region each PCE reaches).
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { LEASE_TABLE } from '../../../shared/storage/tables.ts';
import type { LeasePlacement } from '../../../shared/supercluster/lease-config.ts';
import { tableSchema } from './table-schema.ts';

export interface LeaderLeaseTableProps {
  readonly tableName: string;
  /** the replicas (the first is the stack's region) and the witness, validated by the config */
  readonly placement: LeasePlacement;
}

export class LeaderLeaseTable extends Construct {
  readonly table: dynamodb.TableV2;
  readonly replicaRegions: readonly string[];

  constructor(scope: Construct, id: string, props: LeaderLeaseTableProps) {
    super(scope, id);
    const home = Stack.of(this).region;
    if (props.placement.replicas[0] !== home) {
      throw new Error(`LeaderLeaseTable: the stack region ${home} is not the lease's home replica ${props.placement.replicas[0] ?? '(none)'}`);
    }
    this.replicaRegions = props.placement.replicas.slice(1);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      ...tableSchema(LEASE_TABLE),
      billing: dynamodb.Billing.onDemand(),
      multiRegionConsistency: dynamodb.MultiRegionConsistency.STRONG,
      replicas: this.replicaRegions.map((region) => ({ region })),
      ...(props.placement.witness ? { witnessRegion: props.placement.witness } : {}),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
