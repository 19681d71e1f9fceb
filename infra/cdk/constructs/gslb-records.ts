/**
 * The GSLB model (shared/supercluster/gslb.ts) as Route 53 records and health checks, in the one hosted zone
 * (docs/adr/0011-gslb-failover.md):
 *
 *   <supercluster FQDN>   geolocation: one record per continent a PCE lists, plus default (*) -> default_pce's pair
 *        | CNAME alias to a record of the same zone, EvaluateTargetHealth (an alias answers with its target's TTL)
 *   <region>.failover.<supercluster FQDN>   failover pair per PCE X, CNAME, TTL = gslb.ttl_seconds:
 *        PRIMARY   -> X's FQDN,     health check primary:<X> (manual: X's switch; automatic: node_available AND the switch)
 *        SECONDARY -> buddy's FQDN, health check node:<buddy>
 *   <leader FQDN>   weighted CNAME (equal weights, TTL = gslb.ttl_seconds), one per PCE -> its FQDN, health check leader:<X>
 *   <PCE FQDN>      A alias -> its regional API custom domain (owned by the regional stack; each custom domain set
 *                   also serves the supercluster and leader FQDNs, the Host a client sends after these CNAMEs)
 *
 * The health checks are `gslbHealthChecks(model)` (shared/supercluster/gslb-health-checks.ts), each tagged
 * `pce-gslb` = its tag value so `pce-ctl gslb status` finds them with read-only Route 53 calls. Failover never
 * calls the Route 53 API: an operator's `pce-ctl gslb failover X` writes a switch item in the global table, which
 * the other PCEs serve on /api/v2/gslb/switches/<X> (503), and X's calculated checks follow.
 */
import { Duration } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { Continent } from '../../../shared/supercluster/config.ts';
import { failoverRecordName, requireGslbPce, type GslbModel, type GslbPce } from '../../../shared/supercluster/gslb.ts';
import { GSLB_HEALTH_CHECK_TAG_KEY, gslbHealthCheckTag, gslbHealthChecks, type GslbHealthCheck, type GslbHealthCheckRef } from '../../../shared/supercluster/gslb-health-checks.ts';

export interface GslbRecordsProps {
  readonly zone: route53.IHostedZone;
  /** `gslbModel(config)` of a validated config (the loader has rejected what the model cannot route) */
  readonly model: GslbModel;
}

/** An alias to another record of the same type in the same hosted zone. */
class SameZoneAlias implements route53.IAliasRecordTarget {
  constructor(
    private readonly zone: route53.IHostedZone,
    private readonly dnsName: string,
  ) {}

  bind(): route53.AliasRecordTargetConfig {
    return { hostedZoneId: this.zone.hostedZoneId, dnsName: this.dnsName, evaluateTargetHealth: true };
  }
}

export class GslbRecords extends Construct {
  /** Every health check, by its `pce-gslb` tag value (`gslbHealthCheckTag(kind, fqdn)`). */
  readonly healthChecks: ReadonlyMap<string, route53.CfnHealthCheck>;
  readonly failoverRecords: readonly route53.RecordSet[];
  readonly geolocationRecords: readonly route53.RecordSet[];
  readonly leaderRecords: readonly route53.RecordSet[];

  constructor(scope: Construct, id: string, props: GslbRecordsProps) {
    super(scope, id);
    const { zone, model } = props;
    const ttl = Duration.seconds(model.ttlSeconds);
    const regionOf = (fqdn: string): string => requireGslbPce(model, fqdn).region;

    const checks = new Map<string, route53.CfnHealthCheck>();
    for (const check of gslbHealthChecks(model)) checks.set(check.tag, this.healthCheck(check, checks, regionOf));
    this.healthChecks = checks;
    const useCheck = (kind: 'node' | 'primary' | 'leader', fqdn: string, refId: string): route53.IHealthCheck => {
      const check = checks.get(gslbHealthCheckTag(kind, fqdn));
      if (check === undefined) throw new Error(`GslbRecords: no ${kind} check of ${fqdn}`);
      return route53.HealthCheck.fromHealthCheckId(this, refId, check.attrHealthCheckId);
    };

    // Failover pairs: the PCE while its primary check passes, else its buddy while the buddy's node check passes.
    const failoverRecords: route53.RecordSet[] = [];
    for (const pce of model.pces) {
      const pair = [
        { failover: route53.Failover.PRIMARY, target: pce.fqdn, healthCheck: useCheck('primary', pce.fqdn, `PrimaryCheckRef-${pce.region}`) },
        { failover: route53.Failover.SECONDARY, target: pce.buddy, healthCheck: useCheck('node', pce.buddy, `NodeCheckRef-${pce.region}-SECONDARY`) },
      ];
      for (const { failover, target, healthCheck } of pair) {
        failoverRecords.push(
          new route53.CnameRecord(this, `FailoverRecord-${pce.region}-${failover}`, {
            zone,
            recordName: failoverRecordName(pce, model.superclusterFqdn),
            domainName: target,
            ttl,
            failover,
            setIdentifier: `${pce.region}-${failover.toLowerCase()}`,
            healthCheck,
            comment: `${failover} for ${pce.fqdn}: ${target}`,
          }),
        );
      }
    }
    this.failoverRecords = failoverRecords;

    // Geolocation on the supercluster FQDN -> the failover pair of the PCE serving the continent.
    const geolocationRecords: route53.RecordSet[] = [];
    const geoRecord = (recordId: string, geoLocation: route53.GeoLocation, setIdentifier: string, pce: GslbPce): void => {
      const record = new route53.RecordSet(this, recordId, {
        zone,
        recordName: model.superclusterFqdn,
        // an alias has the type of the record it points at
        recordType: route53.RecordType.CNAME,
        geoLocation,
        setIdentifier,
        target: route53.RecordTarget.fromAlias(new SameZoneAlias(zone, failoverRecordName(pce, model.superclusterFqdn))),
        comment: `${setIdentifier} -> ${pce.fqdn} (buddy ${pce.buddy})`,
      });
      // Route 53 rejects an alias to a name that does not exist yet
      for (const failoverRecord of failoverRecords) record.node.addDependency(failoverRecord);
      geolocationRecords.push(record);
    };
    for (const pce of model.pces) {
      for (const continent of pce.continents) geoRecord(`GeoRecord-${continent}`, route53.GeoLocation.continent(CONTINENT_ENUM[continent]), `continent-${continent}`, pce);
    }
    geoRecord('GeoRecord-Default', route53.GeoLocation.default(), 'default', requireGslbPce(model, model.defaultPce));
    this.geolocationRecords = geolocationRecords;

    // Leader FQDN: every PCE is a candidate; only the one whose leader check passes (202) is answered.
    this.leaderRecords = model.pces.map(
      (pce) =>
        new route53.CnameRecord(this, `LeaderRecord-${pce.region}`, {
          zone,
          recordName: model.leaderFqdn,
          domainName: pce.fqdn,
          ttl,
          weight: 1,
          setIdentifier: `leader-candidate-${pce.region}`,
          healthCheck: useCheck('leader', pce.fqdn, `LeaderCheckRef-${pce.region}`),
          comment: `${pce.fqdn} answers ${model.leaderFqdn} while it is the leader`,
        }),
    );
  }

  private healthCheck(check: GslbHealthCheck, made: ReadonlyMap<string, route53.CfnHealthCheck>, regionOf: (fqdn: string) => string): route53.CfnHealthCheck {
    const healthCheckConfig: route53.CfnHealthCheck.HealthCheckConfigProperty =
      check.type === 'endpoint'
        ? {
            type: 'HTTPS',
            fullyQualifiedDomainName: check.fqdn,
            port: check.port,
            resourcePath: check.resourcePath,
            enableSni: true,
            requestInterval: check.requestIntervalSeconds,
            failureThreshold: check.failureThreshold,
          }
        : {
            type: 'CALCULATED',
            childHealthChecks: check.children.map((child) => {
              const childCheck = made.get(child);
              if (childCheck === undefined) throw new Error(`GslbRecords: ${check.tag} needs ${child} first`);
              return childCheck.attrHealthCheckId;
            }),
            healthThreshold: check.healthThreshold,
          };
    return new route53.CfnHealthCheck(this, healthCheckId(check.ref, regionOf), {
      healthCheckConfig,
      healthCheckTags: [
        { key: 'Name', value: check.name },
        { key: GSLB_HEALTH_CHECK_TAG_KEY, value: check.tag },
      ],
    });
  }
}

/** Construct ids: stable per PCE region (node and leader keep their first names). */
function healthCheckId(ref: GslbHealthCheckRef, regionOf: (fqdn: string) => string): string {
  const region = regionOf(ref.pce);
  switch (ref.kind) {
    case 'node':
      return `NodeAvailableCheck-${region}`;
    case 'leader':
      return `LeaderCheck-${region}`;
    case 'switch':
      return `SwitchCheck-${region}`;
    case 'primary':
      return `PrimaryCheck-${region}`;
    case 'switch-via':
      return `SwitchCheck-${region}-via-${regionOf(ref.via)}`;
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
