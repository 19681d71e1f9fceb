/**
 * Audit events in Illumio's event shape (`GET /api/v2/orgs/{org}/events`): who did what on which PCE,
 * when, and with what outcome. Each PCE records the requests it answered (docs/security.md, "Audit trail").
 *
 * Ids are UUIDv7: the first 48 bits are the event's time in ms, so ids sort by time and an id alone
 * names the day partition its item lives in.
 */
import { randomBytes } from 'node:crypto';

export type EventStatus = 'success' | 'failure';
export type EventSeverity = 'info' | 'warning' | 'err';

/** Who made the request: an authenticated API key (its user), a claimed API key username (401), or nobody known. */
export type EventPrincipal =
  | { readonly kind: 'user'; readonly userHref: string; readonly username: string }
  | { readonly kind: 'claimed'; readonly username: string }
  | { readonly kind: 'anonymous' };

export interface ResourceChange {
  readonly resourceType: string;
  readonly href: string;
  readonly changeType: 'create' | 'update' | 'delete';
}

export interface AuditEvent {
  /** UUIDv7 */
  readonly id: string;
  readonly orgId: number;
  /** ms since the epoch */
  readonly timestamp: number;
  readonly pceFqdn: string;
  /** the region of the PCE that answered the request (the item's one writer region) */
  readonly region: string;
  readonly principal: EventPrincipal;
  readonly eventType: string;
  readonly status: EventStatus;
  readonly severity: EventSeverity;
  readonly apiEndpoint: string;
  readonly apiMethod: string;
  readonly httpStatusCode: number;
  readonly srcIp: string | null;
  /** the `token`s of the error body of a refused request (never its messages, which may echo input) */
  readonly errorTokens: readonly string[];
  readonly resourceChanges: readonly ResourceChange[];
}

const HEX = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A new UUIDv7 for an event at `now` (RFC 9562: 48-bit ms timestamp, version 7, variant 10). */
export function newEventId(now: number): string {
  const bytes = randomBytes(16);
  const ms = BigInt(Math.max(0, Math.floor(now)));
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isEventId(id: string): boolean {
  return HEX.test(id);
}

/** The ms timestamp a UUIDv7 event id carries. */
export function eventIdTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** The sort-key prefix of every event id at ms `t` (ids of later ms sort after it). */
export function eventIdPrefix(t: number): string {
  const hex = Math.max(0, Math.floor(t)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}

/** The UTC day (YYYY-MM-DD) of ms `t`: events are kept in one partition per PCE and day. */
export function eventDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function createdBy(principal: EventPrincipal): Record<string, unknown> {
  switch (principal.kind) {
    case 'user':
      return { user: { href: principal.userHref, username: principal.username } };
    case 'claimed':
      return { user: { href: null, username: principal.username } };
    case 'anonymous':
      return { anonymous: {} };
  }
}

/** The principal's names a `created_by` filter matches (user href, username). */
export function principalNames(principal: EventPrincipal): string[] {
  if (principal.kind === 'user') return [principal.userHref, principal.username];
  if (principal.kind === 'claimed') return [principal.username];
  return [];
}

/** The Illumio JSON of an event. */
export function eventToJson(event: AuditEvent): Record<string, unknown> {
  return {
    href: `/orgs/${event.orgId}/events/${event.id}`,
    timestamp: new Date(event.timestamp).toISOString(),
    pce_fqdn: event.pceFqdn,
    created_by: createdBy(event.principal),
    event_type: event.eventType,
    status: event.status,
    severity: event.severity,
    action: {
      uuid: event.id,
      api_endpoint: event.apiEndpoint,
      api_method: event.apiMethod,
      http_status_code: event.httpStatusCode,
      src_ip: event.srcIp,
      ...(event.errorTokens.length > 0 ? { errors: event.errorTokens.map((token) => ({ token })) } : {}),
    },
    resource_changes: event.resourceChanges.map((c) => ({ uuid: event.id, resource: { [c.resourceType]: { href: c.href } }, changes: {}, change_type: c.changeType })),
    notifications: [],
  };
}
