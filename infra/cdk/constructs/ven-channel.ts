/**
 * The VEN push channel of one PCE: an API Gateway WebSocket API whose `$connect`, `$disconnect` and
 * `$default` routes invoke the channel function (lambdas/ven-channel.ts), and one auto-deployed,
 * throttled stage with access logs. API Gateway holds the VENs' connections; no Lambda waits per VEN
 * (docs/adr/0009-ven-push-channel.md). The functions that push get ManageConnections on this stage's
 * `@connections/*` only (data-access.ts, `venChannel: 'push'`) and the `managementUrl`.
 *
 * `$connect` has no authorizer: the channel function checks the VEN's agent token and answers 401 (the
 * VEN protocol's own authentication, like every VEN call). WebSocket access logs need API Gateway's
 * account-level CloudWatch Logs role in the region; like RestApi's `cloudWatchRole`, the construct sets
 * it (retained on delete) unless `accountCloudWatchRole` is false.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { VEN_CHANNEL_STAGE } from '../../../shared/ven/channel-service.ts';

export interface VenChannelProps {
  /** The channel function (lambdas/ven-channel.ts). */
  readonly handler: lambda.IFunction;
  readonly pceFqdn: string;
  /** @default VEN_CHANNEL_STAGE (the local twin's stage too) */
  readonly stageName?: string;
  /** Connects and messages per second on the stage. @default { rateLimit: 500, burstLimit: 1000 } */
  readonly throttle?: apigwv2.ThrottleSettings;
  /** Set API Gateway's account-level CloudWatch Logs role in this region (needed for WebSocket access logs). @default true */
  readonly accountCloudWatchRole?: boolean;
}

/** WebSocket API ($context variables of WebSocket APIs) access log line, JSON. */
export const VEN_CHANNEL_ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    connectionId: '$context.connectionId',
    status: '$context.status',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

export const DEFAULT_VEN_CHANNEL_THROTTLE: apigwv2.ThrottleSettings = { rateLimit: 500, burstLimit: 1000 };

export class VenChannel extends Construct {
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly accessLogs: logs.LogGroup;
  readonly cloudWatchRole: iam.Role | undefined;
  readonly account: apigateway.CfnAccount | undefined;
  /** Where VENs connect (`wss://<api id>.execute-api.<region>.amazonaws.com/<stage>`): ENV.venChannelUrl. */
  readonly url: string;
  /** The management API endpoint (`https://.../<stage>`): ENV.venChannelManagementUrl. */
  readonly managementUrl: string;

  constructor(scope: Construct, id: string, props: VenChannelProps) {
    super(scope, id);
    const stageName = props.stageName ?? VEN_CHANNEL_STAGE;
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) throw new Error(`VenChannel ${id}: stageName must be letters, digits, - or _, got ${stageName}`);

    const integration = (name: string) => new WebSocketLambdaIntegration(name, props.handler);
    this.webSocketApi = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: `ven-channel-${props.pceFqdn}`,
      description: `VEN push channel of ${props.pceFqdn}`,
      connectRouteOptions: { integration: integration('ConnectIntegration') },
      disconnectRouteOptions: { integration: integration('DisconnectIntegration') },
      defaultRouteOptions: { integration: integration('DefaultIntegration') },
    });

    if (props.accountCloudWatchRole ?? true) {
      this.cloudWatchRole = new iam.Role(this, 'ApiGatewayCloudWatchRole', {
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        description: 'API Gateway account-level role: writes WebSocket/REST access and execution logs',
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
      });
      this.cloudWatchRole.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const account = new apigateway.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: this.cloudWatchRole.roleArn });
      account.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.account = account;
      Validations.of(this.cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "API Gateway's account-level logging role: the AWS managed policy is the documented one (RestApi's cloudWatchRole uses it too).",
      });
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName,
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_VEN_CHANNEL_THROTTLE,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.accessLogs), format: VEN_CHANNEL_ACCESS_LOG_FORMAT },
    });

    // logging must be allowed before the stage that logs is created
    if (this.account) this.stage.node.addDependency(this.account);

    this.url = this.stage.url;
    this.managementUrl = this.stage.callbackUrl;

    Validations.of(this.webSocketApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: "The VEN channel authenticates in the channel function: $connect checks the VEN's agent token (401 otherwise), as every VEN protocol call does; $disconnect and $default only reach established connections.",
    });
  }
}
