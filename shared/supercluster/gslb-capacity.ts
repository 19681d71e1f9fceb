/**
 * Whether failing a PCE over to its buddy would push the buddy past `object_limits.active_agents_per_pce`.
 * The seed ("Object Limits and Supercluster"): VENs that fail over do not count against the buddy's limit,
 * so the failover is never refused, but the buddy then carries both PCEs' VENs: capacity is the
 * operator's concern. `pce-ctl gslb failover` warns, and /api/v2/health names it (`gslb_failover_capacity`).
 *
 * The counts are each PCE's managed VENs as it published them in its status item (STATUS#<region>, every
 * probe interval): readable in every region, one Query for all PCEs.
 */
import type { SuperclusterConfig } from './config.ts';

export const FAILOVER_CAPACITY_TOKEN = 'gslb_failover_capacity';

export interface FailoverCapacity {
  readonly pce_fqdn: string;
  readonly buddy_fqdn: string;
  /** null: the PCE has not published its count */
  readonly pce_vens: number | null;
  readonly buddy_vens: number | null;
  readonly buddy_vens_after_failover: number | null;
  readonly limit: number;
  /** true when both counts are known and their sum is over the limit */
  readonly exceeds_limit: boolean;
}

/** The failover of `pceFqdn` to its buddy, given each PCE's managed-VEN count (by FQDN). */
export function failoverCapacity(config: Pick<SuperclusterConfig, 'pces' | 'object_limits'>, pceFqdn: string, vensOf: (fqdn: string) => number | null): FailoverCapacity {
  const pce = config.pces.find((p) => p.fqdn === pceFqdn);
  if (!pce) throw new Error(`${pceFqdn} is not a PCE of this supercluster`);
  const limit = config.object_limits.active_agents_per_pce;
  const own = vensOf(pce.fqdn);
  const buddy = vensOf(pce.buddy);
  const after = own === null || buddy === null ? null : own + buddy;
  return { pce_fqdn: pce.fqdn, buddy_fqdn: pce.buddy, pce_vens: own, buddy_vens: buddy, buddy_vens_after_failover: after, limit, exceeds_limit: after !== null && after > limit };
}

export function capacityMessage(c: FailoverCapacity): string {
  return `failing ${c.pce_fqdn} over would leave its buddy ${c.buddy_fqdn} with ${c.buddy_vens_after_failover} VENs (${c.pce_vens} + ${c.buddy_vens}), over object_limits.active_agents_per_pce ${c.limit}: failed-over VENs are not refused, the buddy's capacity is the operator's concern`;
}
