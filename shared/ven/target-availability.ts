/**
 * Whether a VEN should go to its target PCE now (the heartbeat's `target_available`). A VEN that the
 * GSLB sent to a buddy (failover) is told its target, the PCE it belongs to; it must not go back while
 * that PCE is failed over by an operator (`pce-ctl gslb failover`) or has stopped reporting (its region
 * is down, or cut off from this one), or it would bounce between a dead PCE and the buddy. Read from this
 * region's replica only (the STATUS item each PCE writes every probe interval, and the GSLB switch), and
 * cached: the heartbeat path reads nothing per call.
 */
import type { PceStatusStore } from '../supercluster/health.ts';

export interface PceAvailability {
  /** false: the VEN stays where it is (the target is failed over, or silent) */
  available(pceFqdn: string): Promise<boolean>;
}

/** The GSLB switch as the VEN side reads it: GslbSwitchService.read (shared/supercluster/gslb-switch.ts), which caches its reads itself. */
export interface FailedOverReader {
  failedOver(pceFqdn: string): Promise<boolean>;
}

export interface ReportedAvailabilityDeps {
  readonly selfFqdn: string;
  readonly statuses: Pick<PceStatusStore, 'list'>;
  readonly switches?: FailedOverReader | undefined;
  /** the config's probe_interval_seconds: a PCE writes its STATUS item that often */
  readonly probeIntervalSeconds: number;
  readonly now?: () => number;
  /** @default AVAILABILITY_CACHE_MS */
  readonly cacheMs?: number;
}

/** How long one read of the statuses serves heartbeats (the switch reader keeps its own cache). */
export const AVAILABILITY_CACHE_MS = 5_000;

/** A PCE whose newest STATUS is older than this many probe intervals (at least SILENT_MIN_MS) is silent. */
export const SILENT_AFTER_PROBES = 3;
export const SILENT_MIN_MS = 15_000;

export class ReportedPceAvailability implements PceAvailability {
  private readonly now: () => number;
  private cached: { at: number; writtenAt: Map<string, number> } | null = null;
  private pending: Promise<Map<string, number>> | null = null;

  constructor(private readonly deps: ReportedAvailabilityDeps) {
    this.now = deps.now ?? Date.now;
  }

  async available(pceFqdn: string): Promise<boolean> {
    if (pceFqdn === this.deps.selfFqdn) return true;
    const now = this.now();
    const [writtenAt, failedOver] = await Promise.all([this.reports(now), this.failedOver(pceFqdn)]);
    if (failedOver) return false;
    const last = writtenAt.get(pceFqdn);
    const silentAfter = Math.max(SILENT_MIN_MS, SILENT_AFTER_PROBES * this.deps.probeIntervalSeconds * 1000);
    return last !== undefined && now - last <= silentAfter;
  }

  private async reports(now: number): Promise<Map<string, number>> {
    const ttl = this.deps.cacheMs ?? AVAILABILITY_CACHE_MS;
    if (this.cached && now - this.cached.at < ttl) return this.cached.writtenAt;
    this.pending ??= this.deps.statuses
      .list()
      .then((reports) => {
        const writtenAt = new Map(reports.map((r) => [r.fqdn, r.writtenAt]));
        this.cached = { at: this.now(), writtenAt };
        return writtenAt;
      })
      .finally(() => (this.pending = null));
    return this.pending;
  }

  private async failedOver(pceFqdn: string): Promise<boolean> {
    return this.deps.switches ? this.deps.switches.failedOver(pceFqdn) : false;
  }
}
