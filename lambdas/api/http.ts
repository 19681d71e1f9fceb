/** Small HTTP helpers for API Gateway HTTP API (payload v2) handlers. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ApiKeyRecord } from '../../shared/auth/api-keys.ts';
import type { VenPrincipal } from '../../shared/ven/ports.ts';
import type { Workload } from '../../shared/workloads/workload.ts';
import { BadRequestError, ForbiddenError, NotFoundError, ValidationError } from '../../shared/api/errors.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The Lambda context plus what the auth middleware learned about the caller. */
export interface ApiContext extends Context {
  principal?: ApiKeyRecord;
  /** on the VEN protocol's routes: the VEN (a separate principal type from API keys) and its workload */
  ven?: { readonly principal: VenPrincipal; readonly workload: Workload };
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function empty(statusCode: number): HttpResult {
  return { statusCode, headers: {}, body: '' };
}

export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/** The JSON body; 400 when it is not JSON, {} when empty. */
export function jsonBody(event: HttpEvent): unknown {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BadRequestError([{ token: 'json_parse_error', message: `the request body is not valid JSON: ${(cause as Error).message}` }], { cause });
  }
}

export function pathParam(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined) throw new BadRequestError([{ token: 'missing_path_parameter', message: `missing path parameter ${name}` }]);
  try {
    return decodeURIComponent(value);
  } catch (cause) {
    throw new NotFoundError([{ token: 'invalid_uri', message: `${name} "${value}" is not a valid URI component` }], { cause });
  }
}

/** A positive integer id from the path; 404-style validation when it is not one. */
export function idParam(event: HttpEvent, name: string): number {
  const raw = pathParam(event, name);
  if (!/^\d{1,15}$/.test(raw)) throw new ValidationError([{ token: 'invalid_uri', message: `${name} must be a positive integer, got "${raw}"` }]);
  return Number(raw);
}

export function queryParam(event: HttpEvent, name: string): string | undefined {
  return event.queryStringParameters?.[name];
}

/** An ISO 8601 timestamp query parameter (ms; undefined when absent); 406 input_validation_error when unreadable. */
export function timestampParam(event: HttpEvent, name: string): number | undefined {
  const raw = queryParam(event, name);
  if (raw === undefined) return undefined;
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(t)) throw new ValidationError([{ token: 'input_validation_error', message: `${name} must be an ISO 8601 timestamp such as 2026-01-31T12:00:00Z, got "${raw.slice(0, 40)}"` }]);
  return t;
}

/** The `external_data_set` / `external_data_reference` filters most collections take (API.md). */
export function externalDataFilter(event: HttpEvent): { externalDataSet: string | undefined; externalDataReference: string | undefined } {
  return { externalDataSet: queryParam(event, 'external_data_set'), externalDataReference: queryParam(event, 'external_data_reference') };
}

export const DEFAULT_MAX_RESULTS = 500;

export function maxResults(event: HttpEvent): number {
  const raw = queryParam(event, 'max_results');
  if (raw === undefined) return DEFAULT_MAX_RESULTS;
  if (!/^\d{1,9}$/.test(raw)) throw new ValidationError([{ token: 'input_validation_error', message: `max_results must be a non-negative integer, got "${raw}"` }]);
  return Number(raw);
}

/** The authenticated caller; the auth middleware guarantees it on authenticated routes. */
export function principal(context: ApiContext): ApiKeyRecord {
  if (!context.principal) throw new ForbiddenError([{ token: 'authentication_required', message: 'this route needs an authenticated caller' }]);
  return context.principal;
}

/** The authenticated VEN; the auth middleware guarantees it on the VEN protocol's routes. */
export function venOf(context: ApiContext): { readonly principal: VenPrincipal; readonly workload: Workload } {
  if (!context.ven) throw new ForbiddenError([{ token: 'authentication_required', message: 'this route needs an authenticated VEN' }]);
  return context.ven;
}

/** The caller's org, checked against the `{org}` path parameter. */
export function orgOf(event: HttpEvent, context: ApiContext): { orgId: number; userId: number; authUsername: string } {
  const caller = principal(context);
  const orgId = idParam(event, 'org');
  if (orgId !== caller.orgId) throw new ForbiddenError([{ token: 'org_access_denied', message: `this API key has no access to org ${orgId}` }]);
  return { orgId, userId: caller.userId, authUsername: caller.authUsername };
}
