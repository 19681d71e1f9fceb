import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  failoverRecordName,
  GslbRecords,
  HEALTH_CHECK_FAILURE_THRESHOLD,
  HEALTH_CHECK_INTERVAL_SECONDS,
  LEADER_PATH,
  NODE_AVAILABLE_PATH,
} from '../../infra/cdk/constructs/gslb-records.ts';
import { GSLB_REGION } from '../../infra/cdk/stacks/gslb-stack.ts';
import { initialLeader, pceByFqdn, type PceConfig, type SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { configWith, resourcesOfType, synthSupercluster, TWO_PCE_CONFIG } from './supercluster-fixture.ts';

interface RecordSet {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  GeoLocation?: { ContinentCode?: string; CountryCode?: string };
  Failover?: 'PRIMARY' | 'SECONDARY';
  Weight?: number;
  HealthCheckId?: { 'Fn::GetAtt': [string, 'HealthCheckId'] };
  AliasTarget?: { DNSName: string; HostedZoneId: string; EvaluateTargetHealth?: boolean };
}

interface HealthCheckConfig {
  Type: string;
  FullyQualifiedDomainName: string;
  Port: number;
  ResourcePath: string;
  RequestInterval: number;
  FailureThreshold: number;
}

function describeGslb(label: string, configOrDefault: () => SuperclusterConfig | undefined) {
  describe(`GSLB stack (${label})`, () => {
    let config: SuperclusterConfig;
    let records: Array<RecordSet & { id: string; dependsOn: string[] }>;
    let checks: Map<string, HealthCheckConfig>;
    let stackRegion: string;
    let dependencies: string[];

    beforeAll(() => {
      const synthesized = synthSupercluster(configOrDefault());
      config = synthesized.config;
      stackRegion = synthesized.stacks.gslb.region;
      dependencies = synthesized.stacks.gslb.dependencies.map((stack) => stack.stackName);
      const template = Template.fromStack(synthesized.stacks.gslb);
      records = Object.entries(resourcesOfType(template, 'AWS::Route53::RecordSet')).map(([id, resource]) => ({
        id,
        dependsOn: resource.DependsOn ?? [],
        ...(resource.Properties as unknown as RecordSet),
      }));
      checks = new Map(
        Object.entries(resourcesOfType(template, 'AWS::Route53::HealthCheck')).map(([id, resource]) => [
          id,
          resource.Properties.HealthCheckConfig as HealthCheckConfig,
        ]),
      );
    });

    const checkOf = (record: RecordSet): HealthCheckConfig | undefined =>
      record.HealthCheckId ? checks.get(record.HealthCheckId['Fn::GetAtt'][0]) : undefined;
    const pce = (fqdn: string): PceConfig => {
      const found = pceByFqdn(config, fqdn);
      if (!found) throw new Error(`no PCE ${fqdn}`);
      return found;
    };

    it('lives in us-east-1 and deploys after every regional stack (aliases need the PCE records)', () => {
      expect(stackRegion).toBe(GSLB_REGION);
      expect(dependencies.sort()).toEqual(config.pces.map((p) => `${config.name}-regional-${p.region}`).sort());
    });

    it('uses only A alias records inside the hosted zone', () => {
      for (const record of records) {
        expect(record.Type).toBe('A');
        expect(record.AliasTarget?.HostedZoneId).toBe(config.hosted_zone.id);
      }
    });

    it('has two HTTPS health checks per PCE: node_available and supercluster/leader', () => {
      expect(checks.size).toBe(2 * config.pces.length);
      for (const { fqdn } of config.pces) {
        for (const path of [NODE_AVAILABLE_PATH, LEADER_PATH]) {
          const matching = [...checks.values()].filter((check) => check.FullyQualifiedDomainName === fqdn && check.ResourcePath === path);
          expect(matching, `${fqdn}${path}`).toHaveLength(1);
          expect(matching[0]).toMatchObject({
            Type: 'HTTPS',
            Port: 443,
            RequestInterval: HEALTH_CHECK_INTERVAL_SECONDS,
            FailureThreshold: HEALTH_CHECK_FAILURE_THRESHOLD,
          });
        }
      }
      expect(HEALTH_CHECK_INTERVAL_SECONDS).toBe(30);
      expect(HEALTH_CHECK_FAILURE_THRESHOLD).toBe(3);
    });

    it('has one geolocation record per configured continent plus the default, on the supercluster FQDN', () => {
      const geo = records.filter((record) => record.GeoLocation);
      const expected = config.pces.flatMap((p) => p.continents).sort();
      expect(geo.filter((record) => record.GeoLocation?.ContinentCode).map((record) => record.GeoLocation?.ContinentCode).sort()).toEqual(expected);
      expect(geo.filter((record) => record.GeoLocation?.CountryCode === '*')).toHaveLength(1);
      expect(geo).toHaveLength(expected.length + 1);
      for (const record of geo) expect(record.Name).toBe(`${config.supercluster_fqdn}.`);
    });

    it("points each continent at its PCE's failover pair, and the default at the leader's", () => {
      for (const p of config.pces) {
        for (const continent of p.continents) {
          const record = records.find((r) => r.GeoLocation?.ContinentCode === continent);
          expect(record?.AliasTarget).toEqual({ DNSName: failoverRecordName(p, config.supercluster_fqdn), HostedZoneId: config.hosted_zone.id, EvaluateTargetHealth: true });
        }
      }
      const fallback = records.find((r) => r.GeoLocation?.CountryCode === '*');
      expect(fallback?.AliasTarget?.DNSName).toBe(failoverRecordName(initialLeader(config), config.supercluster_fqdn));
    });

    it('gives every PCE a failover pair: PRIMARY = the PCE, SECONDARY = its buddy, each on its node_available check', () => {
      for (const p of config.pces) {
        const pair = records.filter((r) => r.Name === `${failoverRecordName(p, config.supercluster_fqdn)}.`);
        expect(pair.map((r) => r.Failover).sort()).toEqual(['PRIMARY', 'SECONDARY']);
        for (const record of pair) {
          const target = record.Failover === 'PRIMARY' ? p : pce(p.buddy);
          expect(record.AliasTarget?.DNSName).toBe(target.fqdn);
          expect(checkOf(record)).toMatchObject({ FullyQualifiedDomainName: target.fqdn, ResourcePath: NODE_AVAILABLE_PATH });
        }
      }
    });

    it('creates geolocation records after the failover records they alias', () => {
      const failoverIds = records.filter((r) => r.Failover).map((r) => r.id);
      for (const record of records.filter((r) => r.GeoLocation)) expect(record.dependsOn).toEqual(expect.arrayContaining(failoverIds));
    });

    it('answers the leader FQDN with one weighted record per PCE, each health-checked on /api/v2/supercluster/leader', () => {
      const leaderRecords = records.filter((r) => r.Name === `${config.leader_fqdn}.`);
      expect(leaderRecords).toHaveLength(config.pces.length);
      expect(new Set(leaderRecords.map((r) => r.Weight)).size).toBe(1);
      for (const p of config.pces) {
        const record = leaderRecords.find((r) => r.AliasTarget?.DNSName === p.fqdn);
        expect(checkOf(record ?? {} as RecordSet)).toMatchObject({ FullyQualifiedDomainName: p.fqdn, ResourcePath: LEADER_PATH });
      }
    });
  });
}

describeGslb('default config', () => undefined);
describeGslb('two PCEs led from eu-central-1', () => TWO_PCE_CONFIG);

describe('GslbRecords rejects what Route 53 would reject', () => {
  const zone = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'supercluster.example.com' });
  const recordsFor = (config: SuperclusterConfig, pces: SuperclusterConfig['pces']) => {
    const stack = new Stack(new App(), 'Gslb', { env: { region: GSLB_REGION } });
    return new GslbRecords(stack, 'Gslb', { zone: zone(stack), superclusterFqdn: config.supercluster_fqdn, leaderFqdn: config.leader_fqdn, pces, defaultPceFqdn: config.leader });
  };

  it('a continent listed by two PCEs (duplicate geolocation records)', () => {
    const config = configWith({});
    const pces = config.pces.map((p, i) => (i === 1 ? { ...p, continents: [...p.continents, 'NA' as const] } : p));
    expect(() => recordsFor(config, pces)).toThrow(/continent NA is listed by both/);
  });

  it('a buddy that is not another PCE', () => {
    const config = configWith({});
    const pces = config.pces.map((p, i) => (i === 0 ? { ...p, buddy: p.fqdn } : p));
    expect(() => recordsFor(config, pces)).toThrow(/buddy .* must be another PCE/);
  });
});
