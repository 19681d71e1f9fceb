/** Stateful: the leader lease table (MRSC), in the lease's home replica region (docs/adr/0012-leader-lease.md). */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { leaseTableName } from '../../../shared/storage/tables.ts';
import type { SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { leasePlacementOf } from '../../../shared/supercluster/lease-config.ts';
import { LeaderLeaseTable } from '../constructs/leader-lease-table.ts';

export interface LeaderLeaseStackProps extends StackProps {
  readonly config: SuperclusterConfig;
}

export class LeaderLeaseStack extends Stack {
  readonly lease: LeaderLeaseTable;

  constructor(scope: Construct, id: string, props: LeaderLeaseStackProps) {
    super(scope, id, props);
    this.lease = new LeaderLeaseTable(this, 'LeaderLease', { tableName: leaseTableName(props.config), placement: leasePlacementOf(props.config) });
    new CfnOutput(this, 'LeaderLeaseTableName', { value: this.lease.table.tableName });
  }
}
