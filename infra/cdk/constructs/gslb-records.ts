/**
 * GSLB for the supercluster, in the one hosted zone:
 *
 *   <supercluster FQDN>  geolocation, one record per continent a PCE serves, default (*) -> leader's PCE
 *        | A alias, EvaluateTargetHealth
 *   <region>.failover.<supercluster FQDN>  failover pair per PCE
 *        PRIMARY   -> the PCE's FQDN,      health check /api/v2/node_available on the PCE
 *        SECONDARY -> its buddy PCE's FQDN, health check /api/v2/node_available on the buddy
 *        | A alias
 *   <PCE FQDN>  A alias -> the regional API custom domain (owned by the regional stack)
 *
 *   <leader FQDN>  weighted A alias, one record per PCE -> that PCE's FQDN, each with a health check
 *   on /api/v2/supercluster/leader (202 leader = healthy, 404 member = unhealthy): only the leader answers.
 *
 * All records are A aliases to names in the same zone, so nothing here refers to another stack's
 * resources; the PCE records must exist first (stack dependency), since Route 53 rejects aliases
 * to missing records. See docs/adr/0003-cdk-stacks.md.
 */
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { Continent } from '../../../shared/supercluster/config.ts';

export const NODE_AVAILABLE_PATH = '/api/v2/node_available';
export const LEADER_PATH = '/api/v2/supercluster/leader';
export const HEALTH_CHECK_INTERVAL_SECONDS = 30;
export const HEALTH_CHECK_FAILURE_THRESHOLD = 3;

export interface GslbPce {
  readonly fqdn: string;
  readonly region: string;
  readonly continents: readonly Continent[];
  readonly buddy: string;
}

export interface GslbRecordsProps {
  readonly zone: route53.IHostedZone;
  readonly superclusterFqdn: string;
  readonly leaderFqdn: string;
  readonly pces: readonly GslbPce[];
  /** The PCE answering clients from continents no PCE lists (the `*` geolocation). */
  readonly defaultPceFqdn: string;
}

/** The failover pair name of a PCE (primary: that PCE, secondary: its buddy). */
export function failoverRecordName(pce: Pick<GslbPce, 'region'>, superclusterFqdn: string): string {
  return `${pce.region}.failover.${superclusterFqdn}`;
}

/** An alias to another record of the same type in the same hosted zone. */
class SameZoneAlias implements route53.IAliasRecordTarget {
  constructor(
    private readonly zone: route53.IHostedZone,
    private readonly dnsName: string,
    private readonly evaluateTargetHealth: boolean,
  ) {}

  bind(): route53.AliasRecordTargetConfig {
    return { hostedZoneId: this.zone.hostedZoneId, dnsName: this.dnsName, evaluateTargetHealth: this.evaluateTargetHealth };
  }
}

function rejectConflicts(props: GslbRecordsProps): void {
  const problems: string[] = [];
  const fqdns = new Set(props.pces.map((pce) => pce.fqdn));
  const servedBy = new Map<Continent, string>();
  for (const pce of props.pces) {
    if (!fqdns.has(pce.buddy) || pce.buddy === pce.fqdn) problems.push(`${pce.fqdn}: buddy ${pce.buddy} must be another PCE`);
    for (const continent of pce.continents) {
      const other = servedBy.get(continent);
      if (other !== undefined) problems.push(`continent ${continent} is listed by both ${other} and ${pce.fqdn} (one geolocation record per continent)`);
      servedBy.set(continent, pce.fqdn);
    }
    const name = failoverRecordName(pce, props.superclusterFqdn);
    if (name.length > 253) problems.push(`${name}: failover record name longer than 253 characters`);
  }
  if (!fqdns.has(props.defaultPceFqdn)) problems.push(`default PCE ${props.defaultPceFqdn} is not a PCE`);
  if (problems.length > 0) throw new Error(`GslbRecords: ${problems.join('; ')}`);
}

export class GslbRecords extends Construct {
  /** Health check on /api/v2/node_available per PCE FQDN. */
  readonly nodeHealthChecks: ReadonlyMap<string, route53.CfnHealthCheck>;
  /** Health check on /api/v2/supercluster/leader per PCE FQDN. */
  readonly leaderHealthChecks: ReadonlyMap<string, route53.CfnHealthCheck>;
  readonly failoverRecords: readonly route53.ARecord[];
  readonly geolocationRecords: readonly route53.ARecord[];
  readonly leaderRecords: readonly route53.ARecord[];

  constructor(scope: Construct, id: string, props: GslbRecordsProps) {
    super(scope, id);
    rejectConflicts(props);
    const { zone } = props;
    const byFqdn = new Map(props.pces.map((pce) => [pce.fqdn, pce]));
    const regionOf = (fqdn: string): string => byFqdn.get(fqdn)?.region ?? fqdn;

    const nodeChecks = new Map<string, route53.CfnHealthCheck>();
    const leaderChecks = new Map<string, route53.CfnHealthCheck>();
    for (const pce of props.pces) {
      nodeChecks.set(pce.fqdn, this.healthCheck(`NodeAvailableCheck-${pce.region}`, pce.fqdn, NODE_AVAILABLE_PATH));
      leaderChecks.set(pce.fqdn, this.healthCheck(`LeaderCheck-${pce.region}`, pce.fqdn, LEADER_PATH));
    }
    this.nodeHealthChecks = nodeChecks;
    this.leaderHealthChecks = leaderChecks;
    const importCheck = (checks: Map<string, route53.CfnHealthCheck>, fqdn: string, idPrefix: string): route53.IHealthCheck => {
      const check = checks.get(fqdn);
      if (check === undefined) throw new Error(`GslbRecords: no health check for ${fqdn}`);
      return route53.HealthCheck.fromHealthCheckId(this, `${idPrefix}-${regionOf(fqdn)}`, check.attrHealthCheckId);
    };

    // Failover pairs: the PCE, else its buddy.
    const failoverRecords: route53.ARecord[] = [];
    for (const pce of props.pces) {
      const recordName = failoverRecordName(pce, props.superclusterFqdn);
      const pair = [
        { failover: route53.Failover.PRIMARY, target: pce.fqdn },
        { failover: route53.Failover.SECONDARY, target: pce.buddy },
      ];
      for (const { failover, target } of pair) {
        // Healthy = its node_available check passes AND the target record is healthy (Route 53
        // requires EvaluateTargetHealth on failover aliases; an API Gateway target counts as healthy).
        failoverRecords.push(
          new route53.ARecord(this, `FailoverRecord-${pce.region}-${failover}`, {
            zone,
            recordName,
            failover,
            setIdentifier: `${pce.region}-${failover.toLowerCase()}`,
            healthCheck: importCheck(nodeChecks, target, `NodeCheckRef-${pce.region}-${failover}`),
            target: route53.RecordTarget.fromAlias(new SameZoneAlias(zone, target, true)),
            comment: `${failover} for ${pce.fqdn}: ${target}`,
          }),
        );
      }
    }
    this.failoverRecords = failoverRecords;

    // Geolocation on the supercluster FQDN -> the failover pair of the PCE serving the continent.
    const geolocationRecords: route53.ARecord[] = [];
    const geoRecord = (id: string, geoLocation: route53.GeoLocation, setIdentifier: string, pce: GslbPce): void => {
      const record = new route53.ARecord(this, id, {
        zone,
        recordName: props.superclusterFqdn,
        geoLocation,
        setIdentifier,
        target: route53.RecordTarget.fromAlias(new SameZoneAlias(zone, failoverRecordName(pce, props.superclusterFqdn), true)),
        comment: `${setIdentifier} -> ${pce.fqdn} (buddy ${pce.buddy})`,
      });
      for (const failoverRecord of failoverRecords) record.node.addDependency(failoverRecord);
      geolocationRecords.push(record);
    };
    for (const pce of props.pces) {
      for (const continent of pce.continents) {
        geoRecord(`GeoRecord-${continent}`, route53.GeoLocation.continent(continentEnum(continent)), `continent-${continent}`, pce);
      }
    }
    const defaultPce = byFqdn.get(props.defaultPceFqdn);
    if (defaultPce === undefined) throw new Error(`GslbRecords: default PCE ${props.defaultPceFqdn} is not a PCE`);
    geoRecord('GeoRecord-Default', route53.GeoLocation.default(), 'default', defaultPce);
    this.geolocationRecords = geolocationRecords;

    // Leader FQDN: every PCE is a candidate; only the one whose leader check passes is answered.
    this.leaderRecords = props.pces.map(
      (pce) =>
        new route53.ARecord(this, `LeaderRecord-${pce.region}`, {
          zone,
          recordName: props.leaderFqdn,
          weight: 1,
          setIdentifier: `leader-candidate-${pce.region}`,
          healthCheck: importCheck(leaderChecks, pce.fqdn, 'LeaderCheckRef'),
          target: route53.RecordTarget.fromAlias(new SameZoneAlias(zone, pce.fqdn, false)),
          comment: `${pce.fqdn} answers ${props.leaderFqdn} while it is the leader`,
        }),
    );
  }

  private healthCheck(id: string, fqdn: string, resourcePath: string): route53.CfnHealthCheck {
    return new route53.CfnHealthCheck(this, id, {
      healthCheckConfig: {
        type: 'HTTPS',
        fullyQualifiedDomainName: fqdn,
        port: 443,
        resourcePath,
        enableSni: true,
        requestInterval: HEALTH_CHECK_INTERVAL_SECONDS,
        failureThreshold: HEALTH_CHECK_FAILURE_THRESHOLD,
      },
      healthCheckTags: [{ key: 'Name', value: `${fqdn}${resourcePath}` }],
    });
  }
}

const CONTINENT_ENUM: Record<Continent, route53.Continent> = {
  AF: route53.Continent.AFRICA,
  AN: route53.Continent.ANTARCTICA,
  AS: route53.Continent.ASIA,
  EU: route53.Continent.EUROPE,
  NA: route53.Continent.NORTH_AMERICA,
  OC: route53.Continent.OCEANIA,
  SA: route53.Continent.SOUTH_AMERICA,
};

function continentEnum(code: Continent): route53.Continent {
  return CONTINENT_ENUM[code];
}
