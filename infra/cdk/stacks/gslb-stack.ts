/**
 * GSLB: health checks and the supercluster / leader records. Route 53 is global; this stack lives in
 * us-east-1 (Route 53's control-plane region). Failover itself runs on health-check state in the data
 * plane, never on a deployment.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import type { SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { GslbRecords } from '../constructs/gslb-records.ts';

export const GSLB_REGION = 'us-east-1';

export interface GslbStackProps extends StackProps {
  readonly config: SuperclusterConfig;
}

export class GslbStack extends Stack {
  readonly records: GslbRecords;

  constructor(scope: Construct, id: string, props: GslbStackProps) {
    super(scope, id, props);
    const { config } = props;
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: config.hosted_zone.id,
      zoneName: config.hosted_zone.name,
    });
    this.records = new GslbRecords(this, 'Gslb', {
      zone,
      superclusterFqdn: config.supercluster_fqdn,
      leaderFqdn: config.leader_fqdn,
      pces: config.pces,
      defaultPceFqdn: config.leader,
    });
  }
}
