/**
 * Least privilege in AWS (docs/security.md): every function's grants on the global table, exactly, the explicit
 * Deny on the control partitions, who may write which partition (evaluated as IAM would for one item), the
 * lease grant on its key, the health-check routes' own throttle, and the stream failure queue's alarms and
 * reconcile trigger.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { Template as Templates } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANY_ITEM_WRITE_ACTIONS, CONTROL_PARTITIONS } from '../../infra/cdk/constructs/data-access.ts';
import { DEFAULT_ROUTE_THROTTLE, HEALTH_ROUTE_THROTTLE, route53RequestsPerSecond } from '../../infra/cdk/constructs/regional-api.ts';
import { HEALTH_CHECK_ROUTE_PATHS, IDENTITY_ROUTE_PATHS } from '../../shared/api/route-sets.ts';
import { ENV } from '../../shared/runtime/env.ts';
import { leaseTableName } from '../../shared/storage/tables.ts';
import { MAX_PCES, type SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { actionsOf, functionLogicalId, mayWrite, replicaArn, resourcesOf, statementsOf, statementsOn, type Statement } from './iam-statements.ts';
import { propertiesOfType, resourcesOfType, synthSupercluster, type SynthesizedSupercluster } from './supercluster-fixture.ts';

const FUNCTIONS = ['ApiFunction', 'IdentityFunction', 'StreamRouterFunction', 'StreamFailuresFunction', 'ComputeFunction', 'ScheduledFunction', 'VenChannelFunction'] as const;
type FunctionId = (typeof FUNCTIONS)[number];

const READS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const FENCED_READS = [...READS, 'dynamodb:ConditionCheckItem'].sort();
const ITEM_WRITES = ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const ALL_CONTROL = Object.values(CONTROL_PARTITIONS);
const controlBut = (...allowed: string[]) => ALL_CONTROL.filter((p) => !allowed.includes(p));
const like = (partitions: readonly string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...partitions] } });

interface Grant {
  Effect: string;
  Action: string[];
  Condition?: unknown;
}

/** What each function holds on its region's global replica: every statement, exactly. */
const EXPECTED: Record<FunctionId, Grant[]> = {
  ApiFunction: [
    { Effect: 'Allow', Action: FENCED_READS },
    { Effect: 'Allow', Action: ITEM_WRITES, Condition: like(['ORG#*', 'PAIRING_KEY#*', 'VEN#*']) },
    { Effect: 'Allow', Action: ['dynamodb:BatchWriteItem'], Condition: like(['ORG#*#WORKLOADS', 'ORG#*#LABEL_USE#*', 'VEN#*']) },
  ],
  IdentityFunction: [
    { Effect: 'Allow', Action: FENCED_READS },
    { Effect: 'Allow', Action: ITEM_WRITES, Condition: like(['APIKEY#*', 'AUTH#*', 'ORG#*#EVENTS#*']) },
  ],
  StreamRouterFunction: [
    { Effect: 'Allow', Action: READS },
    { Effect: 'Allow', Action: ITEM_WRITES, Condition: like(['ORG#*#WORKLOADS', 'ORG#*#LABEL_USE#*', 'VEN#*']) },
  ],
  StreamFailuresFunction: [],
  ComputeFunction: [{ Effect: 'Allow', Action: READS }],
  ScheduledFunction: [
    { Effect: 'Allow', Action: READS },
    { Effect: 'Allow', Action: ITEM_WRITES, Condition: like(['PCE_STATUS', 'ORG#*#WORKLOADS', 'ORG#*#LABEL_USE#*']) },
  ],
  VenChannelFunction: [{ Effect: 'Allow', Action: ['dynamodb:GetItem'], Condition: like(['VEN#*']) }],
};

/** The control partitions each function may write (all others are denied to it). */
const CONTROL_WRITES: Record<FunctionId, string[]> = {
  ApiFunction: [],
  IdentityFunction: [CONTROL_PARTITIONS.apiKeys, CONTROL_PARTITIONS.identity],
  StreamRouterFunction: [],
  StreamFailuresFunction: [],
  ComputeFunction: [],
  ScheduledFunction: [CONTROL_PARTITIONS.status],
  VenChannelFunction: [],
};

/** One item of every kind of partition, and who may write it. */
const WRITERS: [string, FunctionId[]][] = [
  ['SUPERCLUSTER', []],
  ['APIKEY#alice', ['IdentityFunction']],
  ['APIKEY_BOOTSTRAP', []],
  ['AUTH#USERS', ['IdentityFunction']],
  ['AUTH#USER#7#APIKEYS', ['IdentityFunction']],
  ['AUTH#ORG#1#PERMISSIONS', ['IdentityFunction']],
  ['AUTH#ORG#1#PRINCIPALS', ['IdentityFunction']],
  ['GSLB_SWITCH#pce-eu.example.org', []],
  ['REPLICATION_CHECK', []],
  ['PCE_STATUS', ['ScheduledFunction']],
  ['ORG#1', ['ApiFunction']],
  ['ORG#1#LABELS', ['ApiFunction']],
  ['ORG#1#POLICY_DRAFT', ['ApiFunction']],
  ['ORG#1#SERVICE_BINDINGS', ['ApiFunction']],
  ['ORG#1#COUNTERS', ['ApiFunction']],
  // leader-written documents (issue 11): label dimensions, container clusters and their workload profiles
  ['ORG#1#LABEL_DIMENSIONS', ['ApiFunction']],
  ['ORG#1#CONTAINER_CLUSTERS', ['ApiFunction']],
  ['ORG#1#EVENTS#eu-west-1#2025-01-01', ['ApiFunction', 'IdentityFunction']],
  ['ORG#1#WORKLOADS', ['ApiFunction', 'StreamRouterFunction', 'ScheduledFunction']],
  // a workload item's label uses (ADR 0015): exactly the functions that write workload items
  ['ORG#1#LABEL_USE#42', ['ApiFunction', 'StreamRouterFunction', 'ScheduledFunction']],
  ['VEN#agent-1', ['ApiFunction', 'StreamRouterFunction']],
  ['PAIRING_KEY#abc', ['ApiFunction']],
  ['USER#1', []],
];

const normalize = (statement: Statement): Grant => ({
  Effect: statement.Effect,
  Action: [...actionsOf(statement)].sort(),
  ...(statement.Condition ? { Condition: statement.Condition } : {}),
});

let synthesized: SynthesizedSupercluster;
beforeAll(() => {
  synthesized = synthSupercluster();
});

describe.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])('least privilege in the regional stack of %s', (region) => {
  let template: Template;
  let config: SuperclusterConfig;
  let replica: unknown;
  let otherReplicas: unknown[];
  const statements = (id: FunctionId) => statementsOf(template, id);

  beforeAll(() => {
    config = synthesized.config;
    const stack = synthesized.stacks.regional.find((candidate) => candidate.region === region);
    if (!stack) throw new Error(`no regional stack for ${region}`);
    template = Templates.fromStack(stack);
    replica = replicaArn(config, region);
    otherReplicas = config.pces.filter((p) => p.region !== region).map((p) => replicaArn(config, p.region));
  });

  it.each(FUNCTIONS)('%s holds exactly its grants on the global replica', (id) => {
    const allows = statementsOn(statements(id), replica).filter((st) => st.Effect === 'Allow').map(normalize);
    expect(allows).toEqual(EXPECTED[id].map((g) => ({ ...g, Action: [...g.Action].sort() })));
  });

  it.each(FUNCTIONS)('%s holds the explicit Deny of item writes on the control partitions it does not write, in every replica', (id) => {
    const denies = statements(id).filter((st) => st.Effect === 'Deny');
    expect(denies).toHaveLength(1);
    const [deny] = denies as [Statement];
    expect([...actionsOf(deny)].sort()).toEqual([...ANY_ITEM_WRITE_ACTIONS].sort());
    expect(deny.Condition).toEqual({ 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': controlBut(...CONTROL_WRITES[id]) } });
    expect(resourcesOf(deny).map((r) => JSON.stringify(r)).sort()).toEqual([replica, ...otherReplicas].map((r) => JSON.stringify(r)).sort());
  });

  it.each(WRITERS)('only the expected functions may write an item of %s (Put, Update, Delete and BatchWrite, as IAM evaluates them)', (key, writers) => {
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
      const may = FUNCTIONS.filter((id) => mayWrite(statements(id), replica, key, action));
      expect(may, `${action} ${key}`).toEqual(writers);
    }
    // BatchWriteItem only for pairing (the agent item and its credential)
    const batch = FUNCTIONS.filter((id) => mayWrite(statements(id), replica, key, 'dynamodb:BatchWriteItem'));
    expect(batch, key).toEqual(['ORG#1#WORKLOADS', 'ORG#1#LABEL_USE#42', 'VEN#agent-1'].includes(key) ? ['ApiFunction'] : []);
  });

  it('no function may write the control partitions in another replica (only pairing keys are reached there)', () => {
    for (const id of FUNCTIONS) {
      for (const other of otherReplicas) {
        for (const key of ['SUPERCLUSTER', 'APIKEY#alice', 'AUTH#USERS', 'PCE_STATUS', 'GSLB_SWITCH#x', 'ORG#1#LABELS']) expect(mayWrite(statements(id), other, key), `${id} ${key}`).toBe(false);
        expect(mayWrite(statements(id), other, 'PAIRING_KEY#abc', 'dynamodb:UpdateItem'), id).toBe(id === 'ApiFunction');
      }
    }
  });

  it('no function may Scan (or use PartiQL on) the global table, in any replica', () => {
    for (const id of FUNCTIONS) {
      for (const table of [replica, ...otherReplicas]) {
        const allowed = statementsOn(statements(id), table).filter((st) => st.Effect === 'Allow').flatMap(actionsOf);
        expect(allowed.filter((a) => a === 'dynamodb:Scan' || a.startsWith('dynamodb:PartiQL') || a === 'dynamodb:*'), id).toEqual([]);
      }
    }
  });

  it('the leader lease: GetItem/PutItem of its key only (LeadingKeys SUPERCLUSTER), held by the api, identity and scheduled functions', () => {
    const name = leaseTableName(config);
    const holders = FUNCTIONS.filter((id) => statements(id).some((st) => JSON.stringify(st.Resource).includes(`:table/${name}`)));
    expect(holders).toEqual(['ApiFunction', 'IdentityFunction', 'ScheduledFunction']);
    for (const id of holders) {
      const lease = statements(id).filter((st) => JSON.stringify(st.Resource).includes(`:table/${name}`));
      expect(lease.map(normalize)).toEqual([{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['SUPERCLUSTER'] } } }]);
    }
  });

  it('runs the identity function as the same app on the identity route set, the api function on the rest', () => {
    const fns = resourcesOfType(template, 'AWS::Lambda::Function');
    const variables = (id: FunctionId) => (fns[functionLogicalId(template, id)]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables('ApiFunction')[ENV.apiRouteSet]).toBe('general');
    expect(variables('IdentityFunction')[ENV.apiRouteSet]).toBe('identity');
    expect(variables('IdentityFunction')[ENV.leaseTable]).toBe(leaseTableName(config));
    // the identity function never pushes to VENs nor reads queues
    expect(statements('IdentityFunction').flatMap(actionsOf).filter((a) => a.startsWith('sqs:') || a.startsWith('execute-api:'))).toEqual([]);
  });

  describe('regional API routes', () => {
    const integrationOf = (functionId: FunctionId): string => {
      const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
      const found = Object.entries(integrations).filter(([, i]) => JSON.stringify(i.Properties.IntegrationUri).includes(functionLogicalId(template, functionId)));
      expect(found, functionId).toHaveLength(1);
      return (found[0] as [string, unknown])[0];
    };
    const routes = () => Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).filter(([, r]) => String(r.Properties.RouteKey).includes('/'));
    const targetOf = (route: { Properties: Record<string, unknown> }) => JSON.stringify(route.Properties.Target);

    it('sends the identity routes to the identity function, the health-check routes and the rest to the api function', () => {
      const api = integrationOf('ApiFunction');
      const identity = integrationOf('IdentityFunction');
      const byKey = Object.fromEntries(routes().map(([, r]) => [String(r.Properties.RouteKey), targetOf(r)]));
      expect(Object.keys(byKey).sort()).toEqual(['ANY /', 'ANY /{proxy+}', ...IDENTITY_ROUTE_PATHS.map((p) => `ANY ${p}`), ...HEALTH_CHECK_ROUTE_PATHS.map((p) => `GET ${p}`)].sort());
      for (const [key, target] of Object.entries(byKey)) expect(target, key).toContain(IDENTITY_ROUTE_PATHS.some((p) => key === `ANY ${p}`) ? identity : api);
    });

    it('throttles each health-check route on its own (route settings), every other route by the default, and creates the stage after those routes', () => {
      const [stageId, stage] = Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage')).find(([id]) => id.startsWith('RegionalApi')) ?? [];
      expect(stage?.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: DEFAULT_ROUTE_THROTTLE.rateLimit, ThrottlingBurstLimit: DEFAULT_ROUTE_THROTTLE.burstLimit });
      expect(stage?.Properties.RouteSettings).toEqual(
        Object.fromEntries(HEALTH_CHECK_ROUTE_PATHS.map((p) => [`GET ${p}`, { ThrottlingRateLimit: HEALTH_ROUTE_THROTTLE.rateLimit, ThrottlingBurstLimit: HEALTH_ROUTE_THROTTLE.burstLimit }])),
      );
      const healthRouteIds = routes().filter(([, r]) => String(r.Properties.RouteKey).startsWith('GET ')).map(([id]) => id);
      expect(healthRouteIds).toHaveLength(HEALTH_CHECK_ROUTE_PATHS.length);
      expect(stage?.DependsOn, stageId).toEqual(expect.arrayContaining(healthRouteIds));
    });
  });

  describe('replica stream failures', () => {
    it('feeds the on-failure queue to the stream-failures function, which may only send to the compute queue and consume that queue', () => {
      const fnId = functionLogicalId(template, 'StreamFailuresFunction');
      const mappings = propertiesOfType(template, 'AWS::Lambda::EventSourceMapping').filter((m) => JSON.stringify(m.FunctionName) === JSON.stringify({ Ref: fnId }));
      expect(mappings).toEqual([expect.objectContaining({ EventSourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^ReplicaStreamFailureQueue/), 'Arn'] } })]);
      const sqs = statementsOf(template, 'StreamFailuresFunction').filter((st) => actionsOf(st).some((a) => a.startsWith('sqs:')));
      const sends = sqs.filter((st) => actionsOf(st).includes('sqs:SendMessage'));
      expect(sends.map((st) => JSON.stringify(st.Resource))).toEqual([expect.stringMatching(/"ComputePipelineQueue/)]);
      const receives = sqs.filter((st) => actionsOf(st).includes('sqs:ReceiveMessage'));
      expect(receives.map((st) => JSON.stringify(st.Resource))).toEqual([expect.stringMatching(/"ReplicaStreamFailureQueue/)]);
      const variables = (resourcesOfType(template, 'AWS::Lambda::Function')[fnId]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables[ENV.computeQueueUrl]).toEqual({ Ref: expect.stringMatching(/^ComputePipelineQueue/) });
    });

    it('alarms when a failure record arrives and while any waits on the queue', () => {
      const onQueue = propertiesOfType(template, 'AWS::CloudWatch::Alarm').filter((a) => JSON.stringify(a.Dimensions).includes('ReplicaStreamFailureQueue'));
      expect(onQueue.map((a) => [a.MetricName, a.Statistic, a.Threshold, a.ComparisonOperator]).sort()).toEqual([
        ['ApproximateNumberOfMessagesVisible', 'Maximum', 1, 'GreaterThanOrEqualToThreshold'],
        ['NumberOfMessagesSent', 'Sum', 1, 'GreaterThanOrEqualToThreshold'],
      ]);
      for (const alarm of onQueue) expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
    });
  });
});

describe('health-check route throttle', () => {
  it('covers twice the busiest route of the largest supercluster at the 10 s interval (the switch route: one check per other PCE)', () => {
    expect(HEALTH_ROUTE_THROTTLE.rateLimit).toBeGreaterThanOrEqual(2 * route53RequestsPerSecond(MAX_PCES - 1, 10));
    expect(HEALTH_ROUTE_THROTTLE.burstLimit).toBeGreaterThanOrEqual(HEALTH_ROUTE_THROTTLE.rateLimit);
    // and stays far below the shared default, so a health-route flood cannot take the rest's share
    expect(HEALTH_ROUTE_THROTTLE.rateLimit * HEALTH_CHECK_ROUTE_PATHS.length).toBeLessThan(DEFAULT_ROUTE_THROTTLE.rateLimit);
  });
});
