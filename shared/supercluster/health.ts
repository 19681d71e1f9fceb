/**
 * Supercluster health, by the seed's rules ("PCE Health Status"): a PCE is normal when it is reachable
 * and database replication lag is <= 30 s; warning when lag > 30 s or it is unreachable; critical when
 * a required service is missing (here: the PCE never reported, or it reports runlevel below 5).
 *
 * Lag comes from replication probes: every PCE writes its STATUS item into the global table every
 * probe interval; every PCE's stream consumer records, per peer, how long the peer's last probe took
 * to arrive. A PCE's lag is the worst of its peers' lags into it; a peer silent for longer than the
 * probe interval counts as lag too, so a partition shows as growing lag.
 *
 * A PCE whose last report is older than PCE_SILENT_PROBES probe intervals is probed (its node_available, as
 * Route 53 checks it): when its endpoint does not answer 202 either, it has failed or is down, and /health says
 * Critical (`pce_down`, the seed's red badge) at once. A silent PCE whose endpoint still answers is partitioned
 * from the others' replicas: a Warning (`pce_unreachable`) once its silence passes an interval plus 30 s.
 *
 * A PCE dropped from the supercluster (`pce-ctl supercluster-drop`) no longer counts: its peers leave it out
 * of their replication status (it is listed, marked dropped). A member whose leader has been silent for
 * LEADER_UNREACHABLE_PROBES probe intervals says so (advisory: the member serves its VENs as before).
 */
import type { PceConfig, SuperclusterConfig } from './config.ts';
import { capacityMessage, FAILOVER_CAPACITY_TOKEN, failoverCapacity } from './gslb-capacity.ts';
import type { LeaderRecord } from './leader.ts';
import type { ReplicationCheckResult } from './replication-check.ts';

export const LAG_WARNING_SECONDS = 30;
export const NORMAL_RUNLEVEL = 5;
/** probe intervals of silence after which a member reports its leader unreachable */
export const LEADER_UNREACHABLE_PROBES = 3;
/**
 * Probe intervals without a status from a PCE after which its endpoint is probed: it writes one every interval,
 * so two intervals of silence mean at least one missed report (in AWS, also the gap of up to ~20 s between two scheduled
 * invocations: the probe then answers and nothing changes).
 */
export const PCE_SILENT_PROBES = 2;

/** What one PCE measured of one peer's replication into it. */
export interface PeerLag {
  readonly peerRegion: string;
  readonly lagMs: number;
  /** when the peer's probe arrived here */
  readonly receivedAt: number;
}

/** The STATUS item each PCE writes into the global table (one writer: that PCE). */
export interface PceStatusReport {
  readonly region: string;
  readonly fqdn: string;
  readonly writtenAt: number;
  readonly startedAt: number;
  readonly runlevel: number;
  readonly lags: readonly PeerLag[];
  /** when listen-only mode was enabled on that PCE (null: off) */
  readonly listenOnlyEnabledAt?: number | null;
  /** the VENs that PCE manages (its agent count; null/absent: not published) */
  readonly managedVens?: number | null;
}

export interface PceStatusStore {
  put(report: PceStatusReport): Promise<void>;
  list(): Promise<PceStatusReport[]>;
}

export interface ReplicationLagStore {
  /** Records a probe arrival; keeps the newest when probes arrive out of order. */
  record(lag: PeerLag & { readonly peerWrittenAt: number }): Promise<void>;
  list(): Promise<PeerLag[]>;
}

export type HealthStatus = 'normal' | 'warning' | 'critical';

/** The last replication data check (pce-ctl supercluster-replication-check), in the replication section. */
export interface ReplicationCheckView {
  readonly checked_at: string;
  readonly divergent_partitions: readonly string[];
  readonly divergent_items: number;
  readonly divergent_regions: readonly string[];
  readonly repaired_items: number;
  readonly by: string;
}

export const REPLICATION_DIVERGENCE_TOKEN = 'replication_divergence';
/** A PCE silent for PCE_SILENT_PROBES intervals whose endpoint does not answer either: Critical. */
export const PCE_DOWN_TOKEN = 'pce_down';

export interface PeerReplication {
  readonly fqdn: string;
  readonly region: string;
  readonly lag_seconds: number | null;
  readonly last_received_at: string | null;
}

export interface PceHealth {
  readonly fqdn: string;
  readonly region: string;
  readonly type: 'leader' | 'member' | 'standalone';
  readonly status: HealthStatus;
  /** dropped from the supercluster (pce-ctl supercluster-drop) until supercluster-rejoin */
  readonly dropped: boolean;
  readonly available_seconds: number | null;
  readonly listen_only_mode_enabled_at: string | null;
  readonly generated_at: string;
  readonly runlevel: number | null;
  readonly notifications: { token: string; severity: HealthStatus; message: string }[];
  readonly network: {
    replication: {
      type: 'database_replication';
      value: { status: HealthStatus; lag_seconds: number | null };
      details: { peers: PeerReplication[]; last_check: ReplicationCheckView | null };
    }[];
  };
  readonly nodes: unknown[];
}

/** Effective lag of one peer link: the measured lag, or the silence since the last probe beyond one interval. */
export function effectiveLagMs(lag: PeerLag | undefined, asOf: number, intervalMs: number): number | null {
  if (!lag) return null;
  return Math.max(lag.lagMs, asOf - lag.receivedAt - intervalMs);
}

const worse = (a: HealthStatus, b: HealthStatus): HealthStatus => (a === 'critical' || b === 'critical' ? 'critical' : a === 'warning' || b === 'warning' ? 'warning' : 'normal');

export interface HealthInput {
  readonly config: SuperclusterConfig;
  readonly leader: LeaderRecord | null;
  readonly reports: readonly PceStatusReport[];
  /** FQDNs of the PCEs dropped from the supercluster, as this PCE's replica holds the drop marks */
  readonly dropped?: readonly string[];
  /** the PCE answering the request, whose own readings are fresher than its last report */
  readonly self: { readonly region: string; readonly startedAt: number; readonly runlevel: number; readonly lags: readonly PeerLag[]; readonly deadLetters?: number | null; readonly listenOnlyEnabledAt?: number | null };
  /** the newest replication check result (null: never checked) */
  readonly lastReplicationCheck?: ReplicationCheckResult | null;
  /**
   * PCEs (by FQDN) whose endpoint did not answer node_available 202 when probed for this answer (see pcesToProbe),
   * with what the probe found; counted only while the PCE's last report is older than PCE_SILENT_PROBES intervals.
   */
  readonly unanswered?: ReadonlyMap<string, string>;
  readonly now: number;
}

/** What the replication figures of /health are computed from. */
export type LagInput = Pick<HealthInput, 'config' | 'reports' | 'now'> & { readonly self: Pick<HealthInput['self'], 'region' | 'lags'> };

/**
 * The links into `pce` as /health reports them: each peer's lag into it, from the answering PCE's fresh readings
 * (itself) or from `pce`'s last report (as of when it wrote it). The same figures feed the lag history (lag-history.ts).
 */
export function peerReplication(input: LagInput, pce: PceConfig): PeerReplication[] {
  const { config, now } = input;
  const intervalMs = config.probe_interval_seconds * 1000;
  const isSelf = pce.region === input.self.region;
  const report = input.reports.find((r) => r.region === pce.region);
  const lags = isSelf ? input.self.lags : (report?.lags ?? []);
  const asOf = isSelf ? now : (report?.writtenAt ?? now);
  return config.pces
    .filter((peer) => peer.region !== pce.region)
    .map((peer) => {
      const lag = lags.find((l) => l.peerRegion === peer.region);
      const ms = effectiveLagMs(lag, asOf, intervalMs);
      return {
        fqdn: peer.fqdn,
        region: peer.region,
        lag_seconds: ms === null ? null : Math.round(ms / 100) / 10,
        last_received_at: lag ? new Date(lag.receivedAt).toISOString() : null,
      };
    });
}

/** The other PCEs to probe before computing health: not dropped, and silent for more than PCE_SILENT_PROBES intervals. */
export function pcesToProbe(input: Pick<HealthInput, 'config' | 'reports' | 'dropped' | 'now'> & { readonly self: Pick<HealthInput['self'], 'region'> }): PceConfig[] {
  const intervalMs = input.config.probe_interval_seconds * 1000;
  const dropped = new Set(input.dropped ?? []);
  return input.config.pces.filter((pce) => {
    if (pce.region === input.self.region || dropped.has(pce.fqdn)) return false;
    const report = input.reports.find((r) => r.region === pce.region);
    return report !== undefined && silentLongEnoughToProbe(report, input.now, intervalMs);
  });
}

/** Whether `report` is older than PCE_SILENT_PROBES probe intervals: its PCE is probed, and Critical if that fails. */
function silentLongEnoughToProbe(report: Pick<PceStatusReport, 'writtenAt'>, now: number, intervalMs: number): boolean {
  return now - report.writtenAt > PCE_SILENT_PROBES * intervalMs;
}

function checkView(check: ReplicationCheckResult): ReplicationCheckView {
  return {
    checked_at: new Date(check.checkedAt).toISOString(),
    divergent_partitions: check.divergentPartitions,
    divergent_items: check.divergentItems,
    divergent_regions: check.divergentRegions,
    repaired_items: check.repairedItems,
    by: check.by,
  };
}

export function computeHealth(input: HealthInput): PceHealth[] {
  const { config, now } = input;
  const intervalMs = config.probe_interval_seconds * 1000;
  const byRegion = new Map(input.reports.map((r) => [r.region, r]));
  const dropped = new Set(input.dropped ?? []);
  return config.pces.map((pce): PceHealth => {
    const isSelf = pce.region === input.self.region;
    const isDropped = dropped.has(pce.fqdn);
    const report = byRegion.get(pce.region);
    const notifications: PceHealth['notifications'] = [];
    let status: HealthStatus = 'normal';

    const peers = peerReplication(input, pce);
    const counted = peers.filter((p) => !dropped.has(p.fqdn));
    const known = counted.map((p) => p.lag_seconds).filter((s): s is number => s !== null);
    const lagSeconds = known.length > 0 ? Math.max(...known) : null;
    let replicationStatus: HealthStatus = 'normal';
    if (lagSeconds !== null && lagSeconds > LAG_WARNING_SECONDS) {
      replicationStatus = 'warning';
      notifications.push({ token: 'replication_lag', severity: 'warning', message: `database replication lag is ${lagSeconds} s (> ${LAG_WARNING_SECONDS} s)` });
    }
    const silent = counted.filter((p) => p.lag_seconds === null).map((p) => p.fqdn);
    if (silent.length > 0 && (isSelf || report)) {
      replicationStatus = worse(replicationStatus, 'warning');
      notifications.push({ token: 'replication_not_measured', severity: 'warning', message: `no replication probe received yet from ${silent.join(', ')}` });
    }
    status = worse(status, replicationStatus);

    const runlevel = isSelf ? input.self.runlevel : (report?.runlevel ?? null);
    if (isDropped) {
      notifications.push({ token: 'pce_dropped', severity: 'critical', message: `${pce.fqdn} is dropped from the supercluster (pce-ctl supercluster-rejoin ${pce.fqdn} brings it back as a member)` });
    } else if (!isSelf) {
      if (!report) {
        status = 'critical';
        notifications.push({ token: 'pce_not_reporting', severity: 'critical', message: `${pce.fqdn} has never reported its status` });
      } else if (silentLongEnoughToProbe(report, now, intervalMs) && input.unanswered?.has(pce.fqdn)) {
        // silent AND its endpoint does not answer: it has failed or is down (the seed's red badge), not merely partitioned
        status = 'critical';
        notifications.push({
          token: PCE_DOWN_TOKEN,
          severity: 'critical',
          message: `${pce.fqdn} has failed or is down: no status from it for ${Math.round((now - report.writtenAt) / 1000)} s and its endpoint does not answer node_available (${input.unanswered.get(pce.fqdn) ?? 'no answer'})`,
        });
      } else if (now - report.writtenAt > intervalMs + LAG_WARNING_SECONDS * 1000) {
        status = worse(status, 'warning');
        notifications.push({
          token: 'pce_unreachable',
          severity: 'warning',
          message: `no status from ${pce.fqdn} for ${Math.round((now - report.writtenAt) / 1000)} s (unreachable or partitioned)`,
        });
      }
    }
    const deadLetters = isSelf ? (input.self.deadLetters ?? 0) : 0;
    if (deadLetters > 0) {
      status = worse(status, 'warning');
      notifications.push({ token: 'compute_dead_letters', severity: 'warning', message: `${deadLetters} policy compute job(s) wait in the dead-letter queue (failed repeatedly, or not a valid job)` });
    }
    if (runlevel !== null && runlevel < NORMAL_RUNLEVEL) {
      status = 'critical';
      notifications.push({ token: 'runlevel', severity: 'critical', message: `${pce.fqdn} is at runlevel ${runlevel}` });
    }

    // advisory, like the capacity note: a member serves its VENs without its leader
    const leaderRegion = input.leader?.leaderRegion;
    if (isSelf && leaderRegion !== undefined && leaderRegion !== pce.region) {
      const leaderReport = byRegion.get(leaderRegion);
      const silentMs = leaderReport ? now - leaderReport.writtenAt : null;
      if (silentMs === null || silentMs > LEADER_UNREACHABLE_PROBES * intervalMs) {
        notifications.push({
          token: 'leader_unreachable',
          severity: 'warning',
          message: `the leader ${input.leader?.leaderFqdn ?? leaderRegion} has ${silentMs === null ? 'never reported its status' : `sent no status for ${Math.round(silentMs / 1000)} s`}: policy writes wait for it (or for a new leader: pce-ctl supercluster-drop, supercluster-assign-leader); this PCE serves its VENs as before`,
        });
      }
    }

    // advisory too: a divergence found by the last replication check is named on the PCEs whose replica differs
    const check = input.lastReplicationCheck ?? null;
    if (check && check.divergentItems > 0 && (check.divergentRegions.length === 0 || check.divergentRegions.includes(pce.region))) {
      notifications.push({
        token: REPLICATION_DIVERGENCE_TOKEN,
        severity: 'warning',
        message: `the replication check of ${new Date(check.checkedAt).toISOString()} found ${check.divergentItems} item(s) in ${check.divergentPartitions.join(', ')} that differ from their writer region's copy: run \`pce-ctl supercluster-replication-check --detailed --repair\``,
      });
    }

    // advisory: the status stays as it is (a failover is never refused for capacity; the seed leaves it to the operator)
    const capacity = failoverCapacity(config, pce.fqdn, (fqdn) => {
      const region = config.pces.find((p) => p.fqdn === fqdn)?.region;
      return (region === undefined ? undefined : byRegion.get(region)?.managedVens) ?? null;
    });
    if (capacity.exceeds_limit) notifications.push({ token: FAILOVER_CAPACITY_TOKEN, severity: 'warning', message: capacityMessage(capacity) });

    const startedAt = isSelf ? input.self.startedAt : report?.startedAt;
    const listenOnlyAt = isSelf ? (input.self.listenOnlyEnabledAt ?? null) : (report?.listenOnlyEnabledAt ?? null);
    return {
      fqdn: pce.fqdn,
      region: pce.region,
      type: input.leader?.leaderRegion === pce.region ? 'leader' : 'member',
      status: isDropped ? 'critical' : status,
      dropped: isDropped,
      available_seconds: startedAt === undefined ? null : Math.max(0, Math.floor((now - startedAt) / 1000)),
      listen_only_mode_enabled_at: listenOnlyAt === null ? null : new Date(listenOnlyAt).toISOString(),
      generated_at: new Date(now).toISOString(),
      runlevel,
      notifications,
      network: { replication: [{ type: 'database_replication', value: { status: replicationStatus, lag_seconds: lagSeconds }, details: { peers, last_check: check ? checkView(check) : null } }] },
      nodes: [],
    };
  });
}
