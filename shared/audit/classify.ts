/**
 * Which requests become audit events, and what they are called (Illumio's `<resource>.<verb>` style).
 * - an accepted write (POST/PUT/PATCH/DELETE answered 2xx): `label.create`, `rule_set.update`,
 *   `workloads.bulk_update`, `sec_policy.create` (provision), `workload_settings.update`, ...
 * - a refused request, any method: 401 `request.authentication_failed`, 403 `request.authorization_failed`,
 *   429 `request.rate_limited`, 406 the attempted write's type (status failure) or `request.validation_failed`.
 * - never the VEN protocol (`/api/v2/ven/...`): machine traffic at heartbeat rate (docs/security.md).
 */
import type { EventSeverity, EventStatus, ResourceChange } from './event.ts';

export const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const REFUSED_STATUSES: ReadonlySet<number> = new Set([401, 403, 406, 429]);
const VEN_PROTOCOL = /^\/api\/v2\/ven(\/|$)/;

/** Collection-level actions that are verbs, not ids (`PUT .../workloads/bulk_update`). */
const COLLECTION_ACTIONS = new Set(['bulk_create', 'bulk_update', 'bulk_delete', 'unpair']);

export function isAudited(method: string, path: string, status: number): boolean {
  if (VEN_PROTOCOL.test(path)) return false;
  if (REFUSED_STATUSES.has(status)) return true;
  return WRITE_METHODS.has(method) && status >= 200 && status < 300;
}

const singular = (name: string): string => (name.endsWith('s') ? name.slice(0, -1) : name);
const VERBS: Readonly<Record<string, 'create' | 'update' | 'delete'>> = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };

export interface WriteAction {
  readonly eventType: string;
  /** the object the write names by its path (PUT/DELETE of one object), or null */
  readonly resource: { readonly type: string; readonly href: string } | null;
  readonly changeType: 'create' | 'update' | 'delete';
}

/** What a write on `path` does: `/api/v2/orgs/1/sec_policy/draft/rule_sets/5` PUT -> `rule_set.update` of `/orgs/1/sec_policy/draft/rule_sets/5`. */
export function writeAction(method: string, path: string): WriteAction {
  const changeType = VERBS[method] ?? 'update';
  const href = path.replace(/^\/api\/v2/, '').replace(/\/$/, '');
  let segments = href.split('/').filter(Boolean);
  if (segments[0] === 'orgs') segments = segments.slice(2);
  if (segments[0] === 'sec_policy' && (segments[1] === 'draft' || segments[1] === 'active')) segments = segments.slice(2);
  if (segments.length === 1 && segments[0] === 'sec_policy') return { eventType: 'sec_policy.create', resource: null, changeType: 'create' };
  if (segments[0] === 'settings' && segments[1]) return { eventType: `${singular(segments[1])}_settings.update`, resource: null, changeType: 'update' };
  // alternate collection / id, with verbs at the end
  let collection: string | null = null;
  let id: string | null = null;
  let action: string | null = null;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    if (i === segments.length - 1 && collection && (COLLECTION_ACTIONS.has(segment) || (segment === 'update' && id))) {
      action = segment;
      break;
    }
    if (i % 2 === 0) {
      collection = segment;
      id = null;
    } else id = segment;
  }
  if (!collection) return { eventType: `request.${method.toLowerCase()}`, resource: null, changeType };
  if (action && COLLECTION_ACTIONS.has(action)) return { eventType: `${collection}.${action}`, resource: null, changeType };
  const type = singular(collection);
  const objectHref = action ? href.slice(0, -`/${action}`.length) : href;
  return { eventType: `${type}.${changeType}`, resource: id ? { type, href: objectHref } : null, changeType };
}

export interface Outcome {
  readonly eventType: string;
  readonly status: EventStatus;
  readonly severity: EventSeverity;
  readonly resourceChanges: readonly ResourceChange[];
}

/** The event type, status, severity and resource changes of an audited request. `createdHref`: the href a 201 answered with. */
export function outcomeOf(method: string, path: string, status: number, createdHref: string | null): Outcome {
  const isWrite = WRITE_METHODS.has(method);
  if (status === 401) return { eventType: 'request.authentication_failed', status: 'failure', severity: 'err', resourceChanges: [] };
  if (status === 403) return { eventType: 'request.authorization_failed', status: 'failure', severity: 'err', resourceChanges: [] };
  if (status === 429) return { eventType: 'request.rate_limited', status: 'failure', severity: 'warning', resourceChanges: [] };
  if (status >= 400) return { eventType: isWrite ? writeAction(method, path).eventType : 'request.validation_failed', status: 'failure', severity: 'warning', resourceChanges: [] };
  const action = writeAction(method, path);
  const created = action.changeType === 'create' && createdHref && /^\/[a-z_]+\/[A-Za-z0-9/_-]+$/.test(createdHref) ? { resourceType: singular(action.eventType.split('.')[0] ?? 'object'), href: createdHref, changeType: 'create' as const } : null;
  const named = action.resource ? { resourceType: action.resource.type, href: action.resource.href, changeType: action.changeType } : null;
  const change = created ?? named;
  return { eventType: action.eventType, status: 'success', severity: 'info', resourceChanges: change ? [change] : [] };
}
