/** Supercluster queries the API answers on every PCE: leadership, availability, health, lag history, the leader lease. */
import type { PceConfig, SuperclusterConfig } from './config.ts';
import { computeHealth, NORMAL_RUNLEVEL, pcesToProbe, type PceHealth, type PceStatusStore, type ReplicationLagStore } from './health.ts';
import { lagHistoryJson, windowStart, type LagHistoryJson, type LagHistoryStore } from './lag-history.ts';
import type { LeaderView } from './leader.ts';
import { leaseState, LeaseUnavailableError, type LeaseStateJson, type LeaseStore, type LeaseTimings } from './lease.ts';
import { droppedPces, type PceDropStore } from './membership.ts';
import { latestCheck, type ReplicationCheckStore } from './replication-check.ts';
import type { RuntimeStateStore } from './runtime-state.ts';
import type { ListenOnlyStore } from '../ven/ports.ts';

export interface SuperclusterServiceDeps {
  readonly config: SuperclusterConfig;
  readonly pce: PceConfig;
  readonly leader: LeaderView;
  readonly statuses: PceStatusStore;
  readonly lags: ReplicationLagStore;
  readonly runtime: RuntimeStateStore;
  /** messages in this PCE's compute dead-letter queue (null when unknown) */
  readonly deadLetters?: () => Promise<number | null>;
  /** this PCE's listen-only mode (its own reading is fresher than its last status item) */
  readonly listenOnly?: ListenOnlyStore;
  /** the replication checks' results (pce-ctl supercluster-replication-check), shown in the replication section */
  readonly replicationChecks?: ReplicationCheckStore;
  /** the drop marks (this region's replica): dropped PCEs are shown as such and leave the replication status */
  readonly drops?: PceDropStore;
  /**
   * Whether another PCE's endpoint answers node_available 202 (live, as Route 53 checks it; `error` says what it
   * found otherwise): asked only of PCEs silent for PCE_SILENT_PROBES intervals, so /health can call a stopped PCE
   * Critical at once. Absent: silence alone never makes a PCE Critical.
   */
  readonly nodeAvailable?: (pce: PceConfig) => Promise<{ readonly reachable: boolean; readonly error: string | null }>;
  /** this PCE's replication lag samples (its local table) */
  readonly lagHistory?: LagHistoryStore;
  /** the leader lease authority (read only here) and the lease's timings */
  readonly lease?: { readonly store: Pick<LeaseStore, 'get'>; readonly timings: LeaseTimings };
  readonly now?: () => number;
}

export class SuperclusterService {
  private readonly now: () => number;

  constructor(private readonly deps: SuperclusterServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  isLeader(): Promise<boolean> {
    return this.deps.leader.isLeader();
  }

  async clusterType(): Promise<'leader' | 'member'> {
    return (await this.isLeader()) ? 'leader' : 'member';
  }

  /** True when this PCE can serve: both tables answer and it is at runlevel 5. Never throws. */
  async nodeAvailable(): Promise<boolean> {
    try {
      const [state, leader] = await Promise.all([this.deps.runtime.getOrCreate({ startedAt: this.now(), runlevel: NORMAL_RUNLEVEL }), this.deps.leader.current()]);
      return state.runlevel >= NORMAL_RUNLEVEL && leader !== null;
    } catch {
      return false;
    }
  }

  async health(): Promise<PceHealth[]> {
    const now = this.now();
    const drops = this.deps.drops ? this.deps.drops.list().catch(() => []) : Promise.resolve([]);
    const checks = this.deps.replicationChecks ? this.deps.replicationChecks.list().catch(() => []) : Promise.resolve([]);
    const [leader, reports, lags, state, deadLetters, listenOnly] = await Promise.all([
      this.deps.leader.current(),
      this.deps.statuses.list(),
      this.deps.lags.list(),
      this.deps.runtime.getOrCreate({ startedAt: now, runlevel: NORMAL_RUNLEVEL }),
      this.deps.deadLetters ? this.deps.deadLetters().catch(() => null) : Promise.resolve(null),
      this.deps.listenOnly ? this.deps.listenOnly.get().catch(() => null) : Promise.resolve(null),
    ]);
    const dropped = droppedPces(await drops);
    const self = { region: this.deps.pce.region, startedAt: state.startedAt, runlevel: state.runlevel, lags, deadLetters, listenOnlyEnabledAt: listenOnly?.enabledAt ?? null };
    return computeHealth({
      config: this.deps.config,
      leader,
      reports,
      dropped,
      self,
      lastReplicationCheck: latestCheck(await checks),
      unanswered: await this.unanswered(pcesToProbe({ config: this.deps.config, reports, dropped, self, now })),
      now,
    });
  }

  /** The silent PCEs whose endpoint does not answer node_available 202 either, with what the probe found. */
  private async unanswered(silent: readonly PceConfig[]): Promise<Map<string, string>> {
    const probe = this.deps.nodeAvailable;
    if (!probe || silent.length === 0) return new Map();
    // a probe that fails in itself proves nothing about the PCE: it is left out (its silence stays a Warning)
    const outcomes = await Promise.all(silent.map(async (pce) => [pce.fqdn, await probe(pce).catch(() => null)] as const));
    return new Map(outcomes.flatMap(([fqdn, o]) => (o === null || o.reachable ? [] : [[fqdn, o.error ?? 'no answer'] as const])));
  }

  /** This PCE's replication lag samples from `since` (ms; undefined: the last hour). Throws InvalidSinceError for a future `since`. */
  async lagHistory(since: number | undefined): Promise<LagHistoryJson> {
    const from = windowStart(since, this.now());
    const samples = this.deps.lagHistory ? await this.deps.lagHistory.since(from) : [];
    return lagHistoryJson(this.deps.config, this.deps.pce.fqdn, from, samples);
  }

  /** The leader lease as the lease authority holds it (a strongly consistent read). Throws LeaseUnavailableError when it does not answer. */
  async leaderLease(): Promise<LeaseStateJson> {
    const { lease } = this.deps;
    if (!lease) throw new LeaseUnavailableError(`${this.deps.pce.fqdn} has no access to the leader lease table (this function holds no lease)`);
    const [stored, leader] = await Promise.all([
      lease.store.get().catch((err: unknown) => {
        throw new LeaseUnavailableError(`the leader lease authority does not answer ${this.deps.pce.fqdn} (${(err as Error).message}); ask another PCE`, { cause: err });
      }),
      this.deps.leader.current(),
    ]);
    return leaseState(stored, leader, lease.timings, this.now());
  }
}
