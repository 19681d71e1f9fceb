/**
 * The GSLB model: one description of how the supercluster FQDN, the leader FQDN and each PCE FQDN are
 * answered, built from the supercluster config. The CDK app's Route 53 records and health checks
 * (infra/cdk/constructs/gslb-records.ts) and the local DNS server (infra/local/gslb-dns.ts) are both
 * made from it, and `routeClient` is the one decision both follow (docs/adr/0011-gslb-failover.md):
 *
 *   <supercluster FQDN>  geolocation: each PCE's continents, a default record for the rest (default_pce)
 *        -> the failover pair of that PCE:
 *             PRIMARY    the PCE, while its primary check is healthy
 *             SECONDARY  its buddy, while the buddy's node check is healthy
 *             (both unhealthy: the default record's pair; all unhealthy: the primary)
 *   <PCE FQDN>           that PCE's endpoint (its regional API custom domain / its local address)
 *   <leader FQDN>        every PCE whose leader check (/api/v2/supercluster/leader) is healthy
 *
 * Health checks (Route 53's rules: `failure_threshold` consecutive results flip a check, probed every
 * `health_check_interval_seconds`):
 *   node    GET /api/v2/node_available on the PCE
 *   switch  GET /api/v2/gslb/switches/<PCE FQDN> on each OTHER PCE: 200 while the operator has not failed
 *           the PCE over, 503 after `pce-ctl gslb failover`; healthy while at least one other PCE says 200
 *           (so the switch works with the PCE's own region down, and never needs the Route 53 API)
 *   primary manual mode: the switch alone (clients move only when an operator says so, as the seed advises)
 *           automatic mode: node AND switch
 */
import type { Continent, SuperclusterConfig } from './config.ts';

export const NODE_AVAILABLE_PATH = '/api/v2/node_available';
export const LEADER_PATH = '/api/v2/supercluster/leader';
/** The switch of `pceFqdn`, served by every regional API (unauthenticated, like node_available). */
export const SWITCH_PATH_PREFIX = '/api/v2/gslb/switches/';
export const switchPath = (pceFqdn: string): string => `${SWITCH_PATH_PREFIX}${pceFqdn}`;

export const FAILOVER_MODES = ['manual', 'automatic'] as const;
export type FailoverMode = (typeof FAILOVER_MODES)[number];

/** Route 53 takes 10 (fast) or 30 seconds between health-check requests. */
export const HEALTH_CHECK_INTERVALS = [10, 30] as const;
export type HealthCheckInterval = (typeof HEALTH_CHECK_INTERVALS)[number];

export const GSLB_DEFAULTS = {
  ttl_seconds: 30,
  health_check_interval_seconds: 10 as HealthCheckInterval,
  failure_threshold: 3,
  failover: 'manual' as FailoverMode,
} as const;
export const MAX_TTL_SECONDS = 60;

export interface GslbPce {
  readonly fqdn: string;
  readonly region: string;
  readonly continents: readonly Continent[];
  readonly buddy: string;
}

export interface GslbModel {
  readonly superclusterFqdn: string;
  readonly leaderFqdn: string;
  readonly ttlSeconds: number;
  readonly healthCheckIntervalSeconds: HealthCheckInterval;
  readonly failureThreshold: number;
  readonly failover: FailoverMode;
  /** answers clients of continents no PCE lists (the `*` geolocation record) */
  readonly defaultPce: string;
  readonly pces: readonly GslbPce[];
  /** which PCE a client of each listed continent is sent to (when healthy) */
  readonly continentOwner: ReadonlyMap<Continent, string>;
}

/** Problems that make a config unroutable (the config loader reports them with the other config issues). */
export function gslbIssues(config: Pick<SuperclusterConfig, 'pces' | 'leader' | 'supercluster_fqdn'> & { gslb?: { default_pce?: string | undefined } | undefined }): string[] {
  const issues: string[] = [];
  const owner = new Map<Continent, string>();
  config.pces.forEach((pce, i) => {
    for (const continent of pce.continents) {
      const other = owner.get(continent);
      if (other !== undefined) issues.push(`pces[${i}].continents: ${continent} is also served by ${other} (one geolocation record per continent)`);
      else owner.set(continent, pce.fqdn);
    }
    if (new Set(pce.continents).size !== pce.continents.length) issues.push(`pces[${i}].continents: a continent is listed twice`);
    const name = failoverRecordName(pce, config.supercluster_fqdn);
    if (name.length > 253) issues.push(`pces[${i}].region: the failover record name ${name} is longer than 253 characters`);
  });
  const defaultPce = config.gslb?.default_pce;
  if (defaultPce !== undefined && !config.pces.some((p) => p.fqdn === defaultPce)) issues.push(`gslb.default_pce: ${defaultPce} is not a PCE of this supercluster`);
  return issues;
}

/** The model of a validated config. */
export function gslbModel(config: SuperclusterConfig): GslbModel {
  const g = config.gslb;
  const continentOwner = new Map<Continent, string>();
  for (const pce of config.pces) for (const c of pce.continents) if (!continentOwner.has(c)) continentOwner.set(c, pce.fqdn);
  return {
    superclusterFqdn: config.supercluster_fqdn,
    leaderFqdn: config.leader_fqdn,
    ttlSeconds: g.ttl_seconds,
    healthCheckIntervalSeconds: g.health_check_interval_seconds,
    failureThreshold: g.failure_threshold,
    failover: g.failover,
    defaultPce: g.default_pce ?? config.leader,
    pces: config.pces.map((p) => ({ fqdn: p.fqdn, region: p.region, continents: [...p.continents], buddy: p.buddy })),
    continentOwner,
  };
}

/** The failover pair's record name of a PCE (primary: that PCE, secondary: its buddy). */
export function failoverRecordName(pce: Pick<GslbPce, 'region'>, superclusterFqdn: string): string {
  return `${pce.region}.failover.${superclusterFqdn}`;
}

/** The longest a client keeps being sent to a failed PCE in automatic mode: interval x threshold + TTL (seconds). */
export function automaticFailoverBoundSeconds(model: Pick<GslbModel, 'healthCheckIntervalSeconds' | 'failureThreshold' | 'ttlSeconds'>): number {
  return model.healthCheckIntervalSeconds * model.failureThreshold + model.ttlSeconds;
}

/** The PCE whose failover pair answers a client of `continent` (null: no continent known, the default record). */
export function homePceOf(model: GslbModel, continent: Continent | null): string {
  return (continent !== null ? model.continentOwner.get(continent) : undefined) ?? model.defaultPce;
}

export function requireGslbPce(model: GslbModel, fqdn: string): GslbPce {
  const pce = model.pces.find((p) => p.fqdn === fqdn);
  if (!pce) throw new Error(`${fqdn} is not a PCE of this supercluster (PCEs: ${model.pces.map((p) => p.fqdn).join(', ')})`);
  return pce;
}

/** What the health checks say of one PCE (each a Route 53 health check's state). */
export interface PceCheckStates {
  /** node check: /api/v2/node_available on the PCE */
  readonly node: boolean;
  /** switch check: at least one other PCE serves 200 on the PCE's switch path (= not failed over) */
  readonly switch: boolean;
  /** leader check: /api/v2/supercluster/leader on the PCE */
  readonly leader: boolean;
}

/** The primary record's health of a PCE in the model's mode. */
export function primaryHealthy(model: Pick<GslbModel, 'failover'>, s: Pick<PceCheckStates, 'node' | 'switch'>): boolean {
  return model.failover === 'manual' ? s.switch : s.node && s.switch;
}

export interface ClientRoute {
  /** the PCE the client of that continent is answered with */
  readonly answer: string;
  /** the PCE whose failover pair the client's geolocation record names */
  readonly home: string;
  readonly via: 'primary' | 'secondary' | 'default_record' | 'primary_unhealthy_pair';
}

function pairAnswer(model: GslbModel, pce: GslbPce, states: (fqdn: string) => PceCheckStates): { answer: string; via: 'primary' | 'secondary' } | null {
  if (primaryHealthy(model, states(pce.fqdn))) return { answer: pce.fqdn, via: 'primary' };
  if (states(pce.buddy).node) return { answer: pce.buddy, via: 'secondary' };
  return null;
}

/**
 * Route 53's answer for a client of `continent`, given every PCE's check states: the failover pair of the
 * continent's geolocation record; when both of its records are unhealthy, that record evaluates unhealthy
 * (EvaluateTargetHealth) and the default geolocation record's pair answers; when that is unhealthy too,
 * Route 53 answers the continent's primary anyway (every candidate unhealthy: it answers as if healthy).
 */
export function routeClient(model: GslbModel, continent: Continent | null, states: (fqdn: string) => PceCheckStates): ClientRoute {
  const home = requireGslbPce(model, homePceOf(model, continent));
  const own = pairAnswer(model, home, states);
  if (own) return { ...own, home: home.fqdn };
  if (home.fqdn !== model.defaultPce) {
    const fallback = pairAnswer(model, requireGslbPce(model, model.defaultPce), states);
    if (fallback) return { answer: fallback.answer, home: home.fqdn, via: 'default_record' };
  }
  return { answer: home.fqdn, home: home.fqdn, via: 'primary_unhealthy_pair' };
}

/** The PCEs the leader FQDN answers with (every PCE whose leader check is healthy; none: all of them, as Route 53 does). */
export function leaderAnswers(model: GslbModel, states: (fqdn: string) => PceCheckStates): string[] {
  const healthy = model.pces.filter((p) => states(p.fqdn).leader).map((p) => p.fqdn);
  return healthy.length > 0 ? healthy : model.pces.map((p) => p.fqdn);
}

/**
 * One health check's state as Route 53 keeps it: probed every interval, flipped by `threshold`
 * consecutive results the other way. Starts healthy (Route 53 considers a new check healthy until
 * it has data).
 */
export class HealthCheckState {
  private healthyNow = true;
  private streak = 0;

  constructor(private readonly threshold: number) {}

  get healthy(): boolean {
    return this.healthyNow;
  }

  /** One probe's result; returns true when the state flipped. */
  record(ok: boolean): boolean {
    if (ok === this.healthyNow) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak < this.threshold) return false;
    this.healthyNow = ok;
    this.streak = 0;
    return true;
  }
}

/**
 * One PCE's line of `pce-ctl gslb status` (and of the local GSLB's `GET <control>/gslb`): its checks, its
 * switch, and where its clients are sent. `checks` are the Route 53 health checks' states (locally, the
 * local GSLB's); `failed_over` is what the switch items say (null when unknown).
 */
export interface GslbStatusRow {
  readonly fqdn: string;
  readonly region: string;
  readonly buddy: string;
  readonly continents: readonly Continent[];
  readonly checks: PceCheckStates;
  readonly primary_healthy: boolean;
  readonly failed_over: boolean | null;
  /** the PCE this PCE's clients (its continents; the default record's too if it is the default PCE) are answered with */
  readonly clients_sent_to: string;
}

export interface GslbStatus {
  readonly failover: FailoverMode;
  readonly ttl_seconds: number;
  readonly health_check_interval_seconds: number;
  readonly failure_threshold: number;
  readonly default_pce: string;
  readonly pces: readonly GslbStatusRow[];
}

/** The status rows of every PCE, from the checks' states and the switches. */
export function gslbStatus(model: GslbModel, states: (fqdn: string) => PceCheckStates, failedOver: (fqdn: string) => boolean | null): GslbStatus {
  return {
    failover: model.failover,
    ttl_seconds: model.ttlSeconds,
    health_check_interval_seconds: model.healthCheckIntervalSeconds,
    failure_threshold: model.failureThreshold,
    default_pce: model.defaultPce,
    pces: model.pces.map((p) => {
      const checks = states(p.fqdn);
      return {
        fqdn: p.fqdn,
        region: p.region,
        buddy: p.buddy,
        continents: p.continents,
        checks,
        primary_healthy: primaryHealthy(model, checks),
        failed_over: failedOver(p.fqdn),
        clients_sent_to: routeClient(model, p.continents[0] ?? null, states).answer,
      };
    }),
  };
}
