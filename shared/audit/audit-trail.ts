/**
 * The audit trail of one PCE: records the requests it answered (classify.ts says which) as events in its
 * own partitions of the global table, and reads every PCE's events (they replicate to every region).
 */
import { isAudited, outcomeOf } from './classify.ts';
import { eventIdTime, isEventId, newEventId, type AuditEvent, type EventPrincipal } from './event.ts';
import type { AuditEventStore, EventQuery } from './ports.ts';

/** How long events are kept (the items' TTL). */
export const EVENT_RETENTION_DAYS = 90;
export const DEFAULT_EVENT_RESULTS = 500;
export const MAX_EVENT_RESULTS = 10_000;

/** API key usernames (`api_` + 16 hex): the only claimed identity a 401 event keeps (anything else might be a pasted secret). */
const API_KEY_USERNAME = /^api_[0-9a-f]{16}$/;

/** What the API edge knows of an answered request; no header, body or secret. */
export interface AnsweredRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly orgId: number | null;
  readonly caller: { readonly userId: number; readonly authUsername: string; readonly orgId: number } | null;
  /** the username of HTTP Basic credentials that were refused (never the secret) */
  readonly claimedUsername: string | null;
  readonly srcIp: string | null;
  /** the href of the object a 201 answered with */
  readonly createdHref: string | null;
  readonly errorTokens: readonly string[];
}

export interface AuditTrailDeps {
  readonly store: AuditEventStore;
  readonly pceFqdn: string;
  readonly region: string;
  /** every PCE's region: the partitions a read covers */
  readonly regions: readonly string[];
  /** the org of requests whose path names none (e.g. a refused `/api/v2/users/login`) */
  readonly defaultOrgId: number;
  readonly now?: () => number;
}

export class AuditTrail {
  readonly #deps: AuditTrailDeps;
  readonly #now: () => number;

  constructor(deps: AuditTrailDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** The event for `request`, or null when it is not audited. */
  eventFor(request: AnsweredRequest): AuditEvent | null {
    if (!isAudited(request.method, request.path, request.status)) return null;
    const now = this.#now();
    const outcome = outcomeOf(request.method, request.path, request.status, request.createdHref);
    const principal: EventPrincipal = request.caller
      ? { kind: 'user', userHref: `/users/${request.caller.userId}`, username: request.caller.authUsername }
      : request.claimedUsername && API_KEY_USERNAME.test(request.claimedUsername)
        ? { kind: 'claimed', username: request.claimedUsername }
        : { kind: 'anonymous' };
    return {
      id: newEventId(now),
      orgId: request.orgId ?? request.caller?.orgId ?? this.#deps.defaultOrgId,
      timestamp: now,
      pceFqdn: this.#deps.pceFqdn,
      region: this.#deps.region,
      principal,
      eventType: outcome.eventType,
      status: outcome.status,
      severity: outcome.severity,
      apiEndpoint: request.path,
      apiMethod: request.method,
      httpStatusCode: request.status,
      srcIp: request.srcIp,
      errorTokens: request.errorTokens.filter((t) => /^[a-z0-9_]{1,64}$/.test(t)).slice(0, 10),
      resourceChanges: outcome.resourceChanges,
    };
  }

  /** Records `request` if it is audited (one PutItem); the event recorded, or null. */
  async record(request: AnsweredRequest): Promise<AuditEvent | null> {
    const event = this.eventFor(request);
    if (event) await this.#deps.store.put(event);
    return event;
  }

  /** Newest first; `since` defaults to the retention period, `until` to now. */
  list(orgId: number, filters: Partial<Omit<EventQuery, 'regions'>>): Promise<AuditEvent[]> {
    const now = this.#now();
    // nothing is kept longer than the retention period, nor written ahead of now: the day partitions read stay within those bounds
    const oldest = now - EVENT_RETENTION_DAYS * 86_400_000;
    return this.#deps.store.list(orgId, {
      since: Math.max(filters.since ?? oldest, oldest),
      until: Math.min(filters.until ?? now, now + 60_000),
      maxResults: Math.min(filters.maxResults ?? DEFAULT_EVENT_RESULTS, MAX_EVENT_RESULTS),
      regions: this.#deps.regions,
      ...(filters.eventType === undefined ? {} : { eventType: filters.eventType }),
      ...(filters.createdBy === undefined ? {} : { createdBy: filters.createdBy }),
    });
  }

  async get(orgId: number, id: string): Promise<AuditEvent | null> {
    if (!isEventId(id) || eventIdTime(id) > this.#now() + 86_400_000) return null;
    return this.#deps.store.get(orgId, id, this.#deps.regions);
  }
}
