/**
 * The audit trail (shared/audit/): every accepted write and every refused request (401, 403, 406, 429)
 * becomes an event in this PCE's partitions of the global table, read back by GET /orgs/{org}/events.
 *
 * Used first (outermost), so its after/onError run last and see the final response: the error handler's
 * status and `[{token, message}]` body for errors thrown by auth, the rate limit, the gates and the routes,
 * and compressResponses' 406. One PutItem, awaited (Lambda freezes after it returns); a failed write
 * is logged and the response goes out unchanged.
 *
 * What the event keeps: method, path, status, source IP, the caller (API key username and user href,
 * or the claimed username of refused HTTP Basic credentials), the error tokens, the created href.
 * Never headers, query strings, request or response bodies, nor a secret.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AuditTrail } from '../../../shared/audit/audit-trail.ts';
import { parseBasicAuth } from '../../../shared/auth/api-keys.ts';
import { header, type ApiContext, type HttpEvent, type HttpResult } from '../http.ts';

type ApiRequest = Request<HttpEvent, HttpResult, Error, ApiContext>;

function parsedBody(response: HttpResult): unknown {
  if (!response.body || response.isBase64Encoded || response.body.length > 64 * 1024) return null;
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    return null;
  }
}

function createdHref(response: HttpResult): string | null {
  if (response.statusCode !== 201) return null;
  const body = parsedBody(response);
  return body !== null && typeof body === 'object' && !Array.isArray(body) && typeof (body as { href?: unknown }).href === 'string' ? (body as { href: string }).href : null;
}

function errorTokens(response: HttpResult): string[] {
  if ((response.statusCode ?? 200) < 400) return [];
  const body = parsedBody(response);
  return Array.isArray(body) ? body.flatMap((e: unknown) => (e !== null && typeof e === 'object' && typeof (e as { token?: unknown }).token === 'string' ? [(e as { token: string }).token] : [])) : [];
}

export function auditTrail(trail: AuditTrail, logger: Logger): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  const record = async (request: ApiRequest) => {
    const response = request.response;
    if (!response) return;
    const { method, path, sourceIp } = request.event.requestContext.http;
    const status = response.statusCode ?? 200;
    try {
      const caller = request.context.principal;
      const org = /^\/api\/v2\/orgs\/(\d{1,15})(\/|$)/.exec(path)?.[1];
      await trail.record({
        method,
        path,
        status,
        orgId: org === undefined ? null : Number(org),
        caller: caller ? { userId: caller.userId, authUsername: caller.authUsername, orgId: caller.orgId } : null,
        // the username only: parseBasicAuth splits it from the secret, which goes no further
        claimedUsername: caller || status !== 401 ? null : (parseBasicAuth(header(request.event, 'authorization'))?.username ?? null),
        srcIp: sourceIp || null,
        createdHref: createdHref(response),
        errorTokens: errorTokens(response),
      });
    } catch (error) {
      logger.warn('audit event not recorded', { method, path, status, error: error as Error });
    }
  };
  return { after: record, onError: record };
}
