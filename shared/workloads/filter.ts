/**
 * Workload list filters (API.md "Workloads and VENs"): parsed from the query string, applied in memory
 * to the org's workloads (all of them come from one Query, see shared/storage/workload-keys.ts); without any
 * filter the storage reads only the page asked for (WorkloadStore.page).
 */
import { ValidationError, type ErrorEntry } from '../api/errors.ts';
import { ENFORCEMENT_MODES, type EnforcementMode, type LabelId } from '../policy/model.ts';
import { labelIdFromHref } from '../labels/label.ts';
import { EMPTY_CONTEXT, type Workload } from './workload.ts';

export interface WorkloadFilter {
  /** partial, case-insensitive */
  readonly name?: string;
  /** partial, case-insensitive */
  readonly hostname?: string;
  /** partial match on interface addresses and the public IP */
  readonly ipAddress?: string;
  /** OR of AND-groups of label ids; absent or [] = no label filter */
  readonly labels?: readonly (readonly LabelId[])[];
  readonly managed?: boolean;
  readonly online?: boolean;
  readonly enforcementMode?: EnforcementMode;
  readonly externalDataSet?: string;
  readonly externalDataReference?: string;
  /** `agent.active_pce_fqdn`: managed workloads whose VEN is managed by that PCE */
  readonly activePceFqdn?: string;
  /**
   * Set when the query filters on heartbeats (`last_heartbeat_on[gte|lte]`): heartbeats are local to the
   * managing PCE and not part of the replicated workload, so this list filter matches nothing (docs/workloads-api.md).
   */
  readonly agentFilter?: boolean;
}

export type QueryParams = Readonly<Record<string, string | undefined>>;

/** `true`/`false` in any case: Python clients send `params={'managed': True}`, which requests encodes as `True`. */
function parseBoolean(name: string, raw: string | undefined, errors: ErrorEntry[]): boolean | undefined {
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  errors.push({ token: 'input_validation_error', message: `${name} must be true or false, got "${raw}"` });
  return undefined;
}

// Illumio documents `last_heartbeat_on`; API.md writes `last_heartbeat_at`: both are understood
const HEARTBEAT_BOUNDS = ['last_heartbeat_on[gte]', 'last_heartbeat_on[lte]', 'last_heartbeat_at[gte]', 'last_heartbeat_at[lte]'] as const;

/** The agent filters: a heartbeat bound must be a timestamp (ISO 8601 or epoch milliseconds). */
function parseAgentFilter(query: QueryParams, errors: ErrorEntry[]): boolean | undefined {
  let present = false;
  for (const name of HEARTBEAT_BOUNDS) {
    const raw = query[name];
    if (raw === undefined) continue;
    present = true;
    if (!/^\d{1,15}$/.test(raw) && Number.isNaN(Date.parse(raw))) errors.push({ token: 'input_validation_error', message: `${name} must be a timestamp, got "${raw}"` });
  }
  return present || undefined;
}

/** `labels`: a JSON list of lists of label hrefs of this org (inner AND, outer OR). */
export function parseLabelsFilter(orgId: number, raw: string, errors: ErrorEntry[]): LabelId[][] | undefined {
  const bad = (why: string) => {
    errors.push({ token: 'invalid_labels_filter', message: `labels must be a JSON list of lists of label hrefs such as [["/orgs/${orgId}/labels/1","/orgs/${orgId}/labels/2"]]: ${why}` });
    return undefined;
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return bad(`not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) return bad('not a list');
  const groups: LabelId[][] = [];
  for (const group of parsed as unknown[]) {
    if (!Array.isArray(group)) return bad('an element is not a list');
    const ids: LabelId[] = [];
    for (const href of group as unknown[]) {
      if (typeof href !== 'string') return bad('a label href is not a string');
      const ref = labelIdFromHref(href);
      if (!ref || ref.orgId !== orgId) return bad(`"${href}" is not a label href of org ${orgId}`);
      ids.push(ref.id);
    }
    groups.push(ids);
  }
  return groups;
}

/** The filter from the query string; 406 naming each bad parameter. Unknown parameters are ignored. */
export function parseWorkloadFilter(orgId: number, query: QueryParams): WorkloadFilter {
  const errors: ErrorEntry[] = [];
  const mode = query.enforcement_mode;
  if (mode !== undefined && !(ENFORCEMENT_MODES as readonly string[]).includes(mode)) {
    errors.push({ token: 'invalid_enforcement_mode', message: `enforcement_mode must be one of ${ENFORCEMENT_MODES.join(', ')}, got "${mode}"` });
  }
  const filter: WorkloadFilter = {
    name: query.name,
    hostname: query.hostname,
    ipAddress: query.ip_address,
    labels: query.labels === undefined ? undefined : parseLabelsFilter(orgId, query.labels, errors),
    managed: parseBoolean('managed', query.managed, errors),
    online: parseBoolean('online', query.online, errors),
    enforcementMode: mode as EnforcementMode | undefined,
    externalDataSet: query.external_data_set,
    externalDataReference: query.external_data_reference,
    activePceFqdn: query['agent.active_pce_fqdn'],
    agentFilter: parseAgentFilter(query, errors),
  };
  if (errors.length > 0) throw new ValidationError(errors);
  return filter;
}

/** No condition at all: every workload matches (the storage can then read just a page). */
export function isEmptyWorkloadFilter(f: WorkloadFilter): boolean {
  return Object.entries(f).every(([k, v]) => v === undefined || (k === 'labels' && Array.isArray(v) && v.length === 0));
}

const contains = (value: string | null, part: string) => value !== null && value.toLowerCase().includes(part.toLowerCase());

/** Label groups: the workload matches when it carries every label of at least one group. */
export function matchesLabels(workloadLabels: readonly LabelId[], groups: readonly (readonly LabelId[])[]): boolean {
  if (groups.length === 0) return true;
  const has = new Set(workloadLabels);
  return groups.some((group) => group.every((id) => has.has(id)));
}

export function matchesWorkloadFilter(w: Workload, f: WorkloadFilter): boolean {
  const context = w.context ?? EMPTY_CONTEXT;
  if (f.name !== undefined && !contains(w.meta.name, f.name)) return false;
  if (f.hostname !== undefined && !contains(w.meta.hostname, f.hostname)) return false;
  if (f.ipAddress !== undefined) {
    const part = f.ipAddress.toLowerCase();
    const addresses = [...context.interfaces.map((i) => i.address), ...(context.publicIp ? [context.publicIp] : [])];
    if (!addresses.some((a) => a.toLowerCase().includes(part))) return false;
  }
  if (f.labels !== undefined && !matchesLabels(w.meta.labels, f.labels)) return false;
  if (f.managed !== undefined && (w.agent != null) !== f.managed) return false;
  if (f.activePceFqdn !== undefined && w.agent?.pceFqdn !== f.activePceFqdn) return false;
  if (f.agentFilter) return false;
  if (f.online !== undefined && context.online !== f.online) return false;
  if (f.enforcementMode !== undefined && w.meta.enforcementMode !== f.enforcementMode) return false;
  if (f.externalDataSet !== undefined && w.meta.externalDataSet !== f.externalDataSet) return false;
  if (f.externalDataReference !== undefined && w.meta.externalDataReference !== f.externalDataReference) return false;
  return true;
}
