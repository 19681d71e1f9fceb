import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GSLB_REGION, GslbStack } from '../../infra/cdk/stacks/gslb-stack.ts';
import { pceByFqdn, type PceConfig, type SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { failoverRecordName, gslbModel, LEADER_PATH, MAX_TTL_SECONDS, NODE_AVAILABLE_PATH, switchPath } from '../../shared/supercluster/gslb.ts';
import { GSLB_HEALTH_CHECK_TAG_KEY, gslbHealthCheckTag, parseGslbHealthCheckTag, switchViaKind, type GslbHealthCheckRef } from '../../shared/supercluster/gslb-health-checks.ts';
import { configWith, propertiesOfType, resourcesOfType, synthSupercluster, TWO_PCE_CONFIG } from './supercluster-fixture.ts';

interface GetAtt {
  'Fn::GetAtt': [string, string];
}

interface RecordSet {
  Name: string;
  Type: string;
  TTL?: string;
  ResourceRecords?: string[];
  SetIdentifier?: string;
  GeoLocation?: { ContinentCode?: string; CountryCode?: string };
  Failover?: 'PRIMARY' | 'SECONDARY';
  Weight?: number;
  HealthCheckId?: GetAtt;
  AliasTarget?: { DNSName: string; HostedZoneId: string; EvaluateTargetHealth?: boolean };
}

interface HealthCheckConfig {
  Type: string;
  FullyQualifiedDomainName?: string;
  Port?: number;
  ResourcePath?: string;
  EnableSNI?: boolean;
  RequestInterval?: number;
  FailureThreshold?: number;
  ChildHealthChecks?: GetAtt[];
  HealthThreshold?: number;
}

interface Check {
  id: string;
  config: HealthCheckConfig;
  tags: Record<string, string>;
  ref: GslbHealthCheckRef;
}

function describeGslb(label: string, configOrDefault: () => SuperclusterConfig | undefined) {
  describe(`GSLB stack (${label})`, () => {
    let config: SuperclusterConfig;
    let records: Array<RecordSet & { id: string; dependsOn: string[] }>;
    let checks: Check[];
    let stackRegion: string;
    let dependencies: string[];
    let domainsByRegion: Map<string, string[]>;
    let mappingsByRegion: Map<string, number>;

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
      checks = Object.entries(resourcesOfType(template, 'AWS::Route53::HealthCheck')).map(([id, resource]) => {
        const tags = Object.fromEntries((resource.Properties.HealthCheckTags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]));
        const ref = parseGslbHealthCheckTag(tags[GSLB_HEALTH_CHECK_TAG_KEY] ?? '');
        if (ref === null) throw new Error(`health check ${id} has no pce-gslb tag`);
        return { id, config: resource.Properties.HealthCheckConfig as HealthCheckConfig, tags, ref };
      });
      domainsByRegion = new Map(synthesized.stacks.regional.map((stack) => [stack.region, propertiesOfType(Template.fromStack(stack), 'AWS::ApiGatewayV2::DomainName').map((d) => d.DomainName as string)]));
      mappingsByRegion = new Map(synthesized.stacks.regional.map((stack) => [stack.region, propertiesOfType(Template.fromStack(stack), 'AWS::ApiGatewayV2::ApiMapping').length]));
    });

    const pce = (fqdn: string): PceConfig => {
      const found = pceByFqdn(config, fqdn);
      if (!found) throw new Error(`no PCE ${fqdn}`);
      return found;
    };
    const check = (tag: string): Check => {
      const found = checks.find((c) => c.tags[GSLB_HEALTH_CHECK_TAG_KEY] === tag);
      if (!found) throw new Error(`no health check ${tag}`);
      return found;
    };
    const checkOfRecord = (record: RecordSet): Check => {
      const found = checks.find((c) => c.id === record.HealthCheckId?.['Fn::GetAtt'][0]);
      if (!found) throw new Error(`record ${record.Name} ${record.SetIdentifier ?? ''} has no health check`);
      return found;
    };
    const childTags = (c: Check): string[] =>
      (c.config.ChildHealthChecks ?? []).map((child) => {
        const found = checks.find((candidate) => candidate.id === child['Fn::GetAtt'][0]);
        return found?.tags[GSLB_HEALTH_CHECK_TAG_KEY] ?? `missing ${child['Fn::GetAtt'][0]}`;
      });
    const failoverRecords = () => records.filter((r) => r.Failover);
    const geoRecords = () => records.filter((r) => r.GeoLocation);
    const leaderRecords = () => records.filter((r) => r.Name === `${config.leader_fqdn}.`);

    it('lives in us-east-1 and deploys after every regional stack (the PCE records)', () => {
      expect(stackRegion).toBe(GSLB_REGION);
      expect(dependencies.sort()).toEqual(config.pces.map((p) => `${config.name}-regional-${p.region}`).sort());
    });

    it('has exactly the geolocation, failover and leader records: counts and set identifiers', () => {
      const continents = config.pces.flatMap((p) => p.continents);
      expect(records).toHaveLength(continents.length + 1 + 2 * config.pces.length + config.pces.length);
      expect(geoRecords().map((r) => r.SetIdentifier).sort()).toEqual([...continents.map((c) => `continent-${c}`), 'default'].sort());
      expect(failoverRecords().map((r) => r.SetIdentifier).sort()).toEqual(config.pces.flatMap((p) => [`${p.region}-primary`, `${p.region}-secondary`]).sort());
      expect(leaderRecords().map((r) => r.SetIdentifier).sort()).toEqual(config.pces.map((p) => `leader-candidate-${p.region}`).sort());
      for (const record of records) expect(record).toHaveProperty('HostedZoneId', config.hosted_zone.id);
    });

    it('answers with CNAMEs whose TTL is the model TTL (at most 60 s): failover pairs and leader candidates', () => {
      const ttl = gslbModel(config).ttlSeconds;
      expect(ttl).toBeLessThanOrEqual(MAX_TTL_SECONDS);
      expect(ttl).toBe(config.gslb.ttl_seconds);
      for (const record of [...failoverRecords(), ...leaderRecords()]) {
        expect(record.Type).toBe('CNAME');
        expect(record.TTL).toBe(String(ttl));
        expect(record.AliasTarget).toBeUndefined();
        expect(record.ResourceRecords).toHaveLength(1);
      }
    });

    it('has one geolocation record per configured continent plus the default: CNAME aliases (no TTL of their own) evaluating target health', () => {
      const geo = geoRecords();
      expect(geo.filter((r) => r.GeoLocation?.ContinentCode).map((r) => r.GeoLocation?.ContinentCode).sort()).toEqual(config.pces.flatMap((p) => p.continents).sort());
      expect(geo.filter((r) => r.GeoLocation?.CountryCode === '*')).toHaveLength(1);
      for (const record of geo) {
        expect(record.Name).toBe(`${config.supercluster_fqdn}.`);
        expect(record.Type).toBe('CNAME');
        expect(record.TTL).toBeUndefined();
        expect(record.HealthCheckId).toBeUndefined();
        expect(record.AliasTarget).toMatchObject({ HostedZoneId: config.hosted_zone.id, EvaluateTargetHealth: true });
      }
    });

    it("points each continent at its PCE's failover pair, and the default at default_pce's", () => {
      for (const p of config.pces) {
        for (const continent of p.continents) {
          expect(records.find((r) => r.GeoLocation?.ContinentCode === continent)?.AliasTarget?.DNSName).toBe(failoverRecordName(p, config.supercluster_fqdn));
        }
      }
      const fallback = records.find((r) => r.GeoLocation?.CountryCode === '*');
      expect(fallback?.AliasTarget?.DNSName).toBe(failoverRecordName(pce(gslbModel(config).defaultPce), config.supercluster_fqdn));
    });

    it("gives every PCE a failover pair: PRIMARY = the PCE on its primary check, SECONDARY = its buddy on the buddy's node check", () => {
      for (const p of config.pces) {
        const pair = records.filter((r) => r.Name === `${failoverRecordName(p, config.supercluster_fqdn)}.`);
        expect(pair.map((r) => r.Failover).sort()).toEqual(['PRIMARY', 'SECONDARY']);
        const primary = pair.find((r) => r.Failover === 'PRIMARY');
        const secondary = pair.find((r) => r.Failover === 'SECONDARY');
        expect(primary?.ResourceRecords).toEqual([p.fqdn]);
        expect(checkOfRecord(primary ?? ({} as RecordSet)).ref).toEqual({ kind: 'primary', pce: p.fqdn });
        expect(secondary?.ResourceRecords).toEqual([p.buddy]);
        expect(checkOfRecord(secondary ?? ({} as RecordSet)).ref).toEqual({ kind: 'node', pce: p.buddy });
      }
    });

    it('creates geolocation records after the failover records they alias', () => {
      const failoverIds = failoverRecords().map((r) => r.id);
      for (const record of geoRecords()) expect(record.dependsOn).toEqual(expect.arrayContaining(failoverIds));
    });

    it('answers the leader FQDN with one equal-weight CNAME per PCE, each on its leader check', () => {
      expect(leaderRecords()).toHaveLength(config.pces.length);
      expect(new Set(leaderRecords().map((r) => r.Weight))).toEqual(new Set([1]));
      for (const p of config.pces) {
        const record = leaderRecords().find((r) => r.ResourceRecords?.[0] === p.fqdn);
        expect(record?.Type).toBe('CNAME');
        expect(checkOfRecord(record ?? ({} as RecordSet)).ref).toEqual({ kind: 'leader', pce: p.fqdn });
      }
    });

    it('has node, leader, one switch-via per other PCE, a switch and a primary health check per PCE, each tagged Name and pce-gslb', () => {
      const n = config.pces.length;
      expect(checks).toHaveLength(n * (2 + (n - 1) + 2));
      expect(new Set(checks.map((c) => c.tags[GSLB_HEALTH_CHECK_TAG_KEY])).size).toBe(checks.length);
      for (const c of checks) expect(c.tags.Name, c.id).toBeTruthy();
      const endpoint = { Type: 'HTTPS', Port: 443, EnableSNI: true, RequestInterval: config.gslb.health_check_interval_seconds, FailureThreshold: config.gslb.failure_threshold };
      for (const p of config.pces) {
        expect(check(gslbHealthCheckTag('node', p.fqdn)).config).toEqual({ ...endpoint, FullyQualifiedDomainName: p.fqdn, ResourcePath: NODE_AVAILABLE_PATH });
        expect(check(gslbHealthCheckTag('node', p.fqdn)).tags.Name).toBe(`${p.fqdn}${NODE_AVAILABLE_PATH}`);
        expect(check(gslbHealthCheckTag('leader', p.fqdn)).config).toEqual({ ...endpoint, FullyQualifiedDomainName: p.fqdn, ResourcePath: LEADER_PATH });
        for (const other of config.pces.filter((o) => o.fqdn !== p.fqdn)) {
          // X's switch as R serves it: probed on R's FQDN, so it answers with X's region down
          expect(check(gslbHealthCheckTag(switchViaKind(other.fqdn), p.fqdn)).config).toEqual({ ...endpoint, FullyQualifiedDomainName: other.fqdn, ResourcePath: switchPath(p.fqdn) });
        }
      }
    });

    it("computes each PCE's switch from the other PCEs' switch-via checks: healthy while at least one is", () => {
      for (const p of config.pces) {
        const sw = check(gslbHealthCheckTag('switch', p.fqdn));
        expect(sw.config.Type).toBe('CALCULATED');
        expect(sw.config.HealthThreshold).toBe(1);
        expect(childTags(sw).sort()).toEqual(config.pces.filter((o) => o.fqdn !== p.fqdn).map((o) => gslbHealthCheckTag(switchViaKind(o.fqdn), p.fqdn)).sort());
      }
    });

    it('computes each primary check as the failover mode says (manual: the switch alone; automatic: node_available AND the switch)', () => {
      for (const p of config.pces) {
        const primary = check(gslbHealthCheckTag('primary', p.fqdn));
        expect(primary.config.Type).toBe('CALCULATED');
        if (config.gslb.failover === 'manual') {
          expect(childTags(primary)).toEqual([gslbHealthCheckTag('switch', p.fqdn)]);
          expect(primary.config.HealthThreshold).toBe(1);
        } else {
          expect(childTags(primary).sort()).toEqual([gslbHealthCheckTag('node', p.fqdn), gslbHealthCheckTag('switch', p.fqdn)].sort());
          expect(primary.config.HealthThreshold).toBe(2);
        }
      }
    });

    it('sends clients only to PCEs whose regional API serves the supercluster and leader FQDNs (custom domain + mapping each)', () => {
      const answered = new Set([...failoverRecords(), ...leaderRecords()].flatMap((r) => r.ResourceRecords ?? []));
      for (const fqdn of answered) {
        const { region } = pce(fqdn);
        expect(domainsByRegion.get(region)?.sort()).toEqual([fqdn, config.supercluster_fqdn, config.leader_fqdn].sort());
        expect(mappingsByRegion.get(region)).toBe(3);
      }
    });
  });
}

describeGslb('default config: manual failover, TTL 30 s, 10 s x 3', () => undefined);
describeGslb('two PCEs led from eu-central-1', () => TWO_PCE_CONFIG);
describeGslb('automatic failover, TTL 45 s, 30 s x 2, default PCE not the leader', () =>
  configWith({ gslb: { failover: 'automatic', ttl_seconds: 45, health_check_interval_seconds: 30, failure_threshold: 2, default_pce: 'pce-ap.supercluster.example.com' } }),
);

describe('GslbStack', () => {
  it('refuses a config the GSLB model cannot route (a continent served twice), even one built by hand', () => {
    const valid = configWith({});
    const config: SuperclusterConfig = { ...valid, pces: valid.pces.map((p, i) => (i === 1 ? { ...p, continents: [...p.continents, 'NA' as const] } : p)) };
    expect(() => new GslbStack(new App(), 'Gslb', { env: { region: GSLB_REGION }, config })).toThrow(/NA is also served by/);
  });
});
