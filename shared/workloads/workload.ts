/**
 * Workloads: the domain model, the request schemas and the public JSON view.
 *
 * A workload is stored as two replicated items with one writer each (ADR 0001, shared/storage/workload-keys.ts):
 * `meta` (leader-written: names, labels, enforcement mode, external data, managing PCE) and `context`
 * (written by the managing PCE: interfaces, public IP, online; the leader for unmanaged workloads).
 * The API shows them merged. A managed workload (paired by a VEN) adds one `agent` item per PCE that has
 * managed it, written only by that PCE (ADR 0008): the newest claim (`since`) manages the workload, and its
 * agent item carries the context (interfaces, online) and what pairing chose (labels, enforcement mode)
 * until the leader writes a `meta` item of its own.
 */
import { isIP } from 'node:net';
import { formatIpv4, formatIpv6, parseCidr } from '../policy/ip/index.ts';
import { parseIpAddress } from '../policy/objects/ip.ts';
import { z } from 'zod';
import { inventoryFields, inventoryToJson, type WorkloadInventory } from './inventory.ts';
import { ValidationError, type ErrorEntry } from '../api/errors.ts';
import { issuesToEntries } from '../api/validation.ts';
import type { Label } from '../labels/label.ts';
import { ENFORCEMENT_MODES, type EnforcementMode, type LabelId, type WorkloadFacts, type WorkloadId } from '../policy/model.ts';
import type { WriteFence } from '../supercluster/leader.ts';

export const LINK_STATES = ['up', 'down', 'unknown'] as const;
export type LinkState = (typeof LINK_STATES)[number];

export interface WorkloadInterface {
  readonly name: string;
  readonly address: string;
  readonly cidrBlock: number | null;
  readonly defaultGatewayAddress: string | null;
  readonly linkState: LinkState | null;
}

/** The leader-written part. */
export interface WorkloadMeta {
  readonly name: string | null;
  readonly hostname: string | null;
  readonly description: string | null;
  readonly labels: readonly LabelId[];
  readonly enforcementMode: EnforcementMode;
  readonly osId: string | null;
  readonly osDetail: string | null;
  readonly externalDataSet: string | null;
  readonly externalDataReference: string | null;
  /** The PCE that computes this workload's policy (a PCE FQDN of the config), null = none. */
  readonly managingPceFqdn: string | null;
  /** data center, zone, distinguished name, service provider, ignored interfaces (inventory.ts); absent = none */
  readonly inventory?: WorkloadInventory;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly createdBy: number;
  readonly updatedBy: number;
}

/** The part written by the managing PCE (the leader for unmanaged workloads). */
export interface WorkloadContext {
  readonly interfaces: readonly WorkloadInterface[];
  readonly publicIp: string | null;
  readonly online: boolean;
  readonly updatedAt: number;
}

export const VEN_STATUSES = ['active', 'suspended', 'stopped', 'uninstalled'] as const;
export type VenStatus = (typeof VEN_STATUSES)[number];

/** A managed workload as one PCE manages it (its `agent` item; written only by that PCE). */
export interface ManagedAgent {
  /** the VEN's id (also its credential's key); the VEN href is /orgs/{org}/vens/{agentId} */
  readonly agentId: string;
  /** the PCE whose item this is, and since when it manages the workload (the newest claim wins) */
  readonly pceFqdn: string;
  readonly region: string;
  readonly since: number;
  /** the PCE that paired the VEN: where it belongs unless the leader sets a target */
  readonly pairedPceFqdn: string;
  readonly pairedAt: number;
  readonly pairingProfileId: number | null;
  readonly hostname: string;
  readonly osId: string | null;
  readonly osDetail: string | null;
  readonly agentVersion: string | null;
  readonly status: VenStatus;
  readonly interfaces: readonly WorkloadInterface[];
  readonly online: boolean;
  /** what pairing chose, until the leader writes the workload's meta item */
  readonly labels: readonly LabelId[];
  readonly enforcementMode: EnforcementMode;
  readonly visibilityLevel: string | null;
  readonly updatedAt: number;
}

export interface Workload {
  readonly orgId: number;
  readonly id: WorkloadId;
  readonly meta: WorkloadMeta;
  /** null while the context item has not reached this replica (or was never written) */
  readonly context: WorkloadContext | null;
  /** managed workloads: the agent item of the PCE that manages it now (absent/null: unmanaged) */
  readonly agent?: ManagedAgent | null;
  /** false when `meta` is derived from the agent item (the leader has not written a meta item yet) */
  readonly metaStored?: boolean;
  /** managed workloads: the leader's choice of PCE (null: the pairing PCE) */
  readonly targetPceFqdn?: string | null;
  /** set by the leader's unpair: the workload is gone from every view, its VEN refused */
  readonly unpairedAt?: number | null;
}

/** Where a managed workload's VEN belongs: the leader's target, else the PCE that paired it. */
export function targetPceOf(w: Workload): string | null {
  return w.agent ? (w.targetPceFqdn ?? w.agent.pairedPceFqdn) : null;
}

/** The live state of a VEN that only its managing PCE knows (local table: heartbeats are not replicated). */
export interface AgentLiveStatus {
  readonly lastHeartbeatAt: number | null;
  readonly uptimeSeconds: number | null;
  readonly appliedVersion: number | null;
  readonly appliedRulesHash: string | null;
  readonly appliedAt: number | null;
  readonly goodbyeAt: number | null;
  /** what it should hold (this PCE's compiled policy) */
  readonly expectedVersion: number | null;
  readonly expectedRulesHash: string | null;
  /** since when this PCE has had what the VEN should hold stored (null or absent: unknown) */
  readonly expectedAvailableAt?: number | null;
}

export type ManagedWorkloadFacts = WorkloadFacts & { readonly managingPceFqdn: string | null };

// ---------------------------------------------------------------------------------------------------------
// Request schemas

const TOKEN_INVALID_IP = 'invalid_ip_address';

// the compiler's parser decides (it has no zone ids such as fe80::1%eth0): an address the API accepts always compiles
const ipAddress = z.string().refine((v) => parseIpAddress(v) !== null, { message: 'must be an IPv4 or IPv6 address (no zone id)', params: { token: TOKEN_INVALID_IP } });
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`).nullable();

export const interfaceSchema = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
    address: ipAddress,
    cidr_block: z.number().int().min(0).max(128).nullable().optional(),
    default_gateway_address: ipAddress.nullable().optional(),
    link_state: z.enum(LINK_STATES, { error: `must be one of ${LINK_STATES.join(', ')}` }).nullable().optional(),
  })
  .superRefine((i, ctx) => {
    const family = isIP(i.address);
    if (family === 4 && i.cidr_block != null && i.cidr_block > 32) {
      ctx.addIssue({ code: 'custom', path: ['cidr_block'], message: 'must be at most 32 for an IPv4 address', params: { token: 'invalid_cidr_block' } });
    }
    if (i.default_gateway_address != null && isIP(i.default_gateway_address) !== family) {
      ctx.addIssue({ code: 'custom', path: ['default_gateway_address'], message: 'must be of the same IP family as address', params: { token: TOKEN_INVALID_IP } });
    }
  });

/**
 * A label reference. Clients send back labels as they read them ({href, key, value}, e.g. the Python SDK's
 * Label objects): only `href` counts, other properties of a label are ignored.
 */
const labelRef = z.object({ href: z.string().regex(/^\/orgs\/\d{1,15}\/labels\/\d{1,15}$/, 'must be a label href such as /orgs/1/labels/7') });

/** The writable fields; `pceFqdns` are the PCE FQDNs of the supercluster config (managing_pce_fqdn). */
function fields(pceFqdns: readonly string[]) {
  return {
    name: text(255),
    hostname: text(255),
    description: text(4096),
    // null = no labels (the Terraform provider sends null for a workload without labels)
    labels: z.array(labelRef).max(100, 'at most 100 labels').nullable(),
    public_ip: ipAddress.nullable(),
    interfaces: z.array(interfaceSchema).max(256, 'at most 256 interfaces'),
    online: z.boolean(),
    enforcement_mode: z.enum(ENFORCEMENT_MODES, { error: `must be one of ${ENFORCEMENT_MODES.join(', ')}` }),
    os_id: text(255),
    os_detail: text(255),
    external_data_set: text(255),
    external_data_reference: text(255),
    managing_pce_fqdn: z
      .string()
      .refine((v) => pceFqdns.includes(v), { message: `must be the FQDN of a PCE of this supercluster (${pceFqdns.join(', ')}) or null`, params: { token: 'unknown_managing_pce_fqdn' } })
      .nullable(),
  };
}

type Fields = ReturnType<typeof fields>;
type OptionalFields = { [K in keyof Fields]: z.ZodOptional<Fields[K]> } & typeof inventoryFields;

function optionalFields(pceFqdns: readonly string[]): OptionalFields {
  const f = fields(pceFqdns);
  return {
    name: f.name.optional(),
    hostname: f.hostname.optional(),
    description: f.description.optional(),
    labels: f.labels.optional(),
    public_ip: f.public_ip.optional(),
    interfaces: f.interfaces.optional(),
    online: f.online.optional(),
    enforcement_mode: f.enforcement_mode.optional(),
    os_id: f.os_id.optional(),
    os_detail: f.os_detail.optional(),
    external_data_set: f.external_data_set.optional(),
    external_data_reference: f.external_data_reference.optional(),
    managing_pce_fqdn: f.managing_pce_fqdn.optional(),
    ...inventoryFields,
  };
}

export function workloadSchemas(pceFqdns: readonly string[]) {
  const create = z.strictObject(optionalFields(pceFqdns)).refine((b) => Boolean(b.name?.trim() || b.hostname?.trim()), {
    message: 'a workload needs a name or a hostname',
    params: { token: 'name_or_hostname_required' },
  });
  const update = z
    .strictObject(optionalFields(pceFqdns))
    .refine((b) => Object.keys(b).length > 0, { message: 'send at least one workload property', params: { token: 'empty_update' } });
  return { create, update };
}

export type WorkloadSchemas = ReturnType<typeof workloadSchemas>;
export type CreateWorkloadInput = z.infer<WorkloadSchemas['create']>;
export type UpdateWorkloadInput = z.infer<WorkloadSchemas['update']>;

function tokenOf(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === 'custom' && issue.params && typeof issue.params.token === 'string') return issue.params.token;
  if (issue.path[0] === 'enforcement_mode' && issue.code === 'invalid_value') return 'invalid_enforcement_mode';
  return undefined;
}

/** zod issues as Illumio-style entries, with a specific token for the workload rules. */
export function workloadIssueEntries(issues: readonly z.core.$ZodIssue[]): ErrorEntry[] {
  return issues.flatMap((issue) => {
    const entries = issuesToEntries([issue]);
    const token = tokenOf(issue);
    return token ? entries.map((e) => ({ ...e, token })) : entries;
  });
}

/** Parses with `schema` or returns the error entries (for bulk, where errors are per item). */
export function tryParse<S extends z.ZodType>(schema: S, input: unknown): { ok: true; value: z.infer<S> } | { ok: false; errors: ErrorEntry[] } {
  // reportInput: issuesToEntries tells a missing property from one of the wrong type by the issue's input
  const result = schema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: workloadIssueEntries(result.error.issues) };
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = tryParse(schema, input);
  if (!result.ok) throw new ValidationError(result.errors);
  return result.value;
}

// ---------------------------------------------------------------------------------------------------------
// Hrefs and the public view

export function workloadHref(orgId: number, id: WorkloadId): string {
  return `/orgs/${orgId}/workloads/${id}`;
}

const WORKLOAD_HREF = /^\/orgs\/(\d{1,15})\/workloads\/([a-zA-Z0-9-]{1,64})$/;

/** The workload id of an href of org `orgId`, or null. */
export function workloadIdFromHref(orgId: number, href: string): string | null {
  const m = WORKLOAD_HREF.exec(href);
  return m?.[2] && Number(m[1]) === orgId ? m[2] : null;
}

export function interfaceFromInput(i: z.infer<typeof interfaceSchema>): WorkloadInterface {
  return { name: i.name, address: i.address, cidrBlock: i.cidr_block ?? null, defaultGatewayAddress: i.default_gateway_address ?? null, linkState: i.link_state ?? null };
}

/** The context a workload shows while none is stored. */
export const EMPTY_CONTEXT: Omit<WorkloadContext, 'updatedAt'> = { interfaces: [], publicIp: null, online: false };

export function workloadUpdatedAt(w: Workload): number {
  return Math.max(w.meta.updatedAt, w.context?.updatedAt ?? 0);
}

/** The addresses of the workload's interfaces, without duplicates, in interface order. */
export function workloadIps(w: Workload): string[] {
  return [...new Set((w.context ?? EMPTY_CONTEXT).interfaces.map((i) => i.address))];
}

/** An interface's network as a CIDR ("10.1.2.0/24", host bits masked off), or its address when it has no prefix. */
export function interfaceNetwork(i: Pick<WorkloadInterface, 'address' | 'cidrBlock'>): string {
  if (i.cidrBlock === null) return i.address;
  const net = parseCidr(`${i.address}/${i.cidrBlock}`);
  return `${net.family === 4 ? formatIpv4(net.start) : formatIpv6(net.start)}/${i.cidrBlock}`;
}

/** The networks of the workload's interfaces (what `use_workload_subnets` rules see), without duplicates, in interface order. */
export function workloadSubnets(w: Workload): string[] {
  return [...new Set((w.context ?? EMPTY_CONTEXT).interfaces.map(interfaceNetwork))];
}

/**
 * What the compiler sees. An offline managed workload leaves its peers' policy (no addresses or subnets
 * in their sets) but keeps its own; an unmanaged workload has no agent to report it offline.
 */
export function toFacts(w: Workload): ManagedWorkloadFacts {
  const offline = w.agent != null && !w.agent.online;
  return {
    id: w.id,
    labels: [...w.meta.labels],
    ips: offline ? [] : workloadIps(w),
    subnets: offline ? [] : workloadSubnets(w),
    enforcementMode: w.meta.enforcementMode,
    managingPceFqdn: w.meta.managingPceFqdn,
  };
}

/** What the view shows of a label: Illumio lists a workload's labels as `{href, key, value}`. */
export type LabelNames = ReadonlyMap<LabelId, Pick<Label, 'key' | 'value'>>;

/**
 * The public JSON shape: META and CONTEXT merged. Labels carry key and value when `labels` knows them
 * (a label this replica does not hold yet shows as `{href}` only).
 */
export function workloadToJson(w: Workload, labels: LabelNames = new Map(), live?: AgentLiveStatus | null) {
  const context = w.context ?? EMPTY_CONTEXT;
  return {
    href: workloadHref(w.orgId, w.id),
    name: w.meta.name,
    hostname: w.meta.hostname,
    description: w.meta.description,
    labels: w.meta.labels.map((id) => {
      const label = labels.get(id);
      const href = `/orgs/${w.orgId}/labels/${id}`;
      return label ? { href, key: label.key, value: label.value } : { href };
    }),
    public_ip: context.publicIp,
    interfaces: context.interfaces.map((i) => ({
      name: i.name,
      address: i.address,
      cidr_block: i.cidrBlock,
      default_gateway_address: i.defaultGatewayAddress,
      link_state: i.linkState,
    })),
    online: context.online,
    enforcement_mode: w.meta.enforcementMode,
    os_id: w.meta.osId,
    os_detail: w.meta.osDetail,
    external_data_set: w.meta.externalDataSet,
    external_data_reference: w.meta.externalDataReference,
    managing_pce_fqdn: w.meta.managingPceFqdn,
    ...inventoryToJson(w.meta.inventory),
    created_at: new Date(w.meta.createdAt).toISOString(),
    updated_at: new Date(workloadUpdatedAt(w)).toISOString(),
    created_by: { href: `/users/${w.meta.createdBy}` },
    updated_by: { href: `/users/${w.meta.updatedBy}` },
    // deleted workloads are gone (no soft delete): every workload shown is a live one
    deleted: false,
    agent: w.agent ? agentToJson(w, w.agent, live ?? null) : null,
    ven: w.agent ? { href: venHref(w.orgId, w.agent.agentId), hostname: w.agent.hostname, name: w.meta.name, status: w.agent.status } : null,
  };
}

export function venHref(orgId: number, agentId: string): string {
  return `/orgs/${orgId}/vens/${agentId}`;
}

export function agentHref(orgId: number, agentId: string): string {
  return `/orgs/${orgId}/agents/${agentId}`;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The policy arrival fields of a VEN (extra to Illumio's): when its managing PCE had the policy the VEN
 * should hold, and how long what it holds took to arrive (seconds, ms precision); null where unknown.
 */
export function policyArrivalToJson(live: AgentLiveStatus | null): { security_policy_available_at: string | null; security_policy_arrival_seconds: number | null } {
  const ms = policyArrivalMs(live);
  return { security_policy_available_at: iso(live?.expectedAvailableAt ?? null), security_policy_arrival_seconds: ms === null ? null : ms / 1000 };
}

/**
 * The sync state Illumio shows: `active` when the VEN applied what this PCE computed for it, `syncing`
 * while it has not; null on a PCE that does not manage it (heartbeats are local to the managing PCE).
 */
export function policySyncState(live: AgentLiveStatus | null): 'active' | 'syncing' | null {
  if (!live) return null;
  if (live.expectedRulesHash === null) return 'syncing';
  return live.appliedRulesHash === live.expectedRulesHash && live.appliedVersion === live.expectedVersion ? 'active' : 'syncing';
}

/**
 * How long the policy the VEN holds took to arrive (ms): from when its managing PCE had that policy
 * version and those rules stored (`expectedAvailableAt`: the later of the run that made the version
 * current there and the last change of the workload's rules there) to when the VEN applied them
 * (`appliedAt`, as it reports). Only while the VEN holds exactly what the PCE computed for it (sync
 * state `active`); null otherwise, when a time is unknown, and when the VEN applied them before the PCE
 * stored them (it brought the same rules from another PCE, or its clock is behind).
 */
export function policyArrivalMs(live: AgentLiveStatus | null): number | null {
  if (!live || policySyncState(live) !== 'active') return null;
  const from = live.expectedAvailableAt ?? null;
  if (from === null || live.appliedAt === null || live.appliedAt < from) return null;
  return live.appliedAt - from;
}

/** The workload's `agent` object; heartbeat and uptime only where `live` is known (the managing PCE). */
export function agentToJson(w: Workload, a: ManagedAgent, live: AgentLiveStatus | null) {
  return {
    href: agentHref(w.orgId, a.agentId),
    config: { mode: w.meta.enforcementMode, log_traffic: false, visibility_level: a.visibilityLevel ?? 'flow_summary' },
    status: {
      status: a.status,
      uid: a.agentId,
      last_heartbeat_on: iso(live?.lastHeartbeatAt ?? null),
      uptime_seconds: live?.uptimeSeconds ?? null,
      agent_version: a.agentVersion,
      managed_since: iso(a.pairedAt),
      security_policy_sync_state: policySyncState(live),
      security_policy_applied_at: iso(live?.appliedAt ?? null),
      security_policy_received_at: iso(live?.appliedAt ?? null),
      ...policyArrivalToJson(live),
      /** which PCE has the heartbeats when this one shows null */
      heartbeat_pce_fqdn: a.pceFqdn,
    },
    active_pce_fqdn: a.pceFqdn,
    target_pce_fqdn: targetPceOf(w),
  };
}

export type WorkloadJson = ReturnType<typeof workloadToJson>;

// ---------------------------------------------------------------------------------------------------------
// Storage port

export type WorkloadChange =
  | { readonly kind: 'create'; readonly workload: Workload }
  /** writes the parts of `next` that differ from `current`, each conditional on `current`'s updatedAt */
  | { readonly kind: 'update'; readonly current: Workload; readonly next: Workload }
  | { readonly kind: 'delete'; readonly workload: Workload };

/**
 * What became of one change: written; the workload is gone (update/delete); it changed since it was read
 * (or, for a create, the id exists); not written because the leader fence failed (this PCE is no longer
 * the leader: nothing after the failure is written either); not written because its transaction failed
 * with an unexpected storage error (`failed`, only in a WorkloadWriteError's outcomes).
 */
export type ChangeOutcome = 'ok' | 'not_found' | 'conflict' | 'fence_failed' | 'failed';

/**
 * Some transactions of an apply() failed with an unexpected storage error (the cause: the first one). The
 * others were still run: `outcomes` has every change's outcome, `failed` for the changes of a failed
 * transaction, so a bulk request can tell each item what became of it.
 */
export class WorkloadWriteError extends Error {
  override readonly name = 'WorkloadWriteError';
  constructor(
    readonly outcomes: readonly ChangeOutcome[],
    options: { cause: unknown },
  ) {
    super(`${outcomes.filter((o) => o === 'failed').length} of ${outcomes.length} workload change(s) failed in storage`, options);
  }
}

export interface WorkloadStore {
  /** Every workload of the org (one Query), merged; an orphaned context item (no meta) is skipped. */
  list(orgId: number, options?: { consistent?: boolean }): Promise<Workload[]>;
  get(orgId: number, id: WorkloadId, options?: { consistent?: boolean }): Promise<Workload | null>;
  /** The first `limit` workloads by id, reading about as many items as it returns (Query with Limit, paged). */
  page(orgId: number, limit: number): Promise<Workload[]>;
  /** How many workloads `list` would return, from the keys only (no item bodies transferred). */
  count(orgId: number): Promise<number>;
  /** Whether some workload of the org has the label: reads in proportion to its uses, not to the org (ADR 0015). */
  usesLabel(orgId: number, labelId: number): Promise<boolean>;
  /** The compute pipeline's view (strongly consistent read of this region's replica). */
  listFacts(orgId: number): Promise<ManagedWorkloadFacts[]>;
  /**
   * Applies independent changes, fenced on the leader record, batched into transactions; one outcome per
   * change, in order. A failing change does not stop the others, except a fence failure, which stops all.
   * A transaction failing with an unexpected storage error does not stop the others either: after the
   * last one, WorkloadWriteError with every outcome.
   */
  apply(changes: readonly WorkloadChange[], fence: WriteFence): Promise<ChangeOutcome[]>;
}
