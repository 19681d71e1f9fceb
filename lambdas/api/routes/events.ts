/**
 * /api/v2/orgs/{org}/events (shared/audit/): the audit trail, readable on every PCE; every PCE's events
 * replicate, so each answers with all of them. Filters: `timestamp[gte]`, `timestamp[lte]` (ISO 8601),
 * `event_type`, `created_by` (user href or API key username), `max_results` (default 500, at most 10000).
 */
import { DEFAULT_EVENT_RESULTS, MAX_EVENT_RESULTS, type AuditTrail } from '../../../shared/audit/audit-trail.ts';
import { eventToJson } from '../../../shared/audit/event.ts';
import { notFound, ValidationError } from '../../../shared/api/errors.ts';
import { json, orgOf, pathParam, queryParam, timestampParam, type HttpEvent } from '../http.ts';
import type { ApiRoute } from './route.ts';

const BASE = '/api/v2/orgs/{org}/events';

function invalid(message: string): ValidationError {
  return new ValidationError([{ token: 'input_validation_error', message }]);
}

function text(event: HttpEvent, name: string, pattern: RegExp): string | undefined {
  const raw = queryParam(event, name);
  if (raw === undefined) return undefined;
  if (!pattern.test(raw)) throw invalid(`${name} is not valid: "${raw.slice(0, 40)}"`);
  return raw;
}

function maxEventResults(event: HttpEvent): number {
  const raw = queryParam(event, 'max_results');
  if (raw === undefined) return DEFAULT_EVENT_RESULTS;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > MAX_EVENT_RESULTS) throw invalid(`max_results must be an integer from 0 to ${MAX_EVENT_RESULTS}, got "${raw.slice(0, 40)}"`);
  return Number(raw);
}

export function eventRoutes(trail: AuditTrail): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: BASE,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const since = timestampParam(event, 'timestamp[gte]');
        const until = timestampParam(event, 'timestamp[lte]');
        if (since !== undefined && until !== undefined && since > until) throw invalid('timestamp[gte] is after timestamp[lte]');
        const eventType = text(event, 'event_type', /^[a-z0-9_]{1,64}\.[a-z0-9_.]{1,64}$/);
        const createdBy = text(event, 'created_by', /^[A-Za-z0-9_/.@+-]{1,128}$/);
        const events = await trail.list(orgId, { since, until, eventType, createdBy, maxResults: maxEventResults(event) });
        return json(200, events.map(eventToJson));
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{uuid}`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const found = await trail.get(orgId, pathParam(event, 'uuid'));
        if (!found) throw notFound('event');
        return json(200, eventToJson(found));
      },
    },
  ];
}
