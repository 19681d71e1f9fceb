/**
 * The VEN push channel in AWS: a WebSocket API per PCE whose three routes invoke the channel function,
 * one throttled, logged, auto-deployed stage, ManageConnections on that stage only for the functions
 * that push, and the channel's URLs in their environment.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { VEN_AUTH_PARTITIONS } from '../../infra/cdk/constructs/data-access.ts';
import { DEFAULT_VEN_CHANNEL_THROTTLE, VenChannel } from '../../infra/cdk/constructs/ven-channel.ts';
import { ENV } from '../../shared/runtime/env.ts';
import { globalTableName } from '../../shared/storage/tables.ts';
import { VEN_CHANNEL_STAGE } from '../../shared/ven/channel-service.ts';
import { propertiesOfType, resourcesOfType, synthSupercluster, type SynthesizedSupercluster } from './supercluster-fixture.ts';

interface Statement {
  Action: string | string[];
  Effect: string;
  Resource: unknown;
  Condition?: unknown;
}

const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

function functionLogicalId(template: Template, constructId: string): string {
  const ids = Object.keys(resourcesOfType(template, 'AWS::Lambda::Function')).filter((id) => id.startsWith(constructId));
  expect(ids, `one Lambda function for ${constructId}`).toHaveLength(1);
  return ids[0] as string;
}

function statementsOf(template: Template, constructId: string): Statement[] {
  const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, constructId)];
  const roleId = ((fn?.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'])[0];
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

function environmentOf(template: Template, constructId: string): Record<string, unknown> {
  const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, constructId)];
  return (fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

function channelApiId(template: Template): string {
  const ids = Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Api'))
    .filter(([, api]) => api.Properties.ProtocolType === 'WEBSOCKET')
    .map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

/** `<scheme>://<api id>.execute-api.<region>.<suffix>/<stage>` as CloudFormation joins it. */
function channelUrl(template: Template, region: string, scheme: 'wss' | 'https'): unknown {
  return { 'Fn::Join': ['', [`${scheme}://`, { Ref: channelApiId(template) }, `.execute-api.${region}.`, { Ref: 'AWS::URLSuffix' }, `/${VEN_CHANNEL_STAGE}`]] };
}

const PUSHING = ['ApiFunction', 'StreamRouterFunction', 'ComputeFunction'] as const;
const NOT_PUSHING = ['IdentityFunction', 'StreamFailuresFunction', 'ScheduledFunction', 'VenChannelFunction'] as const;

let synthesized: SynthesizedSupercluster;
// synthesis takes seconds on a loaded machine: more than the default hook timeout
const SYNTH_TIMEOUT_MS = 120_000;
beforeAll(() => {
  synthesized = synthSupercluster();
}, SYNTH_TIMEOUT_MS);

describe.each(['us-east-1', 'eu-west-1'])('VEN channel of the regional PCE stack in %s', (region) => {
  let template: Template;

  beforeAll(() => {
    const stack = synthesized.stacks.regional.find((candidate) => candidate.region === region);
    if (!stack) throw new Error(`no regional stack for ${region}`);
    template = Template.fromStack(stack);
  }, SYNTH_TIMEOUT_MS);

  it('has one WebSocket API, routing on the message action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
    channelApiId(template);
  });

  it('sends $connect, $disconnect and $default to the channel function (Lambda proxy), with no authorizer on $connect', () => {
    const apiId = channelApiId(template);
    const routes = propertiesOfType(template, 'AWS::ApiGatewayV2::Route').filter((route) => JSON.stringify(route.ApiId) === JSON.stringify({ Ref: apiId }));
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(['$connect', '$default', '$disconnect']);
    for (const route of routes) expect(route.AuthorizationType).toBe('NONE');
    const integrations = propertiesOfType(template, 'AWS::ApiGatewayV2::Integration').filter((i) => JSON.stringify(i.ApiId) === JSON.stringify({ Ref: apiId }));
    expect(integrations).toHaveLength(3);
    const channelFunction = functionLogicalId(template, 'VenChannelFunction');
    for (const integration of integrations) {
      expect(integration.IntegrationType).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.IntegrationUri)).toContain(JSON.stringify({ 'Fn::GetAtt': [channelFunction, 'Arn'] }));
    }
    // API Gateway may invoke the channel function for each route, and only from this API
    const permissions = propertiesOfType(template, 'AWS::Lambda::Permission').filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [channelFunction, 'Arn'] }));
    expect(permissions.map((p) => JSON.stringify(p.SourceArn).match(/\/\*(\$\w+)/)?.[1]).sort()).toEqual(['$connect', '$default', '$disconnect']);
    for (const p of permissions) expect(JSON.stringify(p.SourceArn)).toContain(JSON.stringify({ Ref: apiId }));
  });

  it('deploys one auto-deployed, throttled stage with JSON access logs (and sets the account logging role)', () => {
    const stages = propertiesOfType(template, 'AWS::ApiGatewayV2::Stage').filter((stage) => JSON.stringify(stage.ApiId) === JSON.stringify({ Ref: channelApiId(template) }));
    expect(stages).toEqual([
      expect.objectContaining({
        StageName: VEN_CHANNEL_STAGE,
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: DEFAULT_VEN_CHANNEL_THROTTLE.rateLimit, ThrottlingBurstLimit: DEFAULT_VEN_CHANNEL_THROTTLE.burstLimit },
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [expect.stringMatching(/^VenChannelAccessLogs/), 'Arn'] }, Format: expect.stringContaining('$context.connectionId') },
      }),
    ]);
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const [stageId] = Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage')).find(([, s]) => s.Properties.StageName === VEN_CHANNEL_STAGE) ?? [];
    const accountId = Object.keys(resourcesOfType(template, 'AWS::ApiGateway::Account'))[0];
    expect(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage')[stageId ?? '']?.DependsOn).toContain(accountId);
  });

  it('runs the channel function from lambdas/ven-channel.ts with the PCE runtime environment only', () => {
    const variables = environmentOf(template, 'VenChannelFunction');
    expect(variables[ENV.globalTable]).toBe(globalTableName(synthesized.config));
    expect(variables).not.toHaveProperty(ENV.venChannelManagementUrl);
    expect(variables).not.toHaveProperty(ENV.computeQueueUrl);
  });

  it('lets only the api, stream router and compute functions manage connections, on this stage only', () => {
    const apiId = channelApiId(template);
    const expected = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:execute-api:${region}:`, { Ref: 'AWS::AccountId' }, ':', { Ref: apiId }, `/${VEN_CHANNEL_STAGE}/*/@connections/*`]] };
    for (const id of PUSHING) {
      const manage = statementsOf(template, id).filter((st) => actionsOf(st).some((a) => a.startsWith('execute-api:')));
      expect(manage, id).toEqual([{ Action: 'execute-api:ManageConnections', Effect: 'Allow', Resource: expected }]);
    }
    for (const id of NOT_PUSHING) expect(statementsOf(template, id).flatMap(actionsOf).filter((a) => a.startsWith('execute-api:')), id).toEqual([]);
  });

  it('gives the pushing functions the channel URL and its management URL', () => {
    for (const id of PUSHING) {
      const variables = environmentOf(template, id);
      expect(variables[ENV.venChannelUrl], id).toEqual(channelUrl(template, region, 'wss'));
      expect(variables[ENV.venChannelManagementUrl], id).toEqual(channelUrl(template, region, 'https'));
    }
    expect(environmentOf(template, 'ScheduledFunction')).not.toHaveProperty(ENV.venChannelManagementUrl);
  });

  it('lets the channel function read only VEN credentials from the global replica, and read/write the local table', () => {
    const statements = statementsOf(template, 'VenChannelFunction');
    const replica = JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, `:table/${globalTableName(synthesized.config)}`]] });
    // (its explicit Deny of the control partitions: least-privilege.test.ts)
    const onReplica = statements.filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Resource).includes(replica));
    expect(onReplica).toEqual([{ Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: JSON.parse(replica), Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [VEN_AUTH_PARTITIONS] } } }]);
    expect(VEN_AUTH_PARTITIONS).toBe('VEN#*');
    const localTable = Object.keys(resourcesOfType(template, 'AWS::DynamoDB::GlobalTable'))[0];
    const onLocal = statements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify({ 'Fn::GetAtt': [localTable, 'Arn'] })).flatMap(actionsOf);
    expect(onLocal).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query']));
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('sqs:'))).toEqual([]);
  });

  it('outputs the channel URL', () => {
    template.hasOutput('VenChannelUrl', { Value: channelUrl(template, region, 'wss') });
  });
});

describe('VenChannel construct', () => {
  const handlerIn = (stack: Stack) => new lambda.Function(stack, 'Handler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('export const handler = async () => ({ statusCode: 200 })') });

  it('takes a stage name and throttling, and can leave the account logging role alone', () => {
    const stack = new Stack(new App(), 'Channel', { env: { region: 'eu-west-1' } });
    const channel = new VenChannel(stack, 'Channel', { handler: handlerIn(stack), pceFqdn: 'pce.test', stageName: 'v1', throttle: { rateLimit: 10, burstLimit: 20 }, accountCloudWatchRole: false });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'v1', DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(channel.cloudWatchRole).toBeUndefined();
  });

  it('rejects a stage name API Gateway would refuse', () => {
    const stack = new Stack(new App(), 'Bad', { env: { region: 'eu-west-1' } });
    expect(() => new VenChannel(stack, 'Channel', { handler: handlerIn(stack), pceFqdn: 'pce.test', stageName: 'no/slashes' })).toThrow(/stageName/);
  });
});
