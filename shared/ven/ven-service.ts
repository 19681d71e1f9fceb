/**
 * The VEN protocol's use cases on the PCE a VEN reached (docs/ven-protocol.md): activate (pairing),
 * heartbeat (with take-over after a failover or a reassignment), policy fetch (full or delta), flow
 * summaries, goodbye, and the offline sweep of the VENs this PCE manages. Every PCE runs them, leader or
 * member: nothing here depends on the leader, the lease or another region (keys generated elsewhere are
 * the pairing service's concern).
 *
 * The heartbeat is the hot path (thousands of VENs per PCE): it costs one durable write (the heartbeat
 * item in this PCE's local table). The VEN's credential and workload are kept in memory for
 * STATE_TTL_MS and the policy view is cached, so neither is read per heartbeat; a state change (online
 * again, new interfaces, take-over) writes this PCE's agent item once.
 */
import { randomUUID } from 'node:crypto';
import type { EnforcementMode, LabelId } from '../policy/model.ts';
import { DEFAULT_TIMEOUTS, NEVER, timeoutFor, type WorkloadSettings } from '../settings/workload-settings.ts';
import { interfaceFromInput, parseOrThrow, targetPceOf, venHref, workloadHref, type ManagedAgent, type Workload, type WorkloadInterface } from '../workloads/workload.ts';
import { generateAgentToken, type VenAuthenticator } from './auth.ts';
import { AgentLimitError, ListenOnlyError, PolicyNotComputedError, VenUnknownError } from './errors.ts';
import type { AgentCountStore, FlowSummaryStore, HeartbeatStore, ListenOnlyStore, ManagedWorkloadStore, VenPolicyView, VenPrincipal } from './ports.ts';
import type { PceAvailability } from './target-availability.ts';
import {
  activateRequestV1,
  flowSummaryRequestV1,
  goodbyeRequestV1,
  heartbeatRequestV1,
  policyRequestV1,
  type ActivateResponseV1,
  type HeartbeatResponseV1,
  type PolicyResponseV1,
} from './protocol.ts';

/** How often each PCE sweeps its VENs for offline ones (the CDK schedule and the local cloud's timer). */
export const VEN_SWEEP_INTERVAL_SECONDS = 60;

/** How long a VEN's workload state is trusted from memory on the heartbeat path. */
export const STATE_TTL_MS = 10_000;
/** How long listen-only mode is trusted from memory. */
const LISTEN_ONLY_TTL_MS = 1_000;

/** What a pairing key gave (shared/pairing). */
export interface RedeemedPairingKey {
  readonly orgId: number;
  readonly profile: { readonly id: number; readonly labels: readonly LabelId[]; readonly enforcementMode: EnforcementMode; readonly visibilityLevel: string | null };
}

export interface PairingRedeemer {
  /** consumes one use of the key (typed errors, 4xx, when it cannot) */
  redeem(input: { activationCode: string; now: number }): Promise<RedeemedPairingKey>;
}

export interface VenServiceDeps {
  readonly pce: { readonly fqdn: string; readonly region: string };
  /** object_limits.active_agents_per_pce */
  readonly agentLimit: number;
  readonly heartbeatIntervalSeconds: number;
  /** the VEN channel URL handed to VENs (null: no push channel; VENs rely on heartbeats) */
  readonly pushUrl: string | null;
  readonly pairing: PairingRedeemer;
  readonly authenticator: VenAuthenticator;
  readonly workloads: ManagedWorkloadStore;
  /** every workload of the org (the offline sweep) */
  readonly listWorkloads: (orgId: number) => Promise<Workload[]>;
  readonly settings: (orgId: number) => Promise<WorkloadSettings>;
  readonly heartbeats: HeartbeatStore;
  readonly agentCount: AgentCountStore;
  readonly flows: FlowSummaryStore;
  readonly listenOnly: ListenOnlyStore;
  readonly policy: VenPolicyView;
  /** whether a VEN should go to its target PCE now (absent: always) */
  readonly availability?: PceAvailability | undefined;
  readonly now?: () => number;
  readonly newId?: () => string;
}

export interface SweepOutcome {
  readonly managed: number;
  readonly markedOffline: number;
  readonly skipped?: string;
}

function sameInterfaces(a: readonly WorkloadInterface[], b: readonly WorkloadInterface[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class VenService {
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly states = new Map<string, { workload: Workload; until: number }>();
  private listenOnlyCache: { enabledAt: number | null; until: number } | null = null;

  constructor(private readonly deps: VenServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomUUID;
  }

  // ------------------------------------------------------------------------------------------ auth

  /** The VEN behind an Authorization header, with its workload; 401 (ven_unknown) when this PCE does not know it. */
  async authenticate(header: string | undefined): Promise<{ principal: VenPrincipal; workload: Workload }> {
    const principal = await this.deps.authenticator.authenticate(header);
    if (!principal) throw new VenUnknownError();
    const workload = await this.state(principal);
    if (!workload?.agent) {
      this.deps.authenticator.forget(principal.agentId);
      throw new VenUnknownError();
    }
    return { principal, workload };
  }

  private async state(p: VenPrincipal, fresh = false): Promise<Workload | null> {
    const now = this.now();
    const cached = this.states.get(p.agentId);
    if (!fresh && cached && cached.until > now) return cached.workload;
    const workload = await this.deps.workloads.get(p.orgId, p.workloadId, { consistent: fresh });
    if (workload?.agent) this.remember(p.agentId, workload);
    else this.states.delete(p.agentId);
    return workload;
  }

  private remember(agentId: string, workload: Workload): void {
    if (this.states.size > 200_000) this.states.clear();
    this.states.set(agentId, { workload, until: this.now() + STATE_TTL_MS });
  }

  private async listenOnlySince(): Promise<number | null> {
    const now = this.now();
    if (this.listenOnlyCache && this.listenOnlyCache.until > now) return this.listenOnlyCache.enabledAt;
    const state = await this.deps.listenOnly.get();
    this.listenOnlyCache = { enabledAt: state?.enabledAt ?? null, until: now + LISTEN_ONLY_TTL_MS };
    return this.listenOnlyCache.enabledAt;
  }

  // ------------------------------------------------------------------------------------------ activate

  async activate(body: unknown): Promise<ActivateResponseV1> {
    const input = parseOrThrow(activateRequestV1, body);
    const { fqdn, region } = this.deps.pce;
    // the limit first: a full PCE must not use up a key
    if (!(await this.deps.agentCount.reserve(this.deps.agentLimit))) throw new AgentLimitError(fqdn, this.deps.agentLimit);
    let paired = false;
    try {
      const now = this.now();
      const key = await this.deps.pairing.redeem({ activationCode: input.activation_code, now });
      const agentId = this.newId();
      const workloadId = this.newId();
      const { token, tokenHash } = generateAgentToken(agentId);
      const agent: ManagedAgent = {
        agentId,
        pceFqdn: fqdn,
        region,
        since: now,
        pairedPceFqdn: fqdn,
        pairedAt: now,
        pairingProfileId: key.profile.id,
        hostname: input.hostname,
        osId: input.os_id ?? null,
        osDetail: input.os_detail ?? null,
        agentVersion: input.agent_version ?? null,
        status: 'active',
        interfaces: input.interfaces.map(interfaceFromInput),
        online: true,
        labels: [...key.profile.labels],
        enforcementMode: key.profile.enforcementMode,
        visibilityLevel: key.profile.visibilityLevel,
        updatedAt: now,
      };
      await this.deps.workloads.pair({ agentId, orgId: key.orgId, workloadId, tokenHash, originRegion: region, createdAt: now }, key.orgId, workloadId, agent);
      paired = true;
      return {
        agent_id: agentId,
        agent_token: token,
        workload_href: workloadHref(key.orgId, workloadId),
        ven_href: venHref(key.orgId, agentId),
        pce_fqdn: fqdn,
        heartbeat_interval_seconds: this.deps.heartbeatIntervalSeconds,
        push_url: this.deps.pushUrl ?? '',
      };
    } finally {
      if (!paired) await this.deps.agentCount.release();
    }
  }

  // ------------------------------------------------------------------------------------------ heartbeat

  async heartbeat(p: VenPrincipal, current: Workload, body: unknown): Promise<HeartbeatResponseV1> {
    const input = parseOrThrow(heartbeatRequestV1, body);
    const now = this.now();
    const interfaces = input.interfaces?.map(interfaceFromInput);
    const workload = await this.recordPresence(p, current, interfaces, now);
    await this.deps.heartbeats.put(p.orgId, {
      agentId: p.agentId,
      workloadId: p.workloadId,
      lastHeartbeatAt: now,
      uptimeSeconds: input.uptime_seconds,
      appliedVersion: input.policy_version,
      appliedRulesHash: input.rules_hash,
      appliedAt: input.applied_at ?? null,
      goodbyeAt: null,
    });
    const listenOnly = (await this.listenOnlySince()) !== null;
    const expected = listenOnly ? null : await this.deps.policy.current(p.orgId, p.workloadId);
    const target = targetPceOf(workload) ?? this.deps.pce.fqdn;
    return {
      policy_version: expected ? expected.policyVersion : input.policy_version,
      rules_hash: expected ? expected.rulesHash : input.rules_hash,
      active_pce_fqdn: this.deps.pce.fqdn,
      target_pce_fqdn: target,
      target_available: target === this.deps.pce.fqdn || ((await this.deps.availability?.available(target)) ?? true),
      listen_only: listenOnly,
      heartbeat_interval_seconds: this.deps.heartbeatIntervalSeconds,
    };
  }

  /**
   * The VEN is here and alive: this PCE takes it over when another PCE managed it (a failover through
   * the GSLB, or a reassignment: arrivals are never refused for the object limit), and marks it online
   * with its interfaces. Writes only this PCE's agent item, and only when something changed.
   */
  private async recordPresence(p: VenPrincipal, current: Workload, interfaces: readonly WorkloadInterface[] | undefined, now: number): Promise<Workload> {
    const { fqdn, region } = this.deps.pce;
    for (let attempt = 0; attempt < 3; attempt++) {
      const workload = attempt === 0 ? current : await this.state(p, true);
      const a = workload?.agent;
      if (!workload || !a) throw new VenUnknownError();
      const here = a.pceFqdn === fqdn;
      const changedInterfaces = interfaces !== undefined && !sameInterfaces(interfaces, a.interfaces);
      if (here && a.online && a.status === 'active' && !changedInterfaces) return workload;
      const next: ManagedAgent = {
        ...a,
        pceFqdn: fqdn,
        region,
        since: here ? a.since : Math.max(now, a.since + 1),
        status: 'active',
        online: true,
        interfaces: interfaces ?? a.interfaces,
        updatedAt: Math.max(now, a.updatedAt + 1),
      };
      // this PCE's own item: conditional on what it last wrote (a take-over replaces whatever it had)
      const ok = await this.deps.workloads.putAgent(p.orgId, p.workloadId, next, here ? a.updatedAt : undefined);
      if (!ok) continue;
      if (!here) await this.deps.agentCount.reserve(null);
      const updated: Workload = { ...workload, agent: next, meta: { ...workload.meta, managingPceFqdn: fqdn }, context: { interfaces: next.interfaces, publicIp: null, online: true, updatedAt: next.updatedAt } };
      this.remember(p.agentId, updated);
      return updated;
    }
    return current;
  }

  // ------------------------------------------------------------------------------------------ policy, flows, goodbye

  async policy(p: VenPrincipal, body: unknown): Promise<PolicyResponseV1> {
    const input = parseOrThrow(policyRequestV1, body);
    if ((await this.listenOnlySince()) !== null) throw new ListenOnlyError(this.deps.pce.fqdn);
    const answer = await this.deps.policy.fetch(p.orgId, p.workloadId, input.have);
    if (!answer) throw new PolicyNotComputedError();
    return answer;
  }

  async flows(p: VenPrincipal, body: unknown): Promise<{ accepted: number }> {
    const input = parseOrThrow(flowSummaryRequestV1, body);
    await this.deps.flows.put(p.orgId, p.agentId, input.flows, this.now());
    return { accepted: input.flows.length };
  }

  async goodbye(p: VenPrincipal, body: unknown): Promise<void> {
    parseOrThrow(goodbyeRequestV1, body);
    const now = this.now();
    const last = await this.deps.heartbeats.get(p.orgId, p.agentId);
    await this.deps.heartbeats.put(p.orgId, {
      agentId: p.agentId,
      workloadId: p.workloadId,
      lastHeartbeatAt: last?.lastHeartbeatAt ?? now,
      uptimeSeconds: last?.uptimeSeconds ?? 0,
      appliedVersion: last?.appliedVersion ?? null,
      appliedRulesHash: last?.appliedRulesHash ?? null,
      appliedAt: last?.appliedAt ?? null,
      goodbyeAt: now,
    });
  }

  // ------------------------------------------------------------------------------------------ offline sweep

  /**
   * Marks offline the VENs this PCE manages that sent no heartbeat for the workload's
   * `workload_disconnected_timeout_seconds` (`workload_goodbye_timeout_seconds` after a goodbye); an offline
   * workload leaves its peers' policy. Suspended in listen-only mode (the seed). Also recounts the VENs
   * this PCE manages for the object limit.
   */
  async sweepOffline(orgId: number): Promise<SweepOutcome> {
    const { fqdn } = this.deps.pce;
    const [workloads, heartbeats, settings, listenOnly] = await Promise.all([
      this.deps.listWorkloads(orgId),
      this.deps.heartbeats.list(orgId),
      this.deps.settings(orgId).catch(() => ({ orgId, timeouts: DEFAULT_TIMEOUTS, updatedAt: null, updatedBy: null })),
      this.deps.listenOnly.get(),
    ]);
    const mine = workloads.filter((w) => w.agent?.pceFqdn === fqdn);
    await this.deps.agentCount.set(mine.length);
    if (listenOnly) return { managed: mine.length, markedOffline: 0, skipped: 'listen-only mode' };
    const byAgent = new Map(heartbeats.map((h) => [h.agentId, h]));
    const now = this.now();
    let markedOffline = 0;
    for (const w of mine) {
      const a = w.agent as ManagedAgent;
      if (!a.online) continue;
      const hb = byAgent.get(a.agentId);
      const last = Math.max(hb?.lastHeartbeatAt ?? 0, a.since);
      const goodbye = hb?.goodbyeAt != null && hb.goodbyeAt >= last;
      const timeout = goodbye ? timeoutFor(settings, 'workload_goodbye_timeout_seconds', w.meta.labels) : timeoutFor(settings, 'workload_disconnected_timeout_seconds', w.meta.labels);
      if (timeout === NEVER) continue;
      const from = goodbye ? (hb?.goodbyeAt as number) : last;
      if (now - from <= timeout * 1000) continue;
      const next: ManagedAgent = { ...a, online: false, status: goodbye ? 'stopped' : a.status, updatedAt: Math.max(now, a.updatedAt + 1) };
      if (await this.deps.workloads.putAgent(orgId, w.id, next, a.updatedAt)) markedOffline++;
    }
    return { managed: mine.length, markedOffline };
  }
}
