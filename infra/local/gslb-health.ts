/**
 * The local GSLB's health checker: what Route 53's health checks do for the AWS records, on loopback.
 * Every interval (the model's health_check_interval_seconds; tests may probe faster) it probes, per PCE X:
 *   node    GET /api/v2/node_available on X
 *   leader  GET /api/v2/supercluster/leader on X (202 on the leader, 404 on a member)
 *   switch  GET /api/v2/gslb/switches/<X> on each OTHER PCE, one check per other PCE; X's switch is
 *           healthy while at least one of them is (a calculated check with threshold 1, as in AWS)
 * Each check keeps a HealthCheckState (flips after failure_threshold results the other way), and the
 * local DNS server (gslb-dns.ts) answers from these states through `states(fqdn)`.
 *
 * One difference from Route 53, which starts a new check healthy: `start()` seeds every check with its
 * first probe's result (the local cloud starts its checks together with its PCEs, so the leader FQDN
 * answers only the leader from the first query on, not every PCE for the first interval x threshold).
 */
import { httpStatus } from '../../shared/runtime/http-status.ts';
import {
  gslbStatus,
  LEADER_PATH,
  NODE_AVAILABLE_PATH,
  switchPath,
  HealthCheckState,
  type GslbModel,
  type GslbStatus,
  type PceCheckStates,
} from '../../shared/supercluster/gslb.ts';

/** Route 53's rule for an HTTP health check: a 2xx or 3xx answer within the timeout is a success. */
export function probeSucceeded(status: number | null): boolean {
  return status !== null && status >= 200 && status < 400;
}

/** What a PCE's switch endpoint says of a PCE: 200 not failed over, 503 failed over, anything else unknown. */
function failedOverOf(status: number | null): boolean | null {
  if (status === 503) return true;
  if (probeSucceeded(status)) return false;
  return null;
}

export type HttpProbe = (url: string, timeoutMs: number) => Promise<number | null>;

/** GET `url`: its status, or null when nothing answered in time. */
export const fetchProbe: HttpProbe = httpStatus;

export interface GslbHealthCheckerOptions {
  readonly model: GslbModel;
  /** each PCE's endpoint (base URL, e.g. http://127.0.0.11:8443) by FQDN */
  readonly endpoints: ReadonlyMap<string, string>;
  /** ms between probe rounds; default the model's health_check_interval_seconds (tests: faster) */
  readonly probeIntervalMs?: number;
  /** per-request timeout; default ROUTE53_CHECK_TIMEOUT_MS, 6 s (a round outlasting the interval delays the next) */
  readonly probeTimeoutMs?: number;
  readonly probe?: HttpProbe;
}

interface PceChecks {
  readonly node: HealthCheckState;
  readonly leader: HealthCheckState;
  /** by the PCE that serves this PCE's switch */
  readonly switchVia: Map<string, HealthCheckState>;
  /** the last answer of each other PCE's switch endpoint (null: no answer) */
  readonly switchAnswers: Map<string, number | null>;
}

/**
 * How long a check waits for its answer: Route 53's own allowance (4 s to connect, then 2 s for the status line),
 * so that a PCE slowed down by load is judged as Route 53 would judge it, not failed over sooner.
 */
export const ROUTE53_CHECK_TIMEOUT_MS = 6_000;

export class GslbHealthChecker {
  readonly model: GslbModel;
  readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly endpoints: ReadonlyMap<string, string>;
  private readonly probe: HttpProbe;
  private readonly checks = new Map<string, PceChecks>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private roundsDone = 0;

  constructor(options: GslbHealthCheckerOptions) {
    this.model = options.model;
    this.endpoints = options.endpoints;
    this.intervalMs = options.probeIntervalMs ?? options.model.healthCheckIntervalSeconds * 1000;
    this.timeoutMs = options.probeTimeoutMs ?? ROUTE53_CHECK_TIMEOUT_MS;
    this.probe = options.probe ?? fetchProbe;
    const threshold = options.model.failureThreshold;
    for (const pce of options.model.pces) {
      if (!this.endpoints.has(pce.fqdn)) throw new Error(`no endpoint for ${pce.fqdn}`);
      const others = options.model.pces.filter((p) => p.fqdn !== pce.fqdn);
      this.checks.set(pce.fqdn, {
        node: new HealthCheckState(threshold),
        leader: new HealthCheckState(threshold),
        switchVia: new Map(others.map((o) => [o.fqdn, new HealthCheckState(threshold)])),
        switchAnswers: new Map(),
      });
    }
  }

  /** Probes at once (resolved when that first round has seeded every check), then every interval until stop(). */
  async start(): Promise<void> {
    if (this.timer) return;
    const tick = (seed: boolean) => {
      this.round ??= this.probeOnce(seed).finally(() => (this.round = undefined));
      return this.round;
    };
    this.timer = setInterval(() => void tick(false), this.intervalMs);
    this.timer.unref();
    await tick(true);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** Completed probe rounds (tests wait on it). */
  get rounds(): number {
    return this.roundsDone;
  }

  /** One round: every check probed once, in parallel; `seed`: each result sets its check's state at once. */
  async probeOnce(seed = false): Promise<void> {
    const threshold = this.model.failureThreshold;
    const record = (state: HealthCheckState, ok: boolean) => {
      for (let i = 0; i < (seed ? threshold : 1); i++) state.record(ok);
    };
    const url = (fqdn: string, path: string) => `${this.endpoints.get(fqdn) ?? ''}${path}`;
    const work: Promise<void>[] = [];
    for (const [fqdn, checks] of this.checks) {
      work.push(this.probe(url(fqdn, NODE_AVAILABLE_PATH), this.timeoutMs).then((s) => record(checks.node, probeSucceeded(s))));
      work.push(this.probe(url(fqdn, LEADER_PATH), this.timeoutMs).then((s) => record(checks.leader, probeSucceeded(s))));
      for (const [via, state] of checks.switchVia) {
        work.push(
          this.probe(url(via, switchPath(fqdn)), this.timeoutMs).then((s) => {
            checks.switchAnswers.set(via, s);
            record(state, probeSucceeded(s));
          }),
        );
      }
    }
    await Promise.all(work);
    this.roundsDone++;
  }

  /** The checks' states of a PCE (what Route 53 would say now). */
  states(fqdn: string): PceCheckStates {
    const checks = this.checks.get(fqdn);
    if (!checks) throw new Error(`${fqdn} is not a PCE of this supercluster`);
    return { node: checks.node.healthy, leader: checks.leader.healthy, switch: [...checks.switchVia.values()].some((s) => s.healthy) };
  }

  /** What the other PCEs' switch endpoints last said of `fqdn`: any "not failed over" wins (the switch check's rule); null when none answered. */
  failedOver(fqdn: string): boolean | null {
    const answers = [...(this.checks.get(fqdn)?.switchAnswers.values() ?? [])].map(failedOverOf);
    if (answers.includes(false)) return false;
    if (answers.includes(true)) return true;
    return null;
  }

  status(): GslbStatus {
    return gslbStatus(
      this.model,
      (f) => this.states(f),
      (f) => this.failedOver(f),
    );
  }
}
