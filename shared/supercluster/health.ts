/**
 * Supercluster health, by the seed's rules ("PCE Health Status"): a PCE is normal when it is reachable
 * and database replication lag is <= 30 s; warning when lag > 30 s or it is unreachable; critical when
 * a required service is missing (here: the PCE never reported, or it reports runlevel below 5).
 *
 * Lag comes from replication probes: every PCE writes its STATUS item into the global table every
 * probe interval; every PCE's stream consumer records, per peer, how long the peer's last probe took
 * to arrive. A PCE's lag is the worst of its peers' lags into it; a peer silent for longer than the
 * probe interval counts as lag too, so a partition shows as growing lag.
 */
import type { SuperclusterConfig } from './config.ts';
import { capacityMessage, FAILOVER_CAPACITY_TOKEN, failoverCapacity } from './gslb-capacity.ts';
import type { LeaderRecord } from './leader.ts';

export const LAG_WARNING_SECONDS = 30;
export const NORMAL_RUNLEVEL = 5;

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
  readonly available_seconds: number | null;
  readonly listen_only_mode_enabled_at: string | null;
  readonly generated_at: string;
  readonly runlevel: number | null;
  readonly notifications: { token: string; severity: HealthStatus; message: string }[];
  readonly network: {
    replication: {
      type: 'database_replication';
      value: { status: HealthStatus; lag_seconds: number | null };
      details: { peers: PeerReplication[] };
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
  /** the PCE answering the request, whose own readings are fresher than its last report */
  readonly self: { readonly region: string; readonly startedAt: number; readonly runlevel: number; readonly lags: readonly PeerLag[]; readonly deadLetters?: number | null; readonly listenOnlyEnabledAt?: number | null };
  readonly now: number;
}

export function computeHealth(input: HealthInput): PceHealth[] {
  const { config, now } = input;
  const intervalMs = config.probe_interval_seconds * 1000;
  const byRegion = new Map(input.reports.map((r) => [r.region, r]));
  return config.pces.map((pce): PceHealth => {
    const isSelf = pce.region === input.self.region;
    const report = byRegion.get(pce.region);
    const notifications: PceHealth['notifications'] = [];
    let status: HealthStatus = 'normal';

    const lags = isSelf ? input.self.lags : (report?.lags ?? []);
    const asOf = isSelf ? now : (report?.writtenAt ?? now);
    const peers: PeerReplication[] = config.pces
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
    const known = peers.map((p) => p.lag_seconds).filter((s): s is number => s !== null);
    const lagSeconds = known.length > 0 ? Math.max(...known) : null;
    let replicationStatus: HealthStatus = 'normal';
    if (lagSeconds !== null && lagSeconds > LAG_WARNING_SECONDS) {
      replicationStatus = 'warning';
      notifications.push({ token: 'replication_lag', severity: 'warning', message: `database replication lag is ${lagSeconds} s (> ${LAG_WARNING_SECONDS} s)` });
    }
    const silent = peers.filter((p) => p.lag_seconds === null).map((p) => p.fqdn);
    if (silent.length > 0 && (isSelf || report)) {
      replicationStatus = worse(replicationStatus, 'warning');
      notifications.push({ token: 'replication_not_measured', severity: 'warning', message: `no replication probe received yet from ${silent.join(', ')}` });
    }
    status = worse(status, replicationStatus);

    const runlevel = isSelf ? input.self.runlevel : (report?.runlevel ?? null);
    if (!isSelf) {
      if (!report) {
        status = 'critical';
        notifications.push({ token: 'pce_not_reporting', severity: 'critical', message: `${pce.fqdn} has never reported its status` });
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
      status,
      available_seconds: startedAt === undefined ? null : Math.max(0, Math.floor((now - startedAt) / 1000)),
      listen_only_mode_enabled_at: listenOnlyAt === null ? null : new Date(listenOnlyAt).toISOString(),
      generated_at: new Date(now).toISOString(),
      runlevel,
      notifications,
      network: { replication: [{ type: 'database_replication', value: { status: replicationStatus, lag_seconds: lagSeconds }, details: { peers } }] },
      nodes: [],
    };
  });
}
