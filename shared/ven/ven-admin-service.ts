/**
 * VENs as people and API clients see them (`/orgs/{org}/vens`, `/orgs/{org}/agents/{id}/update`,
 * `.../vens/unpair`, `.../workloads/unpair`): reads on every PCE, writes on the leader only (the leader
 * gate and the leader fence), as the leader's meta item of the workload (ADR 0008): the target PCE and
 * unpairing. The VEN learns a new target from its managing PCE (a push, and the next heartbeat).
 */
import { z } from 'zod';
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../api/leader-fence.ts';
import { ValidationError, notFound, type ErrorEntry } from '../api/errors.ts';
import type { Actor } from '../labels/label-service.ts';
import type { WorkloadId } from '../policy/model.ts';
import type { SuperclusterConfig } from '../supercluster/config.ts';
import type { LeaderView } from '../supercluster/leader.ts';
import {
  agentToJson,
  parseOrThrow,
  targetPceOf,
  venHref,
  workloadHref,
  workloadIdFromHref,
  workloadUpdatedAt,
  type AgentLiveStatus,
  type ManagedAgent,
  type Workload,
  type WorkloadStore,
} from '../workloads/workload.ts';
import { AgentLimitError } from './errors.ts';
import type { HeartbeatStore, VenPolicyView } from './ports.ts';
import { VEN_STATUSES } from '../workloads/workload.ts';

export interface VenFilter {
  readonly hostname?: string;
  readonly status?: string;
  readonly activePceFqdn?: string;
}

export interface VenAdminServiceDeps {
  readonly config: SuperclusterConfig;
  readonly selfFqdn: string;
  readonly workloads: WorkloadStore;
  readonly leader: LeaderView;
  readonly heartbeats: HeartbeatStore;
  readonly policy: VenPolicyView;
  readonly now?: () => number;
}

const VEN_HREF = /^\/orgs\/(\d{1,15})\/(?:vens|agents)\/([0-9a-f-]{36})$/;

export function venUpdateSchema(pceFqdns: readonly string[]) {
  return z
    .strictObject({
      target_pce_fqdn: z.string().refine((v) => pceFqdns.includes(v), { message: `must be the FQDN of a PCE of this supercluster (${pceFqdns.join(', ')})` }).optional(),
      name: z.string().max(255).nullable().optional(),
      description: z.string().max(4096).nullable().optional(),
    })
    .refine((b) => Object.keys(b).length > 0, { message: 'send at least one VEN property (target_pce_fqdn, name, description)' });
}

const unpairVensSchema = z.looseObject({ hrefs: z.array(z.string()).min(1, 'name at least one VEN').max(1000, 'at most 1000 VENs') });
const unpairWorkloadsSchema = z.looseObject({ workloads: z.array(z.strictObject({ href: z.string() }).loose()).min(1, 'name at least one workload').max(1000, 'at most 1000 workloads') });

export class VenAdminService {
  private readonly now: () => number;
  private readonly updateSchema;

  constructor(private readonly deps: VenAdminServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.updateSchema = venUpdateSchema(deps.config.pces.map((p) => p.fqdn));
  }

  /** Heartbeat, uptime and policy sync of the VENs this PCE manages (one Query of its heartbeats); the others are absent. */
  async liveStatus(orgId: number, workloads: readonly Workload[]): Promise<Map<WorkloadId, AgentLiveStatus>> {
    const mine = workloads.filter((w) => w.agent?.pceFqdn === this.deps.selfFqdn);
    const out = new Map<WorkloadId, AgentLiveStatus>();
    if (mine.length === 0) return out;
    const beats = new Map((await this.deps.heartbeats.list(orgId)).map((h) => [h.agentId, h]));
    for (const w of mine) {
      const hb = beats.get((w.agent as ManagedAgent).agentId);
      const expected = await this.deps.policy.current(orgId, w.id);
      out.set(w.id, {
        lastHeartbeatAt: hb?.lastHeartbeatAt ?? null,
        uptimeSeconds: hb?.uptimeSeconds ?? null,
        appliedVersion: hb?.appliedVersion ?? null,
        appliedRulesHash: hb?.appliedRulesHash ?? null,
        appliedAt: hb?.appliedAt ?? null,
        goodbyeAt: hb?.goodbyeAt ?? null,
        expectedVersion: expected?.policyVersion ?? null,
        expectedRulesHash: expected?.rulesHash ?? null,
        expectedAvailableAt: expected?.availableAt ?? null,
      });
    }
    return out;
  }

  async list(orgId: number, filter: VenFilter, maxResults: number): Promise<{ items: ReturnType<typeof venToJson>[]; total: number }> {
    if (filter.status !== undefined && !(VEN_STATUSES as readonly string[]).includes(filter.status)) {
      throw new ValidationError([{ token: 'input_validation_error', message: `status must be one of ${VEN_STATUSES.join(', ')}, got "${filter.status}"` }]);
    }
    const all = (await this.deps.workloads.list(orgId)).filter((w) => w.agent && matches(w, filter));
    all.sort((a, b) => (a.agent as ManagedAgent).pairedAt - (b.agent as ManagedAgent).pairedAt || (a.id < b.id ? -1 : 1));
    const page = all.slice(0, maxResults);
    const live = await this.liveStatus(orgId, page);
    return { items: page.map((w) => venToJson(w, live.get(w.id) ?? null)), total: all.length };
  }

  async get(orgId: number, agentId: string): Promise<ReturnType<typeof venToJson>> {
    const w = await this.byAgent(orgId, agentId);
    const live = await this.liveStatus(orgId, [w]);
    return venToJson(w, live.get(w.id) ?? null);
  }

  /**
   * The leader's changes to a VEN: its target PCE (reassignment, within the target's
   * `active_agents_per_pce`) and names. 204; the managing PCE tells the VEN.
   */
  async update(actor: Actor, agentId: string, body: unknown): Promise<void> {
    const input = parseOrThrow(this.updateSchema, body);
    const fence = await requireLeaderFence(this.deps.leader);
    const all = await this.deps.workloads.list(actor.orgId, { consistent: true });
    const current = all.find((w) => w.agent?.agentId === agentId);
    if (!current) throw notFound(`VEN ${agentId}`);
    const target = input.target_pce_fqdn;
    if (target !== undefined && target !== targetPceOf(current)) {
      const limit = this.deps.config.object_limits.active_agents_per_pce;
      // what the target PCE will manage: its VENs and those already sent there (this one excluded)
      const load = all.filter((w) => w.id !== current.id && w.agent && (w.agent.pceFqdn === target || targetPceOf(w) === target)).length;
      if (load >= limit) throw new AgentLimitError(target, limit);
    }
    const now = Math.max(this.now(), current.meta.updatedAt + 1);
    const next: Workload = {
      ...current,
      meta: { ...current.meta, name: input.name !== undefined ? input.name : current.meta.name, description: input.description !== undefined ? input.description : current.meta.description, updatedAt: now, updatedBy: actor.userId },
      targetPceFqdn: target ?? current.targetPceFqdn ?? null,
    };
    const [outcome] = await this.deps.workloads.apply([{ kind: 'update', current, next }], fence);
    if (outcome === 'fence_failed') throw await notLeaderAfterFenceFailure(this.deps.leader);
    if (outcome === 'not_found') throw notFound(`VEN ${agentId}`);
    if (outcome === 'conflict') throw new ValidationError([{ token: 'ven_conflict', message: 'the VEN changed while being written; retry' }]);
  }

  /** `PUT /orgs/{org}/vens/unpair` `{hrefs: [ven hrefs]}`. */
  async unpairVens(actor: Actor, body: unknown): Promise<void> {
    const input = parseOrThrow(unpairVensSchema, body);
    await this.unpair(actor, input.hrefs.map((href) => ({ href, agentId: this.idOf(actor.orgId, href, VEN_HREF) })));
  }

  /** `PUT /orgs/{org}/workloads/unpair` `{workloads: [{href}]}`. */
  async unpairWorkloads(actor: Actor, body: unknown): Promise<void> {
    const input = parseOrThrow(unpairWorkloadsSchema, body);
    await this.unpair(actor, input.workloads.map(({ href }) => ({ href, workloadId: workloadIdFromHref(actor.orgId, href) })));
  }

  private idOf(orgId: number, href: string, pattern: RegExp): string | null {
    const m = pattern.exec(href);
    return m?.[2] && Number(m[1]) === orgId ? m[2] : null;
  }

  private async unpair(actor: Actor, refs: readonly { href: string; agentId?: string | null; workloadId?: string | null }[]): Promise<void> {
    const fence = await requireLeaderFence(this.deps.leader);
    const all = await this.deps.workloads.list(actor.orgId, { consistent: true });
    const errors: ErrorEntry[] = [];
    const targets: Workload[] = [];
    for (const ref of refs) {
      const w = all.find((x) => x.agent && (ref.agentId ? x.agent.agentId === ref.agentId : x.id === ref.workloadId));
      if (!w) errors.push({ token: 'not_found', message: `${ref.href} is not a paired VEN or managed workload of org ${actor.orgId}` });
      else targets.push(w);
    }
    if (errors.length > 0) throw new ValidationError(errors);
    const now = this.now();
    const outcomes = await this.deps.workloads.apply(
      targets.map((current) => ({ kind: 'update' as const, current, next: { ...current, meta: { ...current.meta, updatedAt: Math.max(now, workloadUpdatedAt(current) + 1, current.meta.updatedAt + 1), updatedBy: actor.userId }, unpairedAt: now } })),
      fence,
    );
    if (outcomes.includes('fence_failed')) throw await notLeaderAfterFenceFailure(this.deps.leader);
  }

  private async byAgent(orgId: number, agentId: string): Promise<Workload> {
    const w = (await this.deps.workloads.list(orgId)).find((x) => x.agent?.agentId === agentId);
    if (!w) throw notFound(`VEN ${agentId}`);
    return w;
  }
}

function matches(w: Workload, f: VenFilter): boolean {
  const a = w.agent as ManagedAgent;
  if (f.hostname !== undefined && !a.hostname.toLowerCase().includes(f.hostname.toLowerCase())) return false;
  if (f.status !== undefined && a.status !== f.status) return false;
  if (f.activePceFqdn !== undefined && a.pceFqdn !== f.activePceFqdn) return false;
  return true;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A VEN as Illumio's API shows it (`/orgs/{org}/vens/{uuid}`); heartbeats only on its managing PCE. */
export function venToJson(w: Workload, live: AgentLiveStatus | null) {
  const a = w.agent as ManagedAgent;
  const agent = agentToJson(w, a, live);
  return {
    href: venHref(w.orgId, a.agentId),
    uid: a.agentId,
    name: w.meta.name,
    description: w.meta.description,
    hostname: a.hostname,
    os_id: a.osId,
    os_detail: a.osDetail,
    version: a.agentVersion,
    status: a.status,
    ven_type: 'server',
    activation_type: 'pairing_key',
    online: a.online,
    enforcement_mode: w.meta.enforcementMode,
    visibility_level: agent.config.visibility_level,
    labels: w.meta.labels.map((id) => ({ href: `/orgs/${w.orgId}/labels/${id}` })),
    interfaces: a.interfaces.map((i) => ({ name: i.name, address: i.address, cidr_block: i.cidrBlock, default_gateway_address: i.defaultGatewayAddress, link_state: i.linkState })),
    workloads: [{ href: workloadHref(w.orgId, w.id) }],
    active_pce_fqdn: a.pceFqdn,
    target_pce_fqdn: targetPceOf(w),
    last_heartbeat_at: iso(live?.lastHeartbeatAt ?? null),
    last_heartbeat_on: iso(live?.lastHeartbeatAt ?? null),
    uptime_seconds: live?.uptimeSeconds ?? null,
    /** the PCE whose local table has this VEN's heartbeats (other PCEs show them as null) */
    heartbeat_pce_fqdn: a.pceFqdn,
    security_policy_sync_state: agent.status.security_policy_sync_state,
    security_policy_applied_at: agent.status.security_policy_applied_at,
    security_policy_available_at: agent.status.security_policy_available_at,
    security_policy_arrival_seconds: agent.status.security_policy_arrival_seconds,
    created_at: new Date(a.pairedAt).toISOString(),
    updated_at: new Date(workloadUpdatedAt(w)).toISOString(),
    conditions: [],
  };
}
