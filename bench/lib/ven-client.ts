/**
 * A simulated VEN (docs/ven-protocol.md): after activation it keeps its channel (WebSocket to `push_url`,
 * `Authorization: Bearer <agent token>`) open, heartbeats every `heartbeat_interval_seconds` (jittered),
 * fetches its policy (full first, then deltas with `have`), verifies and "applies" it (bench/lib/ven-policy.ts),
 * takes `policy` pushes (at once when they carry what is needed, else it fetches the delta), moves to another
 * PCE on a `reassign` push or a heartbeat's `target_pce_fqdn`, reports flows now and then, and says goodbye
 * when stopped. A 401 makes it a lost agent (it stops: a real VEN would pair again).
 *
 * Thousands run in one process: one timer each (heartbeats; the channel ping rides on it), a shared
 * keep-alive HTTP pool per PCE (bench/lib/ven-http.ts), counters in one VenStats.
 */
import type { Agent } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { ActivateResponseV1, FlowSummaryRequestV1, HeartbeatResponseV1, PolicyResponseV1, VenPushV1 } from '../../shared/ven/protocol.ts';
import { VEN_API_BASE } from '../../shared/ven/protocol.ts';
import { errorToken, httpJson, NetworkError, type HttpAnswer } from './ven-http.ts';
import { applyPolicyAnswer, applyPolicyPush, haveOf, PolicyVerificationError, type HeldPolicy } from './ven-policy.ts';
import { jittered, retryBackoffMs } from './ven-sim-args.ts';
import type { GslbResolver } from './ven-gslb.ts';

/** How often a VEN pings its channel: under API Gateway's 10 minutes idle timeout (shared/ven/channel-service.ts). */
export const CHANNEL_PING_MS = 9 * 60 * 1000;
/** How long the channel's opening handshake may take (the PCE authenticates the token in `$connect`). */
export const CHANNEL_HANDSHAKE_TIMEOUT_MS = 30_000;
/**
 * A channel open this long whose VEN learns of a newer policy from a heartbeat, and is not pushed it within
 * CHANNEL_DEAF_GRACE_MS, is reopened: its PCE may have lost track of the connection (docs/ven-protocol.md).
 * Younger channels may simply have opened after the push (the VEN heartbeats on open for that).
 */
export const CHANNEL_DEAF_MIN_AGE_MS = 30_000;
export const CHANNEL_DEAF_GRACE_MS = 5_000;
/** Reconnect backoff of the channel: full jitter over 1 s, 2 s, 4 s ... up to a minute. */
export const CHANNEL_BACKOFF_MIN_MS = 1_000;
export const CHANNEL_BACKOFF_MAX_MS = 60_000;
/** How soon a VEN asks again while the PCE has not computed its policy (404 policy_not_computed): doubling up to the heartbeat interval. */
export const FIRST_POLICY_POLL_MS = 2_000;

/** One PCE as VENs reach it. */
export interface PceEndpoint {
  readonly index: number;
  readonly fqdn: string;
  readonly region: string;
  /** http://host:port */
  readonly url: string;
  /** the keep-alive pool its VENs share */
  readonly agent: Agent;
  /** the channel URL its activations hand out (learnt from the first one; see channelUrlFor) */
  pushUrl: string | null;
}

/** Counters of every VEN of a run, and a few samples of each kind of error (for the report). */
export class VenStats {
  heartbeats = 0;
  heartbeatErrors = 0;
  policyFetches = 0;
  policyFull = 0;
  policyDelta = 0;
  policyNotComputed = 0;
  policyErrors = 0;
  /** fetches whose answer was dropped: a push was applied while it was on its way (fetched again) */
  policyRaced = 0;
  verifyErrors = 0;
  protocolNotes = 0;
  pushes = 0;
  /** performance.now() of the last push any VEN received (0: none yet) */
  lastPushAt = 0;
  pushesApplied = 0;
  pushesFetched = 0;
  pushesStale = 0;
  appliedViaPush = 0;
  appliedViaFetch = 0;
  channelConnects = 0;
  channelErrors = 0;
  /** channels reopened because a heartbeat named policy no push brought */
  channelRepairs = 0;
  channelOpen = 0;
  flowsSent = 0;
  flowErrors = 0;
  lost = 0;
  moves = 0;
  /** moves to the PCE the GSLB answered after the VEN's PCE stopped answering (failovers) */
  gslbMoves = 0;
  reassignPushes = 0;
  listenOnlyPushes = 0;
  unpaired = 0;
  goodbyes = 0;
  goodbyeErrors = 0;
  readonly errors = new Map<string, { count: number; samples: string[] }>();

  /** Records one error of `kind` (e.g. `heartbeat 503`), keeping the first few messages. */
  error(kind: string, detail: string): void {
    const e = this.errors.get(kind) ?? { count: 0, samples: [] };
    e.count++;
    if (e.samples.length < 3) e.samples.push(detail.slice(0, 300));
    this.errors.set(kind, e);
  }

  errorSummary(): Record<string, { count: number; samples: string[] }> {
    return Object.fromEntries([...this.errors].sort((a, b) => b[1].count - a[1].count));
  }
}

export interface VenContext {
  readonly pces: ReadonlyMap<string, PceEndpoint>;
  readonly stats: VenStats;
  /** overrides the PCE's heartbeat_interval_seconds */
  readonly heartbeatIntervalMs: number | null;
  /** a flow summary every N heartbeats (0: none) */
  readonly flowsEvery: number;
  readonly random?: () => number;
  /** the local GSLB: a VEN whose PCE stops answering asks it where to go (null: no GSLB, the VEN keeps trying its PCE) */
  readonly gslb?: GslbResolver | null;
}

export interface AppliedMark {
  readonly at: number;
  readonly version: number;
  readonly via: 'push' | 'fetch';
}

/**
 * The channel URL of `target`: the one its activations handed out when known, else derived from a known
 * PCE's pair (API URL -> push URL: same host shift, same port offset, same path). The heartbeat and the
 * reassign push name the target PCE by FQDN only, so a VEN moving to a PCE it never paired with must
 * find its channel somehow (in AWS: wss://<fqdn's channel domain>).
 */
export function channelUrlFor(target: { url: string; pushUrl: string | null }, known: { url: string; pushUrl: string } | null): string | null {
  if (target.pushUrl) return target.pushUrl;
  if (!known) return null;
  const api = new URL(known.url);
  const push = new URL(known.pushUrl);
  const to = new URL(target.url);
  const offset = Number(push.port || (push.protocol === 'wss:' ? 443 : 80)) - Number(api.port || (api.protocol === 'https:' ? 443 : 80));
  const host = push.hostname === api.hostname ? to.hostname : push.hostname;
  const port = Number(to.port || (to.protocol === 'https:' ? 443 : 80)) + offset;
  return `${push.protocol}//${host}:${port}${push.pathname}${push.search}`;
}

type VenState = 'running' | 'lost' | 'unpaired' | 'stopped';

export class SimVen {
  pce: PceEndpoint;
  held: HeldPolicy | null = null;
  /** what the PCE last said the VEN should hold (heartbeat answer or push) */
  expected: { policyVersion: number | null; rulesHash: string | null } | null = null;
  state: VenState = 'running';
  /** the first policy applied that is newer than `watchFrom` (convergence measurement) */
  watchHit: AppliedMark | null = null;
  firstAppliedAt: number | null = null;
  heartbeatsSent = 0;

  private readonly auth: Record<string, string>;
  private readonly startedAt = Date.now();
  private appliedAtEpoch: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private intervalMs: number;
  private ws: WebSocket | null = null;
  private wsLastSent = 0;
  private wsOpenedAt = 0;
  /** the newest policy version a push named */
  private pushedVersion = 0;
  private deafTimer: NodeJS.Timeout | null = null;
  private wsBackoffMs = CHANNEL_BACKOFF_MIN_MS;
  private wsTimer: NodeJS.Timeout | null = null;
  private fetching = false;
  private refetch = false;
  private fullNext = false;
  private fetchTimer: NodeJS.Timeout | null = null;
  private notComputedPollMs = FIRST_POLICY_POLL_MS;
  private watchFrom: number | null = null;
  /** heartbeats until the next flow summary */
  private flowsIn = 0;
  /** heartbeats and policy fetches that failed in a row (the retry backoff's exponent) */
  private heartbeatFailures = 0;
  private fetchFailures = 0;
  private readonly random: () => number;

  /** the PCE of the VEN's client subnet (where the GSLB sends it while that PCE is healthy) */
  readonly home: PceEndpoint;
  /** the PCE and time of the last heartbeat that was answered 200 */
  lastHeartbeat: { readonly fqdn: string; readonly at: number } | null = null;

  constructor(
    private readonly ctx: VenContext,
    home: PceEndpoint,
    readonly hostname: string,
    readonly address: string,
    readonly activation: ActivateResponseV1,
  ) {
    this.home = home;
    this.pce = home;
    this.auth = { authorization: `Bearer ${activation.agent_token}` };
    this.intervalMs = ctx.heartbeatIntervalMs ?? activation.heartbeat_interval_seconds * 1000;
    this.random = ctx.random ?? Math.random;
  }

  get agentId(): string {
    return this.activation.agent_id;
  }

  get channelOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the channel, then heartbeats (so that what was computed before the channel opened is learnt from the heartbeat). */
  start(): void {
    this.connect(() => this.heartbeatNow());
  }

  /** True when the VEN holds what the PCE last said it should. */
  inSync(): boolean {
    return this.held !== null && this.expected !== null && !needsFetch(this.held, this.expected);
  }

  /** Starts a convergence measurement: the first policy applied newer than `version` is marked. */
  watch(version: number): void {
    this.watchFrom = version;
    this.watchHit = null;
  }

  // ------------------------------------------------------------------------------------------ HTTP

  private async call(path: string, body: unknown): Promise<HttpAnswer> {
    return httpJson(this.pce.agent, `${this.pce.url}${VEN_API_BASE}/${path}`, 'POST', this.auth, body);
  }

  /** 401: the PCE does not know this VEN (any more): a lost agent. */
  private lostAgent(where: string, answer: HttpAnswer): void {
    if (this.state !== 'running') return;
    this.ctx.stats.lost++;
    this.ctx.stats.error(`lost agent (${where} 401 ${errorToken(answer) ?? ''})`, `${this.agentId} on ${this.pce.fqdn}: ${answer.text}`);
    this.halt('lost');
  }

  private halt(state: VenState): void {
    this.state = state;
    for (const t of [this.timer, this.wsTimer, this.fetchTimer, this.deafTimer]) if (t) clearTimeout(t);
    this.timer = this.wsTimer = this.fetchTimer = this.deafTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) this.ctx.stats.channelOpen--;
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
    }
  }

  // ------------------------------------------------------------------------------------------ heartbeat

  private schedule(delayMs: number): void {
    if (this.state !== 'running') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.heartbeat(), delayMs);
  }

  heartbeatNow(): void {
    this.schedule(0);
  }

  private async heartbeat(): Promise<void> {
    this.timer = null;
    if (this.state !== 'running') return;
    const stats = this.ctx.stats;
    const now = Date.now();
    if (this.ws && this.ws.readyState === WebSocket.OPEN && now - this.wsLastSent >= CHANNEL_PING_MS) {
      this.ws.send('{"action":"ping"}');
      this.wsLastSent = now;
    }
    let answer: HttpAnswer;
    try {
      answer = await this.call('heartbeat', {
        uptime_seconds: Math.floor((now - this.startedAt) / 1000),
        policy_version: this.held?.version ?? null,
        rules_hash: this.held?.rulesHash ?? null,
        applied_at: this.appliedAtEpoch,
      });
    } catch (err) {
      stats.heartbeatErrors++;
      stats.error(`heartbeat ${(err as NetworkError).code ?? 'network'}`, (err as Error).message);
      this.schedule(retryBackoffMs(this.heartbeatFailures++, undefined, this.random, this.intervalMs));
      // the PCE does not answer: where does the GSLB send this VEN's subnet now (a failover)?
      void this.followGslb();
      return;
    }
    if (this.state !== 'running') return;
    if (answer.status === 401) return this.lostAgent('heartbeat', answer);
    if (answer.status !== 200) {
      stats.heartbeatErrors++;
      stats.error(`heartbeat ${answer.status} ${errorToken(answer) ?? ''}`, answer.text);
      // a throttled or failing PCE: back off (Retry-After at least), so that its VENs do not keep it saturated
      this.schedule(retryBackoffMs(this.heartbeatFailures++, answer.headers['retry-after'], this.random, this.intervalMs));
      return;
    }
    this.heartbeatFailures = 0;
    stats.heartbeats++;
    this.heartbeatsSent++;
    this.lastHeartbeat = { fqdn: this.pce.fqdn, at: performance.now() };
    const hb = JSON.parse(answer.text) as HeartbeatResponseV1;
    if (this.ctx.heartbeatIntervalMs === null && hb.heartbeat_interval_seconds > 0) this.intervalMs = hb.heartbeat_interval_seconds * 1000;
    // a VEN the GSLB sent to a buddy stays there while its own PCE is failed over or silent (target_available false)
    if (hb.target_pce_fqdn && hb.target_pce_fqdn !== hb.active_pce_fqdn && hb.target_available !== false) {
      this.moveTo(hb.target_pce_fqdn, 'heartbeat');
      return;
    }
    this.expect({ policyVersion: hb.policy_version, rulesHash: hb.rules_hash });
    if (!hb.listen_only && (this.held === null || needsFetch(this.held, this.expected ?? { policyVersion: null, rulesHash: null }))) {
      void this.fetchPolicy();
      if (hb.policy_version !== null) this.watchForDeafChannel(hb.policy_version);
    }
    if (this.ctx.flowsEvery > 0 && this.held && --this.flowsIn <= 0) {
      this.flowsIn = this.ctx.flowsEvery;
      void this.reportFlows();
    }
    this.schedule(jittered(this.intervalMs, this.random));
  }

  /**
   * The heartbeat named a policy version this VEN holds nothing of: its push should be on the way. If none
   * naming that version arrives within the grace, the channel is reopened (the reconnect heartbeats too).
   */
  private watchForDeafChannel(version: number): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.deafTimer || version <= this.pushedVersion) return;
    if (Date.now() - this.wsOpenedAt < CHANNEL_DEAF_MIN_AGE_MS) return;
    this.deafTimer = setTimeout(() => {
      this.deafTimer = null;
      if (this.state !== 'running' || this.ws !== ws || ws.readyState !== WebSocket.OPEN || this.pushedVersion >= version) return;
      this.ctx.stats.channelRepairs++;
      ws.close(1000, 'no push for a policy the heartbeat named');
    }, CHANNEL_DEAF_GRACE_MS);
  }

  private expect(next: { policyVersion: number | null; rulesHash: string | null }): void {
    const cur = this.expected;
    if (!cur || cur.policyVersion === null || (next.policyVersion !== null && next.policyVersion >= cur.policyVersion)) this.expected = next;
  }

  // ------------------------------------------------------------------------------------------ policy

  /** Fetches the policy (a delta against what is held, or full); one fetch at a time, a request during it fetches again after. */
  async fetchPolicy(): Promise<void> {
    if (this.state !== 'running') return;
    if (this.fetching) {
      this.refetch = true;
      return;
    }
    if (this.fetchTimer) {
      clearTimeout(this.fetchTimer);
      this.fetchTimer = null;
    }
    this.fetching = true;
    const stats = this.ctx.stats;
    const full = this.fullNext || this.held === null;
    this.fullNext = false;
    const basis = this.held;
    let retryMs: number | null = null;
    try {
      const answer = await this.call('policy', full ? {} : { have: haveOf(basis) });
      if (this.state !== 'running') return;
      if (this.held !== basis) {
        // a push was applied meanwhile: the answer is a delta against what the VEN no longer holds
        stats.policyRaced++;
        if (!this.inSync()) this.refetch = true;
        return;
      }
      if (answer.status === 401) return this.lostAgent('policy', answer);
      if (answer.status === 404 && errorToken(answer) === 'policy_not_computed') {
        stats.policyNotComputed++;
        retryMs = this.notComputedPollMs;
        this.notComputedPollMs = Math.min(this.intervalMs, this.notComputedPollMs * 2);
        return;
      }
      if (answer.status !== 200) {
        stats.policyErrors++;
        stats.error(`policy ${answer.status} ${errorToken(answer) ?? ''}`, answer.text);
        retryMs = retryBackoffMs(this.fetchFailures++, answer.headers['retry-after'], this.random, this.intervalMs);
        return;
      }
      this.fetchFailures = 0;
      stats.policyFetches++;
      this.notComputedPollMs = FIRST_POLICY_POLL_MS;
      if (full) stats.policyFull++;
      else stats.policyDelta++;
      const body = JSON.parse(answer.text) as PolicyResponseV1;
      try {
        const { held, notes } = applyPolicyAnswer(full ? null : basis, body);
        if (notes.length > 0) {
          stats.protocolNotes += notes.length;
          for (const n of notes) stats.error(`policy answer note: ${n.replace(/ls:[0-9a-f]+/g, '<set>')}`, `${this.agentId}: ${n}`);
        }
        this.apply(held, 'fetch');
      } catch (err) {
        if (!(err instanceof PolicyVerificationError)) throw err;
        stats.verifyErrors++;
        stats.error(`policy verification (${full ? 'full' : 'delta'})`, `${this.agentId}: ${err.message}`);
        if (!full) {
          this.fullNext = true;
          retryMs = 0;
        } else retryMs = 10_000;
      }
    } catch (err) {
      stats.policyErrors++;
      stats.error(`policy ${(err as NetworkError).code ?? 'error'}`, (err as Error).message);
      retryMs = retryBackoffMs(this.fetchFailures++, undefined, this.random, this.intervalMs);
    } finally {
      this.fetching = false;
      if (this.state === 'running') {
        if (this.refetch) {
          this.refetch = false;
          void this.fetchPolicy();
        } else if (retryMs !== null) {
          this.fetchTimer = setTimeout(() => {
            this.fetchTimer = null;
            void this.fetchPolicy();
          }, jittered(Math.max(retryMs, 1), this.random));
        }
      }
    }
  }

  private apply(held: HeldPolicy, via: 'push' | 'fetch'): void {
    this.appliedAtEpoch = appliedAtAfter(this.held, held, this.appliedAtEpoch, Date.now());
    this.held = held;
    const at = performance.now();
    if (this.firstAppliedAt === null) {
      this.firstAppliedAt = at;
      // the first flow summary soon after the first policy, the next every flowsEvery heartbeats
      if (this.ctx.flowsEvery > 0) {
        this.flowsIn = this.ctx.flowsEvery;
        const t = setTimeout(() => void (this.state === 'running' && this.reportFlows()), 1 + Math.floor(this.random() * Math.min(this.intervalMs, 5_000)));
        t.unref();
      }
    }
    if (via === 'push') this.ctx.stats.appliedViaPush++;
    else this.ctx.stats.appliedViaFetch++;
    if (this.watchFrom !== null && this.watchHit === null && held.version > this.watchFrom) this.watchHit = { at, version: held.version, via };
  }

  // ------------------------------------------------------------------------------------------ channel

  private connect(then?: () => void, reconnect = false): void {
    if (this.state !== 'running') return;
    const url = this.channelUrl();
    if (!url) {
      this.ctx.stats.error('channel: no push_url', `${this.agentId} on ${this.pce.fqdn}`);
      then?.();
      return;
    }
    const ws = new WebSocket(url, { headers: this.auth, perMessageDeflate: false, handshakeTimeout: CHANNEL_HANDSHAKE_TIMEOUT_MS });
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.wsBackoffMs = CHANNEL_BACKOFF_MIN_MS;
      this.wsLastSent = this.wsOpenedAt = Date.now();
      this.ctx.stats.channelConnects++;
      this.ctx.stats.channelOpen++;
      then?.();
      then = undefined;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) this.onPush(data.toString());
    });
    ws.on('error', (err: Error) => {
      if (this.state !== 'running' || this.ws !== ws) return;
      const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
      if (status === '401') {
        this.ctx.stats.lost++;
        this.ctx.stats.error('lost agent (channel 401)', `${this.agentId} on ${this.pce.fqdn}`);
        this.halt('lost');
        return;
      }
      this.ctx.stats.channelErrors++;
      this.ctx.stats.error(`channel ${status ?? (err as NodeJS.ErrnoException).code ?? 'error'}`, `${url}: ${err.message}`);
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      if (opened) this.ctx.stats.channelOpen--;
      this.ws = null;
      if (this.state !== 'running') return;
      // the first heartbeat goes ahead without the channel (a VEN that never got its channel still
      // heartbeats); a failed reconnect does not heartbeat (the timer goes on), a successful one does
      if (then && !reconnect) then();
      then = undefined;
      // a channel lost without a move: the PCE may be gone (a failover): the GSLB may answer another PCE by now
      if (opened) void this.followGslb();
      // full jitter, so that VENs that lost their channels together do not come back together
      const delay = Math.max(100, Math.floor(this.random() * this.wsBackoffMs));
      this.wsBackoffMs = Math.min(CHANNEL_BACKOFF_MAX_MS, this.wsBackoffMs * 2);
      this.wsTimer = setTimeout(() => {
        this.wsTimer = null;
        // reconnected: heartbeat at once, a push may have been missed meanwhile
        this.connect(() => this.heartbeatNow(), true);
      }, delay);
    });
  }

  private channelUrl(): string | null {
    if (this.pce.pushUrl) return this.pce.pushUrl;
    const known = [...this.ctx.pces.values()].find((p) => p.pushUrl !== null);
    return channelUrlFor(this.pce, known && known.pushUrl ? { url: known.url, pushUrl: known.pushUrl } : null);
  }

  private onPush(text: string): void {
    if (this.state !== 'running') return;
    const stats = this.ctx.stats;
    let push: VenPushV1;
    try {
      push = JSON.parse(text) as VenPushV1;
    } catch {
      stats.error('push: not JSON', text.slice(0, 200));
      return;
    }
    stats.pushes++;
    stats.lastPushAt = performance.now();
    switch (push.type) {
      case 'policy': {
        this.pushedVersion = Math.max(this.pushedVersion, push.policy_version);
        this.expect({ policyVersion: push.policy_version, rulesHash: push.rules_hash });
        try {
          const outcome = applyPolicyPush(this.held, push);
          if (outcome.kind === 'applied') {
            stats.pushesApplied++;
            this.apply(outcome.held, 'push');
            // a retry still pending (e.g. after policy_not_computed) has nothing left to fetch
            if (this.fetchTimer) {
              clearTimeout(this.fetchTimer);
              this.fetchTimer = null;
            }
          } else if (outcome.kind === 'fetch') {
            stats.pushesFetched++;
            void this.fetchPolicy();
          } else stats.pushesStale++;
        } catch (err) {
          if (!(err instanceof PolicyVerificationError)) throw err;
          stats.verifyErrors++;
          stats.error('push verification', `${this.agentId}: ${err.message}`);
          this.fullNext = true;
          void this.fetchPolicy();
        }
        return;
      }
      case 'reassign':
        stats.reassignPushes++;
        this.moveTo(push.target_pce_fqdn, 'push');
        return;
      case 'listen_only':
        stats.listenOnlyPushes++;
        return;
      case 'unpaired':
        stats.unpaired++;
        this.halt('unpaired');
        return;
      default:
        stats.error('push: unknown type', text.slice(0, 200));
    }
  }

  // ------------------------------------------------------------------------------------------ move, flows, goodbye

  /** After a failed heartbeat: the GSLB's answer for the VEN's subnet (cached for its TTL); a different PCE is a failover. */
  private async followGslb(): Promise<void> {
    const gslb = this.ctx.gslb;
    if (!gslb || this.state !== 'running') return;
    const answer = await gslb.resolve(this.home);
    if (!answer || answer === this.pce || this.state !== 'running') return;
    this.ctx.stats.gslbMoves++;
    this.moveTo(answer.fqdn, 'gslb');
  }

  /** Moves to the PCE named `fqdn`: heartbeats there (it takes the VEN over), reopens the channel there. */
  moveTo(fqdn: string, why: 'heartbeat' | 'push' | 'gslb'): void {
    if (this.state !== 'running') return;
    const target = this.ctx.pces.get(fqdn);
    if (!target) {
      this.ctx.stats.error(`move (${why}): unknown PCE`, `${this.agentId} told to move to ${fqdn}, not in the state file`);
      this.schedule(jittered(this.intervalMs, this.random));
      return;
    }
    if (target === this.pce) {
      if (why === 'push') this.heartbeatNow();
      return;
    }
    this.ctx.stats.moves++;
    this.pce = target;
    const old = this.ws;
    this.ws = null;
    if (this.wsTimer) clearTimeout(this.wsTimer);
    this.wsTimer = null;
    if (old) {
      if (old.readyState === WebSocket.OPEN) this.ctx.stats.channelOpen--;
      old.removeAllListeners();
      old.on('error', () => undefined);
      old.close(1000, 'moving');
    }
    // heartbeat first (the target takes the VEN over), then the channel
    this.heartbeatNow();
    this.connect();
  }

  private async reportFlows(): Promise<void> {
    const now = Date.now();
    const flows: FlowSummaryRequestV1['flows'] = Array.from({ length: 1 + Math.floor(this.random() * 4) }, (_, i) => ({
      src_ip: `10.250.${i}.${1 + Math.floor(this.random() * 250)}`,
      dst_ip: this.address,
      dst_port: [22, 443, 5432, 8080][i] ?? 443,
      proto: 6,
      count: 1 + Math.floor(this.random() * 100),
      action: 'allowed',
      first_seen: now - 60_000,
      last_seen: now,
    }));
    try {
      const answer = await this.call('flows', { flows });
      if (answer.status === 401) return this.lostAgent('flows', answer);
      if (answer.status === 202) this.ctx.stats.flowsSent++;
      else {
        this.ctx.stats.flowErrors++;
        this.ctx.stats.error(`flows ${answer.status} ${errorToken(answer) ?? ''}`, answer.text);
      }
    } catch (err) {
      this.ctx.stats.flowErrors++;
      this.ctx.stats.error(`flows ${(err as NetworkError).code ?? 'error'}`, (err as Error).message);
    }
  }

  /** Stops: timers and channel; with `goodbye`, tells the PCE first (204). */
  async stop(goodbye: boolean): Promise<void> {
    if (this.state !== 'running') return;
    this.halt('stopped');
    if (!goodbye) return;
    try {
      const answer = await this.call('goodbye', {});
      if (answer.status === 204) this.ctx.stats.goodbyes++;
      else {
        this.ctx.stats.goodbyeErrors++;
        this.ctx.stats.error(`goodbye ${answer.status} ${errorToken(answer) ?? ''}`, answer.text);
      }
    } catch (err) {
      this.ctx.stats.goodbyeErrors++;
      this.ctx.stats.error(`goodbye ${(err as NetworkError).code ?? 'error'}`, (err as Error).message);
    }
  }
}

/**
 * The `applied_at` a VEN reports after applying `next` over `previous`: when it applied the policy version and
 * rules it holds (docs/ven-protocol.md). New set contents under the same version and rules leave it as it was, so
 * that it, and the policy arrival the PCE derives from it, keep naming that version's arrival.
 */
export function appliedAtAfter(previous: HeldPolicy | null, next: HeldPolicy, appliedAt: number | null, now: number): number {
  if (appliedAt === null || previous === null || previous.version !== next.version || previous.rulesHash !== next.rulesHash) return now;
  return appliedAt;
}

/** Whether a VEN holding `held` must fetch to hold what the PCE says (an older answer than what is held is ignored). */
export function needsFetch(held: HeldPolicy | null, expected: { readonly policyVersion: number | null; readonly rulesHash: string | null }): boolean {
  if (expected.policyVersion === null || expected.rulesHash === null) return held === null;
  if (!held) return true;
  if (held.version > expected.policyVersion) return false;
  return held.version < expected.policyVersion || held.rulesHash !== expected.rulesHash;
}
