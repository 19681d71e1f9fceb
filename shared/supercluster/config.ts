/**
 * The one supercluster configuration: validated once, used by the CDK app, the local cloud,
 * the Lambda handlers (as the SUPERCLUSTER_CONFIG environment variable) and pce-ctl.
 *
 * Optional fields and their defaults:
 * - `name` ('pce'): prefix of the tables, queues and stacks;
 * - `probe_interval_seconds` (5): seconds between replication probes;
 * - `api_rate_limit_per_minute` (500, Illumio's): API requests one API key may send one PCE per
 *   minute; the next gets 429 with Retry-After (shared/auth/rate-limit.ts). 0 turns the limit off
 *   (no counter write per request: the benchmarks, which poll every few ms, use it).
 * - `ven_heartbeat_interval_seconds` (60): how often VENs heartbeat their PCE (told at activation and in
 *   every heartbeat answer); pushes make policy arrive sooner, heartbeats keep presence and the fallback.
 * - `gslb` (`{ttl_seconds: 30, health_check_interval_seconds: 10, failure_threshold: 3, failover: "manual"}`,
 *   `default_pce` the leader): the GSLB model's settings (shared/supercluster/gslb.ts).
 * - `leader_lease` (`{duration_seconds: 15, clock_skew_seconds: 2}`, `regions` derived, no `witness_region`):
 *   the leader lease (shared/supercluster/lease-config.ts, docs/adr/0012-leader-lease.md). `regions` are the
 *   lease table's replica regions: 3 of one multi-Region strong consistency set, or 2 plus `witness_region`;
 *   by default the set of the initial leader's region (us-east-1: us-east-1, us-east-2, us-west-2). A cut-off
 *   leader stops writing within duration + one renewal; clock skew must stay below a third of the duration.
 */
import { z } from 'zod';
import { DEFAULT_API_RATE_LIMIT_PER_MINUTE } from '../auth/rate-limit.ts';
import { FAILOVER_MODES, GSLB_DEFAULTS, gslbIssues, MAX_TTL_SECONDS } from './gslb.ts';
import { LEASE_DEFAULTS, leaseIssues } from './lease-config.ts';

export const MIN_PCES = 2;
export const MAX_PCES = 8;

/** Route 53 geolocation continent codes. */
export const CONTINENTS = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'] as const;
export type Continent = (typeof CONTINENTS)[number];

const fqdn = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/, 'must be a lower-case DNS name');

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1');

const pceSchema = z.strictObject({
  fqdn,
  region: awsRegion,
  continents: z.array(z.enum(CONTINENTS)).min(1, 'list at least one continent this PCE serves'),
  buddy: fqdn,
});

const configSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/, 'must be 2-21 lower-case letters, digits or dashes, starting with a letter').default('pce'),
  supercluster_fqdn: fqdn,
  leader_fqdn: fqdn,
  leader: fqdn,
  org_id: z.number().int().positive(),
  object_limits: z.strictObject({
    active_agents_per_pce: z.number().int().positive(),
  }),
  hosted_zone: z.strictObject({
    id: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ'),
    name: fqdn,
  }),
  /** Seconds between replication probes each PCE writes (health: lag_seconds). */
  probe_interval_seconds: z.number().int().min(1).max(300).default(5),
  /** API requests per minute per API key on each PCE; the one over it gets 429 (Illumio: 500). */
  api_rate_limit_per_minute: z.number().int('must be an integer').nonnegative('must be 0 (off) or a positive integer').default(DEFAULT_API_RATE_LIMIT_PER_MINUTE),
  /** Seconds between a VEN's heartbeats (the VEN protocol's heartbeat_interval_seconds). */
  ven_heartbeat_interval_seconds: z.number().int().min(1).max(3600).default(60),
  /** How the supercluster FQDN is answered and fails over (shared/supercluster/gslb.ts). */
  gslb: z
    .strictObject({
      /** seconds resolvers keep an answer (Route 53 record TTL; the local DNS server's too) */
      ttl_seconds: z.number().int().min(1).max(MAX_TTL_SECONDS, `at most ${MAX_TTL_SECONDS} seconds (a failed-over client must move within a minute of the answer changing)`).default(GSLB_DEFAULTS.ttl_seconds),
      /** seconds between health-check requests: Route 53 takes 10 (fast) or 30 */
      health_check_interval_seconds: z.union([z.literal(10), z.literal(30)], { error: 'must be 10 or 30 (the intervals Route 53 health checks take)' }).default(GSLB_DEFAULTS.health_check_interval_seconds),
      /** consecutive results that flip a health check (Route 53: 1-10) */
      failure_threshold: z.number().int().min(1).max(10).default(GSLB_DEFAULTS.failure_threshold),
      /** manual: clients move to the buddy only on `pce-ctl gslb failover`; automatic: also when node_available fails */
      failover: z.enum(FAILOVER_MODES).default(GSLB_DEFAULTS.failover),
      /** the PCE answering clients of continents no PCE lists (default: the leader in the config) */
      default_pce: fqdn.optional(),
    })
    .prefault({}),
  /** The leader lease (shared/supercluster/lease-config.ts): how long it holds, where its table lives. */
  leader_lease: z
    .strictObject({
      duration_seconds: z.number().int().min(3).max(300).default(LEASE_DEFAULTS.duration_seconds),
      clock_skew_seconds: z.number().int().min(0).max(60).default(LEASE_DEFAULTS.clock_skew_seconds),
      /** the lease table's replica regions (one MRSC region set); default: derived from the leader's region */
      regions: z.array(awsRegion).optional(),
      witness_region: awsRegion.optional(),
    })
    .prefault({}),
  pces: z.array(pceSchema).min(MIN_PCES, `a supercluster has at least ${MIN_PCES} PCEs`).max(MAX_PCES, `a supercluster has at most ${MAX_PCES} PCEs`),
});

export type SuperclusterConfig = z.infer<typeof configSchema>;
export type PceConfig = SuperclusterConfig['pces'][number];

export class SuperclusterConfigError extends Error {
  override readonly name = 'SuperclusterConfigError';
  constructor(
    readonly issues: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`invalid supercluster config:\n  - ${issues.join('\n  - ')}`, options);
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '') || '(root)';
}

/** Cross-field rules zod cannot express per field. Each message names the field. */
function crossFieldIssues(config: SuperclusterConfig): string[] {
  const issues: string[] = [];
  const fqdns = new Set<string>();
  const regions = new Set<string>();
  config.pces.forEach((pce, i) => {
    if (regions.has(pce.region)) issues.push(`pces[${i}].region: duplicate region ${pce.region} (one PCE per region)`);
    if (fqdns.has(pce.fqdn)) issues.push(`pces[${i}].fqdn: duplicate FQDN ${pce.fqdn}`);
    regions.add(pce.region);
    fqdns.add(pce.fqdn);
  });
  config.pces.forEach((pce, i) => {
    if (!fqdns.has(pce.buddy)) issues.push(`pces[${i}].buddy: ${pce.buddy} is not a PCE of this supercluster`);
    else if (pce.buddy === pce.fqdn) issues.push(`pces[${i}].buddy: a PCE cannot be its own buddy`);
  });
  issues.push(...gslbIssues(config));
  issues.push(...leaseIssues(config.leader_lease, pceByFqdn(config, config.leader)?.region));
  if (!fqdns.has(config.leader)) issues.push(`leader: ${config.leader} is not a PCE of this supercluster`);
  const reserved = [config.supercluster_fqdn, config.leader_fqdn];
  config.pces.forEach((pce, i) => {
    if (reserved.includes(pce.fqdn)) issues.push(`pces[${i}].fqdn: ${pce.fqdn} is also the supercluster or leader FQDN`);
  });
  if (config.supercluster_fqdn === config.leader_fqdn) issues.push('leader_fqdn: must differ from supercluster_fqdn');
  const zone = config.hosted_zone.name;
  const inZone = (name: string) => name === zone || name.endsWith(`.${zone}`);
  if (!inZone(config.supercluster_fqdn)) issues.push(`supercluster_fqdn: ${config.supercluster_fqdn} is not in hosted zone ${zone}`);
  if (!inZone(config.leader_fqdn)) issues.push(`leader_fqdn: ${config.leader_fqdn} is not in hosted zone ${zone}`);
  // their records are CNAMEs (docs/adr/0011-gslb-failover.md), which DNS does not allow at a zone apex
  if (config.supercluster_fqdn === zone) issues.push(`supercluster_fqdn: cannot be the hosted zone apex ${zone} (its GSLB records are CNAMEs)`);
  if (config.leader_fqdn === zone) issues.push(`leader_fqdn: cannot be the hosted zone apex ${zone} (its GSLB records are CNAMEs)`);
  config.pces.forEach((pce, i) => {
    if (!inZone(pce.fqdn)) issues.push(`pces[${i}].fqdn: ${pce.fqdn} is not in hosted zone ${zone}`);
  });
  return issues;
}

/** Validates raw input (parsed JSON) into a config, or throws SuperclusterConfigError naming every bad field. */
export function parseSuperclusterConfig(input: unknown): SuperclusterConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new SuperclusterConfigError(result.error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`));
  }
  const issues = crossFieldIssues(result.data);
  if (issues.length > 0) throw new SuperclusterConfigError(issues);
  return result.data;
}

export function pceByFqdn(config: SuperclusterConfig, fqdnValue: string): PceConfig | undefined {
  return config.pces.find((pce) => pce.fqdn === fqdnValue);
}

export function pceByRegion(config: SuperclusterConfig, region: string): PceConfig | undefined {
  return config.pces.find((pce) => pce.region === region);
}

/** The PCE in `region`, or an error naming the regions that exist. */
export function requirePceByRegion(config: SuperclusterConfig, region: string): PceConfig {
  const pce = pceByRegion(config, region);
  if (!pce) throw new SuperclusterConfigError([`region ${region} has no PCE (PCE regions: ${config.pces.map((p) => p.region).join(', ')})`]);
  return pce;
}

export function initialLeader(config: SuperclusterConfig): PceConfig {
  const leader = pceByFqdn(config, config.leader);
  if (!leader) throw new SuperclusterConfigError([`leader: ${config.leader} is not a PCE of this supercluster`]);
  return leader;
}
