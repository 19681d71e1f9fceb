import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_TABLE_TARGET_TYPE, PAUSE_REPLICATION_ACTION, PAUSE_REPLICATION_PERMISSIONS, RegionFault } from '../../infra/cdk/constructs/region-fault.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { replicaArn } from './iam-statements.ts';
import { propertiesOfType, resourcesOfType, synthSupercluster, type SynthesizedSupercluster } from './supercluster-fixture.ts';

let synthesized: SynthesizedSupercluster;
beforeAll(() => {
  synthesized = synthSupercluster();
});

describe.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])('region fault of the PCE in %s (AWS FIS)', (region) => {
  let template: Template;
  let config: SuperclusterConfig;

  beforeAll(() => {
    config = synthesized.config;
    const stack = synthesized.stacks.regional.find((candidate) => candidate.region === region);
    if (!stack) throw new Error(`no regional stack for ${region}`);
    template = Template.fromStack(stack);
  });

  it("has one experiment template pausing replication of this region's replica for 10 minutes", () => {
    const templates = propertiesOfType(template, 'AWS::FIS::ExperimentTemplate');
    expect(templates).toHaveLength(1);
    expect(templates[0]).toMatchObject({
      Targets: { GlobalTableReplica: { ResourceType: GLOBAL_TABLE_TARGET_TYPE, ResourceArns: [replicaArn(config, region)], SelectionMode: 'ALL' } },
      Actions: { PauseReplication: { ActionId: PAUSE_REPLICATION_ACTION, Parameters: { duration: 'PT10M' }, Targets: { Tables: 'GlobalTableReplica' } } },
      ExperimentOptions: { AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'fail' },
    });
    expect(PAUSE_REPLICATION_ACTION).toBe('aws:dynamodb:global-table-pause-replication');
    expect(GLOBAL_TABLE_TARGET_TYPE).toBe('aws:dynamodb:global-table');
  });

  it("stops when the PCE's API answers 5xx (its ApiServerErrors alarm)", () => {
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      StopConditions: [{ Source: 'aws:cloudwatch:alarm', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsApiServerErrors'), 'Arn'] } }],
    });
  });

  it('runs as a role only FIS of this account and region may assume, holding exactly the action’s permissions on this replica', () => {
    const [fisTemplate] = propertiesOfType(template, 'AWS::FIS::ExperimentTemplate');
    const roleId = (fisTemplate?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = resourcesOfType(template, 'AWS::IAM::Role')[roleId];
    expect(role?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'fis.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:fis:${region}:`, { Ref: 'AWS::AccountId' }, ':experiment/*']] } },
          },
        },
      ],
    });
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement);
    expect(statements).toEqual([{ Effect: 'Allow', Action: [...PAUSE_REPLICATION_PERMISSIONS], Resource: replicaArn(config, region) }]);
    expect([...PAUSE_REPLICATION_PERMISSIONS].sort()).toEqual(['dynamodb:DeleteResourcePolicy', 'dynamodb:DescribeTable', 'dynamodb:GetResourcePolicy', 'dynamodb:PutResourcePolicy']);
  });

  it('outputs the template id for `aws fis start-experiment`', () => {
    template.hasOutput('RegionFaultExperimentTemplateId', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RegionFaultTemplate'), 'Id'] },
      Description: Match.stringLikeRegexp(`aws fis start-experiment --region ${region}`),
    });
  });
});

describe('RegionFault construct', () => {
  const stackWith = (duration?: Duration) => {
    const stack = new Stack(new App(), 'Fault', { env: { region: 'eu-west-1' } });
    new RegionFault(stack, 'RegionFault', { pceFqdn: 'pce-eu.example.com', replicaArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/pce-global', ...(duration ? { duration } : {}) });
    return Template.fromStack(stack);
  };

  it('takes the duration from its props (ISO 8601) and runs to the end without an alarm', () => {
    stackWith(Duration.minutes(30)).hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      StopConditions: [{ Source: 'none' }],
      Actions: { PauseReplication: { Parameters: { duration: 'PT30M' } } },
    });
  });

  it('rejects a duration under a minute', () => {
    expect(() => stackWith(Duration.seconds(30))).toThrow(/at least a minute/);
  });
});
