/**
 * The VENs page's model, pure: how the time a VEN's last policy took to arrive reads (docs/vens-api.md:
 * `security_policy_arrival_seconds`, from when its managing PCE had stored the policy version and rules the
 * VEN holds to when the VEN applied them).
 */

/** What the VENs page knows of a VEN's policy sync (GET /orgs/{org}/vens). */
export interface VenPolicySync {
  heartbeat_pce_fqdn: string;
  security_policy_sync_state: string | null;
  security_policy_available_at: string | null;
  security_policy_arrival_seconds: number | null;
}

/** A duration in the unit that reads best: "850 ms", "2.4 s", "3 min 5 s", "2 h 4 min". */
export function duration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms < 1000) return `${ms} ms`;
  const tenths = Math.round(seconds * 10) / 10;
  if (tenths < 60) return `${tenths.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/**
 * The policy arrival cell: the figure when the VEN holds what its PCE computed; otherwise why there is none
 * (still syncing, known only on its managing PCE, or not measurable).
 */
export function arrivalText(ven: VenPolicySync, selfFqdn: string): string {
  if (ven.security_policy_arrival_seconds !== null) return duration(ven.security_policy_arrival_seconds);
  if (ven.heartbeat_pce_fqdn !== selfFqdn) return `on ${ven.heartbeat_pce_fqdn.split('.')[0] ?? ven.heartbeat_pce_fqdn}`;
  if (ven.security_policy_sync_state === 'syncing') return 'syncing';
  return 'n/a';
}
