/** Supercluster queries the API answers on every PCE: leadership, availability, health. */
import type { PceConfig, SuperclusterConfig } from './config.ts';
import { computeHealth, NORMAL_RUNLEVEL, type PceHealth, type PceStatusStore, type ReplicationLagStore } from './health.ts';
import type { LeaderView } from './leader.ts';
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
    return computeHealth({
      config: this.deps.config,
      leader,
      reports,
      dropped: droppedPces(await drops),
      self: { region: this.deps.pce.region, startedAt: state.startedAt, runlevel: state.runlevel, lags, deadLetters, listenOnlyEnabledAt: listenOnly?.enabledAt ?? null },
      lastReplicationCheck: latestCheck(await checks),
      now,
    });
  }
}
