/**
 * The regional API of one PCE: an HTTP API in front of the api function, served on three custom
 * domains (the PCE's own FQDN, the supercluster FQDN and the leader FQDN, so GSLB answers for the
 * shared names land on an endpoint that holds their certificate), plus the A-alias record that
 * points the PCE's own FQDN at its regional custom domain. The GSLB's records for the shared names are
 * CNAMEs to PCE FQDNs (docs/adr/0011-gslb-failover.md), so a request reaches this API with the Host the
 * client resolved (supercluster or leader FQDN): API Gateway routes it only when a custom domain of that
 * name, with a mapping to this API and a certificate covering it, exists in this region.
 *
 * Routes (shared/api/route-sets.ts): ANY /{proxy+} and ANY / to the api function (which also serves the web console
 * at / and /console/<file> from its bundle: docs/console.md); the identity routes (users and
 * their API keys, permissions, principals) to the identity function, the only one that may write API keys and
 * identity items; GET on each health-check route (Route 53's node, leader and switch checks, /health) to the api
 * function on routes of their own, throttled apart from the rest (route settings of the stage): a flood on
 * ANY /{proxy+} (anonymous requests answered 401 still count) cannot starve the Route 53 checks and cause a
 * failover, and a flood on the health routes cannot take the rest's share.
 */
import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { HEALTH_CHECK_ROUTE_PATHS, IDENTITY_ROUTE_PATHS } from '../../../shared/api/route-sets.ts';

/** Every route of ANY /{proxy+} and ANY / and the identity routes: per route, per second (API Gateway token bucket). */
export const DEFAULT_ROUTE_THROTTLE = { rateLimit: 1000, burstLimit: 2000 } as const satisfies apigwv2.ThrottleSettings;

/** Regions Route 53 health checkers probe from by default (HealthCheckConfig Regions: us-east-1, us-west-1, us-west-2, eu-west-1, ap-southeast-1, ap-southeast-2, ap-northeast-1, sa-east-1). */
export const ROUTE53_CHECKER_REGIONS = 8;
/** Checkers per region: not published; a generous assumption (observed fleets are smaller), so the throttle errs high. */
export const ROUTE53_CHECKERS_PER_REGION = 4;

/** Average requests per second `checks` endpoint health checks send one route at `intervalSeconds` (each checker probes once per interval, uncoordinated). */
export function route53RequestsPerSecond(checks: number, intervalSeconds: number): number {
  return (checks * ROUTE53_CHECKER_REGIONS * ROUTE53_CHECKERS_PER_REGION) / intervalSeconds;
}

/**
 * Each health-check route's own throttle. The busiest is /api/v2/gslb/switches/{pce_fqdn}: one check per other
 * PCE (at most 7) x 32 checkers / 10 s = 22.4 requests/s on average; node_available and supercluster/leader get one
 * check each (3.2/s). 50/s with a burst of 100 is twice the worst case and absorbs the checkers' uncoordinated bursts,
 * while a flood on these routes is held to 50/s each (of the account's 10,000/s per region).
 */
export const HEALTH_ROUTE_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const satisfies apigwv2.ThrottleSettings;

export interface RegionalApiProps {
  readonly handler: lambda.IFunction;
  /** serves the identity routes (IDENTITY_ROUTE_PATHS) */
  readonly identityHandler: lambda.IFunction;
  /** The hosted zone that holds every name below (imported by attributes, no lookup). */
  readonly zone: route53.IHostedZone;
  readonly pceFqdn: string;
  readonly superclusterFqdn: string;
  readonly leaderFqdn: string;
  /** @default DEFAULT_ROUTE_THROTTLE */
  readonly throttle?: apigwv2.ThrottleSettings;
  /** @default HEALTH_ROUTE_THROTTLE */
  readonly healthThrottle?: apigwv2.ThrottleSettings;
}

/** HTTP API ($context variables of HTTP APIs) access log line, JSON. */
export const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    domainName: '$context.domainName',
    httpMethod: '$context.httpMethod',
    path: '$context.path',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

export class RegionalApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** GET on each health-check route, throttled on its own */
  readonly healthRoutes: apigwv2.HttpRoute[];
  readonly identityRoutes: apigwv2.HttpRoute[];
  readonly accessLogs: logs.LogGroup;
  readonly certificate: acm.Certificate;
  readonly pceDomain: apigwv2.DomainName;
  readonly superclusterDomain: apigwv2.DomainName;
  readonly leaderDomain: apigwv2.DomainName;
  readonly pceRecord: route53.ARecord;

  constructor(scope: Construct, id: string, props: RegionalApiProps) {
    super(scope, id);
    const names = [props.pceFqdn, props.superclusterFqdn, props.leaderFqdn];
    if (new Set(names).size !== names.length) {
      throw new Error(`RegionalApi: PCE, supercluster and leader FQDNs must differ, got ${names.join(', ')}`);
    }

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: `PCE API for ${props.pceFqdn}`,
      createDefaultStage: false,
      // Clients and health checks use the custom domains; the certificate covers only those.
      disableExecuteApiEndpoint: true,
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', props.handler);
    this.httpApi.addRoutes({ path: '/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration });
    this.httpApi.addRoutes({ path: '/', methods: [apigwv2.HttpMethod.ANY], integration });
    const identity = new HttpLambdaIntegration('IdentityIntegration', props.identityHandler);
    this.identityRoutes = IDENTITY_ROUTE_PATHS.flatMap((path) => this.httpApi.addRoutes({ path, methods: [apigwv2.HttpMethod.ANY], integration: identity }));
    this.healthRoutes = HEALTH_CHECK_ROUTE_PATHS.flatMap((path) => this.httpApi.addRoutes({ path, methods: [apigwv2.HttpMethod.GET], integration }));

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_ROUTE_THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });
    // route-level throttling (the L2 stage sets only the default route settings)
    const health = props.healthThrottle ?? HEALTH_ROUTE_THROTTLE;
    const stage = this.stage.node.defaultChild as apigwv2.CfnStage;
    stage.routeSettings = Object.fromEntries(
      HEALTH_CHECK_ROUTE_PATHS.map((path) => [`GET ${path}`, { ThrottlingRateLimit: health.rateLimit, ThrottlingBurstLimit: health.burstLimit }]),
    );
    // route settings name routes by key: the stage must be created after them
    for (const route of this.healthRoutes) stage.node.addDependency(route);

    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: props.pceFqdn,
      subjectAlternativeNames: [props.superclusterFqdn, props.leaderFqdn],
      validation: acm.CertificateValidation.fromDns(props.zone),
    });

    this.pceDomain = this.customDomain('PceDomain', props.pceFqdn);
    this.superclusterDomain = this.customDomain('SuperclusterDomain', props.superclusterFqdn);
    this.leaderDomain = this.customDomain('LeaderDomain', props.leaderFqdn);

    this.pceRecord = new route53.ARecord(this, 'PceRecord', {
      zone: props.zone,
      recordName: props.pceFqdn,
      comment: `PCE ${props.pceFqdn} -> its regional API custom domain`,
      target: route53.RecordTarget.fromAlias(
        new route53Targets.ApiGatewayv2DomainProperties(this.pceDomain.regionalDomainName, this.pceDomain.regionalHostedZoneId),
      ),
    });

    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authentication is part of the PCE API contract and happens in the api function: API keys for users and scripts, agent credentials for VENs; the health-check routes (/api/v2/node_available, /api/v2/supercluster/leader, /api/v2/gslb/switches/<PCE FQDN>) must stay anonymous for Route 53.',
    });
  }

  private customDomain(id: string, domainName: string): apigwv2.DomainName {
    const domain = new apigwv2.DomainName(this, id, {
      domainName,
      certificate: this.certificate,
      endpointType: apigwv2.EndpointType.REGIONAL,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    new apigwv2.ApiMapping(this, `${id}Mapping`, { api: this.httpApi, domainName: domain, stage: this.stage });
    return domain;
  }
}
