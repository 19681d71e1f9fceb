/** Reading the IAM statements of a PceFunction's role from a synthesized template (infra tests). */
import { expect } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { globalTableName } from '../../shared/storage/tables.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { resourcesOfType } from './supercluster-fixture.ts';

export interface Statement {
  Action: string | string[];
  Effect: string;
  Resource: unknown;
  Condition?: Record<string, Record<string, string[]>>;
}

export const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
export const resourcesOf = (statement: Statement): unknown[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);

/** Logical id of the PceFunction's Lambda whose construct id is `constructId` (e.g. ComputeFunction). */
export function functionLogicalId(template: Template, constructId: string): string {
  const ids = Object.keys(resourcesOfType(template, 'AWS::Lambda::Function')).filter((id) => id.startsWith(constructId));
  expect(ids, `one Lambda function for ${constructId}`).toHaveLength(1);
  return ids[0] as string;
}

/** All statements of the inline policies attached to the role of a PceFunction. */
export function statementsOf(template: Template, constructId: string): Statement[] {
  const functionId = functionLogicalId(template, constructId);
  const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionId];
  const roleId = ((fn?.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'])[0];
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The global table's replica ARN in `region`, as the regional stack writes it (no cross-stack reference). */
export function replicaArn(config: SuperclusterConfig, region: string): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, `:table/${globalTableName(config)}`]] };
}

/** The statements that name `resource` (alone or among others). */
export function statementsOn(statements: readonly Statement[], resource: unknown): Statement[] {
  const json = JSON.stringify(resource);
  return statements.filter((statement) => resourcesOf(statement).some((r) => JSON.stringify(r) === json));
}

export function actionsOn(statements: readonly Statement[], resource: unknown): string[] {
  return statementsOn(statements, resource).flatMap(actionsOf);
}

/** IAM StringLike: `*` any run of characters, `?` one character. */
export function stringLike(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

const ITEM_WRITES = new Set(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']);

function leadingKeysMatch(statement: Statement, key: string): boolean {
  const condition = statement.Condition;
  if (!condition) return true;
  const entries = Object.entries(condition);
  return entries.every(([operator, keys]) => {
    const patterns = keys['dynamodb:LeadingKeys'];
    if (!patterns) return false; // a condition this evaluator does not know: never assume it lets the write through
    if (operator.endsWith(':StringLike')) return patterns.some((p) => stringLike(p, key));
    if (operator.endsWith(':StringEquals')) return patterns.includes(key);
    return false;
  });
}

/**
 * Whether these statements let `action` write an item of partition `key` in the table `resource`: some Allow
 * names the action on the resource with a LeadingKeys condition the key meets, and no Deny matching it does
 * (IAM's evaluation for one item: an explicit Deny wins).
 */
export function mayWrite(statements: readonly Statement[], resource: unknown, key: string, action = 'dynamodb:PutItem'): boolean {
  if (!ITEM_WRITES.has(action)) throw new Error(`${action} is not an item write`);
  const on = statementsOn(statements, resource).filter((st) => actionsOf(st).includes(action) && leadingKeysMatch(st, key));
  return on.some((st) => st.Effect === 'Allow') && !on.some((st) => st.Effect === 'Deny');
}
