/**
 * The Health page's model, pure: each PCE's row from GET /api/v2/health, GET /api/v2/console/pces (its console
 * link) and the GSLB switches, the badge (how many PCEs are not Normal, and the worst status), and the lag chart's
 * samples from GET /api/v2/supercluster/replication_lag.
 */
export type Status = 'normal' | 'warning' | 'critical';

export interface PceHealth {
  fqdn: string;
  region: string;
  type: 'leader' | 'member' | 'standalone';
  status: Status;
  dropped: boolean;
  available_seconds: number | null;
  listen_only_mode_enabled_at: string | null;
  generated_at: string;
  runlevel: number | null;
  notifications: { token: string; severity: Status; message: string }[];
  network: { replication: { value: { status: Status; lag_seconds: number | null }; details: { peers: { fqdn: string; lag_seconds: number | null; last_received_at: string | null }[]; last_check: { checked_at: string; divergent_items: number; divergent_partitions: string[]; divergent_regions: string[]; by: string } | null } }[] };
}

export interface Reachability {
  fqdn: string;
  region: string;
  console_url: string;
  reachable: boolean;
  node_available_status: number | null;
  error: string | null;
}

export interface Switch {
  pce_fqdn: string;
  failed_over: boolean;
}

export interface PceRow {
  health: PceHealth;
  reach: Reachability | undefined;
  gslb: Switch | null;
  status: Status;
  reasons: string[];
  dlq: number | null;
}

const worse = (a: Status, b: Status): Status => (a === 'critical' || b === 'critical' ? 'critical' : a === 'warning' || b === 'warning' ? 'warning' : 'normal');

/**
 * Each PCE's row: its status and reasons are /health's (a PCE that stopped reporting and whose endpoint does not
 * answer is Critical there, `pce_down`); the reachability only gives its console link.
 */
export function rowsOf(health: PceHealth[], reach: Reachability[], switches: (Switch | null)[], selfFqdn: string): PceRow[] {
  return health.map((h, i) => {
    const dlqNote = h.notifications.find((n) => n.token === 'compute_dead_letters');
    // a PCE knows its own dead-letter queue only
    const dlq = dlqNote ? Number(/^(\d+)/.exec(dlqNote.message)?.[1] ?? 0) : h.fqdn === selfFqdn ? 0 : null;
    return { health: h, reach: reach.find((x) => x.fqdn === h.fqdn), gslb: switches[i] ?? null, status: h.status, reasons: h.notifications.map((n) => n.message), dlq };
  });
}

export const notNormal = (rows: PceRow[]): { count: number; worst: Status } => ({
  count: rows.filter((r) => r.status !== 'normal').length,
  worst: rows.reduce<Status>((w, r) => worse(w, r.status), 'normal'),
});


/** GET /api/v2/supercluster/replication_lag: the samples the serving PCE kept. */
export interface LagHistory {
  pce_fqdn: string;
  since: string;
  interval_seconds: number;
  retention_seconds: number;
  samples: { at: string; lags: { pce_fqdn: string; peer_fqdn: string; lag_seconds: number | null }[] }[];
}

/** One point in time of the chart: each directed pair ("peer → pce", short names) and its lag in seconds. */
export interface LagPoint {
  t: number;
  lags: Record<string, number | null>;
}

export const HOUR_MS = 3_600_000;

/** A PCE's first DNS label (pce-us.example.com: pce-us). */
export const short = (fqdn: string): string => fqdn.split('.')[0] ?? fqdn;

/** The chart's points: those known, then the new samples (after the last known), none older than an hour before `now`. */
export function mergeLagHistory(known: readonly LagPoint[], answer: LagHistory, now: number): LagPoint[] {
  const last = known.at(-1)?.t ?? -Infinity;
  const fresh = answer.samples
    .map((s): LagPoint => ({ t: Date.parse(s.at), lags: Object.fromEntries(s.lags.map((l) => [`${short(l.peer_fqdn)} → ${short(l.pce_fqdn)}`, l.lag_seconds])) }))
    .filter((p) => p.t > last);
  return [...known, ...fresh].filter((p) => p.t > now - HOUR_MS);
}

/** The `since` to ask for: just after the newest point known, else an hour back. */
export function lagSince(known: readonly LagPoint[], now: number): string {
  const last = known.at(-1)?.t;
  return new Date(last === undefined ? now - HOUR_MS : last + 1).toISOString();
}
