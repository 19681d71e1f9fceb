/**
 * The leader lease table and its grants: an MRSC TableV2 (3 replicas, or 2 + a witness, in one region set) in
 * the lease's home region, and GetItem/PutItem on it for the api and scheduled functions only, each on the
 * replica region its PCE reaches, with the table name and region in their environment.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { LEASE_ACTIONS } from '../../infra/cdk/constructs/data-access.ts';
import { LEASE_KEY } from '../../shared/storage/dynamodb/leader-lease.ts';
import { ENV } from '../../shared/runtime/env.ts';
import { leaseTableName } from '../../shared/storage/tables.ts';
import { configWith, propertiesOfType, resourcesOfType, synthSupercluster, TWO_PCE_CONFIG, type SynthesizedSupercluster } from './supercluster-fixture.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const leaseArn = (region: string, name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, `:table/${name}`]] });

/** Per Lambda function (by construct id prefix): the statements of its role's policies and its environment. */
function functions(template: Template): { id: string; statements: Statement[]; env: Record<string, unknown> }[] {
  const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'));
  return Object.entries(resourcesOfType(template, 'AWS::Lambda::Function')).map(([id, fn]) => {
    const roleId = ((fn.Properties.Role as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'] ?? [''])[0];
    const statements = policies.filter((p) => ((p.Properties.Roles ?? []) as { Ref: string }[]).some((r) => r.Ref === roleId)).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    return { id, statements, env: ((fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) };
  });
}

const onLease = (statements: Statement[], name: string) => statements.filter((st) => JSON.stringify(st.Resource).includes(`:table/${name}`));

describe('leader lease stack (default config: leader in us-east-1)', () => {
  let synthesized: SynthesizedSupercluster;
  let template: Template;

  beforeAll(() => {
    synthesized = synthSupercluster();
    template = Template.fromStack(synthesized.stacks.leaderLease);
  });

  it('is one strongly consistent global table in us-east-1 with replicas in us-east-2 and us-west-2, PITR, deletion protection', () => {
    expect(synthesized.stacks.leaderLease.region).toBe('us-east-1');
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    const [table] = propertiesOfType(template, 'AWS::DynamoDB::GlobalTable');
    expect(table).toMatchObject({ TableName: leaseTableName(synthesized.config), MultiRegionConsistency: 'STRONG', BillingMode: 'PAY_PER_REQUEST' });
    expect(table?.GlobalTableWitnesses).toBeUndefined();
    const replicas = (table?.Replicas ?? []) as { Region: string; DeletionProtectionEnabled?: boolean; PointInTimeRecoverySpecification?: unknown }[];
    expect(replicas.map((r) => r.Region).sort()).toEqual(['us-east-1', 'us-east-2', 'us-west-2']);
    for (const r of replicas) expect(r).toMatchObject({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });

  it('only the api, identity and scheduled functions of each regional stack may GetItem/PutItem the lease item (LeadingKeys SUPERCLUSTER), in the replica region their PCE reaches', () => {
    const name = leaseTableName(synthesized.config);
    const reaches: Record<string, string> = { 'us-east-1': 'us-east-1', 'eu-west-1': 'us-east-1', 'ap-southeast-1': 'us-east-1' };
    for (const stack of synthesized.stacks.regional) {
      const all = functions(Template.fromStack(stack));
      const holders = all.filter((f) => onLease(f.statements, name).length > 0).map((f) => f.id.replace(/[A-F0-9]{8}$/, ''));
      expect(holders.sort()).toEqual(['ApiFunction', 'IdentityFunction', 'ScheduledFunction']);
      for (const f of all) {
        const lease = onLease(f.statements, name);
        if (lease.length === 0) {
          expect(f.env[ENV.leaseTable]).toBeUndefined();
          continue;
        }
        expect(lease).toEqual([{ Effect: 'Allow', Action: [...LEASE_ACTIONS], Resource: leaseArn(reaches[stack.region] ?? '', name), Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [LEASE_KEY.pk] } } }]);
        expect(f.env).toMatchObject({ [ENV.leaseTable]: name, [ENV.leaseRegion]: reaches[stack.region] });
      }
    }
  });
});

describe('leader lease stack (explicit regions with a witness, and a leader in the EU set)', () => {
  it('takes 2 replicas + a witness from the config', () => {
    const config = configWith({ leader_lease: { duration_seconds: 15, clock_skew_seconds: 2, regions: ['us-east-2', 'us-east-1'], witness_region: 'us-west-2' } });
    const { stacks } = synthSupercluster(config);
    expect(stacks.leaderLease.region).toBe('us-east-2');
    const [table] = propertiesOfType(Template.fromStack(stacks.leaderLease), 'AWS::DynamoDB::GlobalTable');
    expect(table?.MultiRegionConsistency).toBe('STRONG');
    expect(((table?.Replicas ?? []) as { Region: string }[]).map((r) => r.Region).sort()).toEqual(['us-east-1', 'us-east-2']);
    expect(table?.GlobalTableWitnesses).toEqual([{ Region: 'us-west-2' }]);
  });

  it('derives the EU set for a leader in eu-central-1; the us-west-2 PCE reaches the home replica', () => {
    const { stacks } = synthSupercluster(TWO_PCE_CONFIG);
    expect(stacks.leaderLease.region).toBe('eu-central-1');
    const [table] = propertiesOfType(Template.fromStack(stacks.leaderLease), 'AWS::DynamoDB::GlobalTable');
    expect(((table?.Replicas ?? []) as { Region: string }[]).map((r) => r.Region).sort()).toEqual(['eu-central-1', 'eu-west-1', 'eu-west-2']);
    const us = stacks.regional.find((s) => s.region === 'us-west-2');
    if (!us) throw new Error('us-west-2 stack');
    const api = functions(Template.fromStack(us)).find((f) => f.id.startsWith('ApiFunction'));
    expect(api?.env[ENV.leaseRegion]).toBe('eu-central-1');
  });
});
