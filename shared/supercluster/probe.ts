/**
 * Replication probes. Each PCE periodically writes its STATUS item (with the lags it has measured);
 * each PCE's stream consumer turns a peer's STATUS arriving through replication into a lag reading.
 */
import type { PceConfig } from './config.ts';
import type { PceStatusReport, PceStatusStore, ReplicationLagStore } from './health.ts';
import type { RuntimeStateStore } from './runtime-state.ts';
import type { ListenOnlyStore } from '../ven/ports.ts';

export interface ProbeDeps {
  readonly pce: PceConfig;
  readonly statuses: PceStatusStore;
  readonly lags: ReplicationLagStore;
  readonly runtime: RuntimeStateStore;
  /** this PCE's listen-only mode, published in its status for /health on every PCE */
  readonly listenOnly?: ListenOnlyStore;
  /** how many VENs this PCE manages, published for the failover capacity check on every PCE (shared/supercluster/gslb-capacity.ts) */
  readonly agentCount?: { get(): Promise<number> };
  readonly now: () => number;
}

/** Writes this PCE's probe/status item into the global table; returns what it wrote. */
export async function writeProbe(deps: ProbeDeps): Promise<PceStatusReport> {
  const now = deps.now();
  const state = await deps.runtime.getOrCreate({ startedAt: now, runlevel: 5 });
  const [lags, listenOnly, managedVens] = await Promise.all([deps.lags.list(), deps.listenOnly?.get() ?? null, deps.agentCount ? deps.agentCount.get().catch(() => null) : null]);
  const report: PceStatusReport = { region: deps.pce.region, fqdn: deps.pce.fqdn, writtenAt: deps.now(), startedAt: state.startedAt, runlevel: state.runlevel, lags, listenOnlyEnabledAt: listenOnly?.enabledAt ?? null, managedVens };
  await deps.statuses.put(report);
  return report;
}

/** A peer's status item seen on this region's stream: record how long it took to get here. */
export async function recordProbeArrival(
  deps: { readonly selfRegion: string; readonly lags: ReplicationLagStore; readonly now: () => number },
  probe: { readonly region: string; readonly writtenAt: number },
): Promise<boolean> {
  if (probe.region === deps.selfRegion) return false;
  const receivedAt = deps.now();
  await deps.lags.record({ peerRegion: probe.region, lagMs: Math.max(0, receivedAt - probe.writtenAt), receivedAt, peerWrittenAt: probe.writtenAt });
  return true;
}
