/**
 * GSLB: health checks and the supercluster / leader records, built from the GSLB model
 * (shared/supercluster/gslb.ts). Route 53 is global; this stack lives in us-east-1 (Route 53's control-plane
 * region). Failover itself runs on health-check state in the data plane, never on a deployment or a Route 53
 * API call (docs/adr/0011-gslb-failover.md).
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import type { SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import { gslbIssues, gslbModel } from '../../../shared/supercluster/gslb.ts';
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
    // the loader already rejects these; a config built by hand must not slip past the model either
    const issues = gslbIssues(config);
    if (issues.length > 0) throw new Error(`GslbStack ${id}: ${issues.join('; ')}`);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: config.hosted_zone.id,
      zoneName: config.hosted_zone.name,
    });
    this.records = new GslbRecords(this, 'Gslb', { zone, model: gslbModel(config) });
  }
}
