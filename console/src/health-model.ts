/**
 * The Health page's model, pure: each PCE's row from GET /api/v2/health, GET /api/v2/console/pces and the GSLB
 * switches, and the badge (how many PCEs are not Normal, and the worst status).
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

/** A PCE whose endpoint does not answer is down (Critical: "one of the PCEs has failed or is down"). */
export function rowsOf(health: PceHealth[], reach: Reachability[], switches: (Switch | null)[], selfFqdn: string): PceRow[] {
  return health.map((h, i) => {
    const r = reach.find((x) => x.fqdn === h.fqdn);
    const down = r !== undefined && !r.reachable;
    const reasons = [...(down ? [`endpoint not answering (${r.error ?? 'no answer'})`] : []), ...h.notifications.map((n) => n.message)];
    const dlqNote = h.notifications.find((n) => n.token === 'compute_dead_letters');
    // a PCE knows its own dead-letter queue only
    const dlq = dlqNote ? Number(/^(\d+)/.exec(dlqNote.message)?.[1] ?? 0) : h.fqdn === selfFqdn ? 0 : null;
    return { health: h, reach: r, gslb: switches[i] ?? null, status: down ? 'critical' : worse(h.status, 'normal'), reasons, dlq };
  });
}

export const notNormal = (rows: PceRow[]): { count: number; worst: Status } => ({
  count: rows.filter((r) => r.status !== 'normal').length,
  worst: rows.reduce<Status>((w, r) => worse(w, r.status), 'normal'),
});

