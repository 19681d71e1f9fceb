/** Stateful: the global table (primary in the leader's region, replicas in every other PCE region). */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { globalTableName } from '../../../shared/storage/tables.ts';
import type { SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { GlobalData } from '../constructs/global-data.ts';

export interface GlobalDataStackProps extends StackProps {
  readonly config: SuperclusterConfig;
}

export class GlobalDataStack extends Stack {
  readonly globalData: GlobalData;

  constructor(scope: Construct, id: string, props: GlobalDataStackProps) {
    super(scope, id, props);
    this.globalData = new GlobalData(this, 'GlobalData', {
      tableName: globalTableName(props.config),
      regions: props.config.pces.map((pce) => pce.region),
    });
    new CfnOutput(this, 'GlobalTableName', { value: this.globalData.table.tableName });
  }
}
