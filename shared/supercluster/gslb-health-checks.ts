/**
 * The Route 53 health checks of the GSLB model (shared/supercluster/gslb.ts), described once: the CDK construct
 * (infra/cdk/constructs/gslb-records.ts) creates exactly these, and `pce-ctl gslb status` finds them again with
 * read-only Route 53 calls (ListHealthChecks, ListTagsForResources, GetHealthCheckStatus) by their tag
 * `pce-gslb` = `gslbHealthCheckTag(kind, pceFqdn)` (docs/adr/0011-gslb-failover.md):
 *
 *   node:<X>                  HTTPS <X>/api/v2/node_available
 *   leader:<X>                HTTPS <X>/api/v2/supercluster/leader (202 leader, 404 member)
 *   switch-via:<R>:<X>        HTTPS <R>/api/v2/gslb/switches/<X>, one per other PCE R (200: X not failed over)
 *   switch:<X>                CALCULATED: healthy while at least 1 of X's switch-via checks is
 *   primary:<X>               CALCULATED: manual mode switch:<X> (threshold 1); automatic node:<X> + switch:<X> (threshold 2)
 *
 * FQDNs hold no ':', so the tag splits on it. Route 53's GetHealthCheckStatus does not answer for calculated
 * checks: a reader takes the endpoint checks' states and derives switch and primary with `pceCheckStatesFrom`
 * and `primaryHealthy` (the same rule the calculated checks apply).
 */
import { LEADER_PATH, NODE_AVAILABLE_PATH, switchPath, type GslbModel, type PceCheckStates } from './gslb.ts';

/** The tag key that marks a GSLB health check; its value is `gslbHealthCheckTag(kind, pceFqdn)`. */
export const GSLB_HEALTH_CHECK_TAG_KEY = 'pce-gslb';
/** Health checks probe the regional API custom domains. */
export const GSLB_HEALTH_CHECK_PORT = 443;

/** `switch-via:<R fqdn>` is the switch of a PCE as PCE R serves it. */
export type GslbHealthCheckKind = 'node' | 'leader' | 'switch' | 'primary' | `switch-via:${string}`;

export type GslbHealthCheckRef =
  | { readonly kind: 'node' | 'leader' | 'switch' | 'primary'; readonly pce: string }
  | { readonly kind: 'switch-via'; readonly pce: string; readonly via: string };

export const switchViaKind = (viaFqdn: string): GslbHealthCheckKind => `switch-via:${viaFqdn}`;

/** The `pce-gslb` tag value of the check of `kind` about PCE `pceFqdn` (unique in a supercluster). */
export function gslbHealthCheckTag(kind: GslbHealthCheckKind, pceFqdn: string): string {
  return `${kind}:${pceFqdn}`;
}

/** The check a `pce-gslb` tag value names; null when it is not one `gslbHealthCheckTag` writes. */
export function parseGslbHealthCheckTag(value: string): GslbHealthCheckRef | null {
  const parts = value.split(':');
  const nonEmpty = parts.every((part) => part.length > 0);
  if (!nonEmpty) return null;
  const [kind, a, b] = parts;
  if (parts.length === 2 && a !== undefined && (kind === 'node' || kind === 'leader' || kind === 'switch' || kind === 'primary')) return { kind, pce: a };
  if (parts.length === 3 && kind === 'switch-via' && a !== undefined && b !== undefined) return { kind: 'switch-via', via: a, pce: b };
  return null;
}

function tagOf(ref: GslbHealthCheckRef): string {
  return gslbHealthCheckTag(ref.kind === 'switch-via' ? switchViaKind(ref.via) : ref.kind, ref.pce);
}

interface CheckBase {
  readonly ref: GslbHealthCheckRef;
  /** the `pce-gslb` tag value */
  readonly tag: string;
  /** the `Name` tag (what the Route 53 console lists) */
  readonly name: string;
}

/** An HTTPS check of `fqdn` (SNI on) on `resourcePath`: healthy on 2xx/3xx. */
export interface GslbEndpointCheck extends CheckBase {
  readonly type: 'endpoint';
  readonly fqdn: string;
  readonly port: number;
  readonly resourcePath: string;
  readonly requestIntervalSeconds: number;
  readonly failureThreshold: number;
}

/** Healthy while at least `healthThreshold` of `children` (tags of other checks) are. */
export interface GslbCalculatedCheck extends CheckBase {
  readonly type: 'calculated';
  readonly children: readonly string[];
  readonly healthThreshold: number;
}

export type GslbHealthCheck = GslbEndpointCheck | GslbCalculatedCheck;

/** Every health check of the model, children before the checks that combine them. */
export function gslbHealthChecks(model: GslbModel): GslbHealthCheck[] {
  const endpoint = (ref: GslbHealthCheckRef, fqdn: string, resourcePath: string): GslbEndpointCheck => ({
    type: 'endpoint',
    ref,
    tag: tagOf(ref),
    name: `${fqdn}${resourcePath}`,
    fqdn,
    port: GSLB_HEALTH_CHECK_PORT,
    resourcePath,
    requestIntervalSeconds: model.healthCheckIntervalSeconds,
    failureThreshold: model.failureThreshold,
  });
  const calculated = (ref: GslbHealthCheckRef, name: string, children: readonly string[], healthThreshold: number): GslbCalculatedCheck => ({
    type: 'calculated',
    ref,
    tag: tagOf(ref),
    name,
    children,
    healthThreshold,
  });
  return model.pces.flatMap((pce) => {
    const node = endpoint({ kind: 'node', pce: pce.fqdn }, pce.fqdn, NODE_AVAILABLE_PATH);
    const leader = endpoint({ kind: 'leader', pce: pce.fqdn }, pce.fqdn, LEADER_PATH);
    const vias = model.pces.filter((other) => other.fqdn !== pce.fqdn).map((other) => endpoint({ kind: 'switch-via', pce: pce.fqdn, via: other.fqdn }, other.fqdn, switchPath(pce.fqdn)));
    const sw = calculated({ kind: 'switch', pce: pce.fqdn }, `switch of ${pce.fqdn} (not failed over while any other PCE says so)`, vias.map((v) => v.tag), 1);
    const primary =
      model.failover === 'manual'
        ? calculated({ kind: 'primary', pce: pce.fqdn }, `primary of ${pce.fqdn} (manual: the switch)`, [sw.tag], 1)
        : calculated({ kind: 'primary', pce: pce.fqdn }, `primary of ${pce.fqdn} (automatic: node_available and the switch)`, [node.tag, sw.tag], 2);
    return [node, leader, ...vias, sw, primary];
  });
}

/**
 * Route 53 calls an endpoint healthy when more than 18 % of its health checkers report success: the rule to apply
 * to GetHealthCheckStatus's observations (each `StatusReport.Status` starts with "Success" or "Failure").
 */
export function endpointHealthyFromObservations(statuses: readonly string[]): boolean {
  if (statuses.length === 0) return true; // a new check without data counts as healthy
  const successes = statuses.filter((status) => status.startsWith('Success')).length;
  return successes / statuses.length > 0.18;
}

/**
 * The check states of every PCE from its endpoint checks (`healthy(tag)`; undefined = unknown, taken as healthy, as
 * Route 53 does for a check without data): switch = any switch-via check healthy, as the calculated check decides.
 */
export function pceCheckStatesFrom(model: GslbModel, healthy: (tag: string) => boolean | undefined): (fqdn: string) => PceCheckStates {
  const read = (tag: string): boolean => healthy(tag) ?? true;
  return (fqdn) => {
    const vias = model.pces.filter((p) => p.fqdn !== fqdn).map((p) => gslbHealthCheckTag(switchViaKind(p.fqdn), fqdn));
    return {
      node: read(gslbHealthCheckTag('node', fqdn)),
      leader: read(gslbHealthCheckTag('leader', fqdn)),
      switch: vias.some(read),
    };
  };
}
