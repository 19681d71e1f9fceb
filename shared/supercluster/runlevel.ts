/**
 * Runlevels, after illumio-pce-ctl's (the seed's "Assign New Leader", "Restore"):
 * - 5: fully operational;
 * - 2: the database replicates, but the PCE serves no API writes (503 naming the runlevel) and hands its
 *      VENs no new policy (as in listen-only mode: policy is still computed, VENs keep what they have);
 * - 1: maintenance: the API answers 503 except its health checks.
 * node_available fails below 5 (the GSLB and load balancers drop the PCE); /api/v2/health shows the runlevel.
 * The runlevel lives in the PCE's local table (runtime-state.ts); `pce-ctl set-runlevel` changes it, and a PCE
 * that finds itself dropped from the supercluster sets 2 (drop.ts).
 */
import { sleep as sleepFor } from '../runtime/sleep.ts';
import type { PceConfig } from './config.ts';
import { SuperclusterUsageError } from './errors.ts';
import { NORMAL_RUNLEVEL } from './health.ts';
import type { LeaderRecordStore } from './leader.ts';
import { isDropped, type PceDropStore } from './membership.ts';
import type { RuntimeStateStore } from './runtime-state.ts';
import type { ListenOnlyStore } from '../ven/ports.ts';

export const RUNLEVELS = [1, 2, 5] as const;
export type Runlevel = (typeof RUNLEVELS)[number];

export const REPLICATION_ONLY_RUNLEVEL = 2;
export const MAINTENANCE_RUNLEVEL = 1;

export function isRunlevel(value: number): value is Runlevel {
  return (RUNLEVELS as readonly number[]).includes(value);
}

/** What a runlevel means, in a few words (pce-ctl output, error messages). */
export function runlevelMeaning(runlevel: number): string {
  if (runlevel >= NORMAL_RUNLEVEL) return 'fully operational';
  if (runlevel >= REPLICATION_ONLY_RUNLEVEL) return 'replication only: no API writes, VENs are handed no new policy';
  return 'maintenance: only the health checks answer';
}

/** The API paths that answer at every runlevel: the health checks (Route 53, load balancers, pce-ctl). */
const HEALTH_PATHS: readonly RegExp[] = [/^\/api\/v2\/node_available\/?$/, /^\/api\/v2\/health\/?$/, /^\/api\/v2\/supercluster\/leader\/?$/, /^\/api\/v2\/gslb\/switches\/[^/]+\/?$/];
const VEN_PATH = /^\/api\/v2\/ven(\/.*)?$/;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A request this PCE's runlevel does not serve (the API answers 503). */
export class RunlevelRestrictedError extends Error {
  override readonly name = 'RunlevelRestrictedError';
  constructor(
    readonly pceFqdn: string,
    readonly runlevel: number,
    options?: ErrorOptions,
  ) {
    super(`${pceFqdn} is at runlevel ${runlevel} (${runlevelMeaning(runlevel)}) and does not serve this request; retry when it is back at runlevel ${NORMAL_RUNLEVEL}`, options);
  }
}

/**
 * Whether `runlevel` serves `method path`: everything at 5; at 2 everything but the REST API's writes (reads
 * and the VEN protocol pass: VENs keep heartbeating, the policy they are handed is held back elsewhere);
 * at 1 only the health checks.
 */
export function runlevelServes(runlevel: number, method: string, path: string): boolean {
  if (runlevel >= NORMAL_RUNLEVEL) return true;
  if (method === 'GET' && HEALTH_PATHS.some((p) => p.test(path))) return true;
  if (runlevel < REPLICATION_ONLY_RUNLEVEL) return false;
  return !WRITE_METHODS.has(method) || VEN_PATH.test(path);
}

/** This PCE's runlevel for the request path, read through a short cache (`pce-ctl set-runlevel` shows within `ttlMs`). */
export class RunlevelView {
  private cached: { runlevel: number; at: number } | null = null;

  constructor(
    private readonly store: RuntimeStateStore,
    private readonly ttlMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The runlevel; when the local table does not answer, the last one read (5 before any). */
  async current(): Promise<number> {
    const t = this.now();
    if (this.cached && t - this.cached.at < this.ttlMs) return this.cached.runlevel;
    try {
      const state = await this.store.getOrCreate({ startedAt: t, runlevel: NORMAL_RUNLEVEL });
      this.cached = { runlevel: state.runlevel, at: t };
    } catch {
      return this.cached?.runlevel ?? NORMAL_RUNLEVEL;
    }
    return this.cached.runlevel;
  }

  invalidate(): void {
    this.cached = null;
  }
}

/**
 * The listen-only store as the VEN paths see it: below runlevel 5 the PCE holds policy back exactly as in
 * listen-only mode (heartbeats answer the version the VEN holds, no push, no policy fetch, nobody marked
 * offline). Enabling and disabling listen-only mode itself is unchanged.
 */
export function holdPolicyBelowRunlevel5(listenOnly: ListenOnlyStore, runlevel: Pick<RunlevelView, 'current'>, now: () => number = Date.now): ListenOnlyStore {
  return {
    async get() {
      const state = await listenOnly.get();
      if (state) return state;
      return (await runlevel.current()) < NORMAL_RUNLEVEL ? { enabledAt: now() } : null;
    },
    enable: (at) => listenOnly.enable(at),
    disable: () => listenOnly.disable(),
  };
}

// ------------------------------------------------------------------------------------------ pce-ctl set-runlevel, cluster-status

export const NODE_AVAILABLE = '/api/v2/node_available';

export interface RunlevelOpsDeps {
  readonly pce: PceConfig;
  /** the PCE's local table */
  readonly runtime: RuntimeStateStore;
  /** the drop marks as the PCE's own replica holds them */
  readonly drops: PceDropStore;
  readonly leaderRecord: LeaderRecordStore;
  /** GET `path` on the PCE: its HTTP status, null when it does not answer */
  readonly probe: (path: string) => Promise<number | null>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One PCE as cluster-status shows it. */
export interface ClusterStatus {
  readonly pce_fqdn: string;
  readonly region: string;
  readonly role: 'leader' | 'member';
  readonly dropped: boolean;
  readonly runlevel: number;
  readonly meaning: string;
  /** node_available as the PCE answers it (202 at runlevel 5, 404 below), null: its API does not answer */
  readonly node_available: number | null;
  /** RUNNING: it serves at its runlevel; CHANGING: it answers but not yet at its runlevel; NOT RUNNING: no answer */
  readonly status: 'RUNNING' | 'CHANGING' | 'NOT RUNNING';
  readonly checked_at: string;
}

export async function clusterStatus(deps: RunlevelOpsDeps): Promise<ClusterStatus> {
  const now = deps.now ?? Date.now;
  const [state, marks, leader, nodeAvailable] = await Promise.all([
    deps.runtime.getOrCreate({ startedAt: now(), runlevel: NORMAL_RUNLEVEL }),
    deps.drops.list(),
    deps.leaderRecord.get({ consistent: true }),
    deps.probe(NODE_AVAILABLE),
  ]);
  const servesAtRunlevel = nodeAvailable !== null && (nodeAvailable === 202) === state.runlevel >= NORMAL_RUNLEVEL;
  return {
    pce_fqdn: deps.pce.fqdn,
    region: deps.pce.region,
    role: leader?.leaderRegion === deps.pce.region ? 'leader' : 'member',
    dropped: isDropped(marks, deps.pce.fqdn),
    runlevel: state.runlevel,
    meaning: runlevelMeaning(state.runlevel),
    node_available: nodeAvailable,
    status: nodeAvailable === null ? 'NOT RUNNING' : servesAtRunlevel ? 'RUNNING' : 'CHANGING',
    checked_at: new Date(now()).toISOString(),
  };
}

export interface SetRunlevelResult extends ClusterStatus {
  readonly previous_runlevel: number;
  /** the PCE answered node_available as the new runlevel wants before the timeout */
  readonly served: boolean;
  readonly waited_ms: number;
}

/**
 * Sets the PCE's runlevel in its local table and waits until its API serves it (node_available 202 at 5,
 * 404 below; the request path caches the runlevel for a second). A PCE that does not answer takes it when it
 * starts. Runlevel 5 is refused for a dropped PCE: its probe would set 2 again (supercluster-rejoin first).
 */
export async function setRunlevel(deps: RunlevelOpsDeps, runlevel: number, options: { readonly timeoutMs: number }): Promise<SetRunlevelResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleepFor;
  if (!isRunlevel(runlevel)) throw new SuperclusterUsageError(`runlevel must be one of ${RUNLEVELS.join(', ')}, got ${runlevel}`);
  if (runlevel >= NORMAL_RUNLEVEL && isDropped(await deps.drops.list(), deps.pce.fqdn)) {
    throw new SuperclusterUsageError(`${deps.pce.fqdn} is dropped from the supercluster and stays at runlevel ${REPLICATION_ONLY_RUNLEVEL}: run pce-ctl supercluster-rejoin ${deps.pce.fqdn}, which sets runlevel ${NORMAL_RUNLEVEL}`);
  }
  const started = now();
  const previous = (await deps.runtime.getOrCreate({ startedAt: started, runlevel: NORMAL_RUNLEVEL })).runlevel;
  await deps.runtime.setRunlevel(runlevel);
  const want = runlevel >= NORMAL_RUNLEVEL ? 202 : 404;
  let served = false;
  for (;;) {
    const status = await deps.probe(NODE_AVAILABLE);
    if (status === want) {
      served = true;
      break;
    }
    if (status === null || now() - started > options.timeoutMs) break;
    await sleep(200);
  }
  const status = await clusterStatus(deps);
  return { ...status, previous_runlevel: previous, served, waited_ms: now() - started };
}
