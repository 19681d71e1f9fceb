/**
 * Region fault injection for one PCE: an AWS FIS experiment template that pauses the global table's replication
 * into and out of this region's replica (`aws:dynamodb:global-table-pause-replication`, target type
 * `aws:dynamodb:global-table`), the AWS twin of pausing the local replicator's links. Nothing runs until an
 * operator starts it:
 *
 *   aws fis start-experiment --region <PCE region> --experiment-template-id <output RegionFaultExperimentTemplateId>
 *
 * FIS does it by adding a time-bound deny for DynamoDB's replication role to the replica's resource policy (creating
 * the policy when there is none) and removing it when the experiment ends; replication then catches up. The role
 * holds exactly the permissions the FIS action reference lists for it, on this replica only (targets are named by
 * ARN, so tag:GetResources is not needed; dynamodb:InjectError is for multi-Region strongly consistent tables,
 * which the global table is not). See docs/adr/0011-gslb-failover.md.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export const PAUSE_REPLICATION_ACTION = 'aws:dynamodb:global-table-pause-replication';
export const GLOBAL_TABLE_TARGET_TYPE = 'aws:dynamodb:global-table';
/** What the FIS action reference lists for the pause-replication action (multi-Region eventually consistent tables). */
export const PAUSE_REPLICATION_PERMISSIONS = ['dynamodb:DescribeTable', 'dynamodb:GetResourcePolicy', 'dynamodb:PutResourcePolicy', 'dynamodb:DeleteResourcePolicy'] as const;
export const DEFAULT_REGION_FAULT_DURATION = Duration.minutes(10);

export interface RegionFaultProps {
  /** The PCE whose region is cut off (names and descriptions). */
  readonly pceFqdn: string;
  /** ARN of this region's replica of the global table. */
  readonly replicaArn: string;
  /** How long replication stays paused (FIS `duration`, ISO 8601). @default 10 minutes (PT10M) */
  readonly duration?: Duration;
  /** An alarm that stops the experiment when it fires. @default none: the experiment runs its duration */
  readonly stopAlarm?: cloudwatch.IAlarm;
}

export class RegionFault extends Construct {
  readonly role: iam.Role;
  readonly template: fis.CfnExperimentTemplate;
  /** the FIS `duration` parameter, e.g. PT10M */
  readonly duration: string;

  constructor(scope: Construct, id: string, props: RegionFaultProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const duration = props.duration ?? DEFAULT_REGION_FAULT_DURATION;
    if (duration.toSeconds() < 60 || !Number.isInteger(duration.toSeconds())) {
      throw new Error(`RegionFault: duration must be whole seconds, at least a minute (got ${duration.toHumanString()})`);
    }
    this.duration = duration.toIsoString();

    this.role = new iam.Role(this, 'Role', {
      description: `FIS: pause global-table replication of ${props.pceFqdn}'s replica`,
      // confused-deputy guard: only FIS experiments of this account and region
      assumedBy: new iam.ServicePrincipal('fis.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' }) },
        },
      }),
    });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: [...PAUSE_REPLICATION_PERMISSIONS], resources: [props.replicaArn] }));

    this.template = new fis.CfnExperimentTemplate(this, 'Template', {
      description: `Region fault of ${props.pceFqdn}: pause global-table replication to and from ${stack.region} for ${this.duration}`,
      roleArn: this.role.roleArn,
      stopConditions: props.stopAlarm ? [{ source: 'aws:cloudwatch:alarm', value: props.stopAlarm.alarmArn }] : [{ source: 'none' }],
      targets: {
        GlobalTableReplica: { resourceType: GLOBAL_TABLE_TARGET_TYPE, resourceArns: [props.replicaArn], selectionMode: 'ALL' },
      },
      actions: {
        PauseReplication: {
          actionId: PAUSE_REPLICATION_ACTION,
          description: `no replication into or out of ${stack.region} for ${this.duration}`,
          parameters: { duration: this.duration },
          targets: { Tables: 'GlobalTableReplica' },
        },
      },
      // a template whose replica is gone fails instead of "succeeding" with nothing paused
      experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'fail' },
      tags: { Name: `region fault ${props.pceFqdn}` },
    });
  }
}
