/**
 * Authentication on every route but the public (health-check) ones, with two principal types that never
 * stand in for each other: API keys (HTTP Basic) on the REST API, agent tokens (Bearer) on the VEN
 * protocol (`/api/v2/ven/...`; its activate call is authenticated by the activation code in its body).
 * On the REST API a web console session (its cookie, and X-CSRF-Token on writes) stands for its user when the
 * request has no Authorization header (routes/console.ts): the same RBAC decides what it may do.
 */
import type { MiddlewareObj } from '@middy/core';
import { AuthenticationError } from '../../../shared/api/errors.ts';
import { parseBasicAuth, verifyApiKey, type ApiKeyRecord, type ApiKeyStore } from '../../../shared/auth/api-keys.ts';
import type { VenPrincipal } from '../../../shared/ven/ports.ts';
import { VEN_API_BASE } from '../../../shared/ven/protocol.ts';
import type { Workload } from '../../../shared/workloads/workload.ts';
import { header, type ApiContext, type HttpEvent, type HttpResult } from '../http.ts';

export interface VenAuthentication {
  authenticate(authorization: string | undefined): Promise<{ principal: VenPrincipal; workload: Workload }>;
}

const VEN_PREFIX = '/api/v2/ven/';
/** VEN protocol calls that carry their own proof (the activation code) */
const VEN_PUBLIC = new Set([`${VEN_API_BASE}/activate`]);

/** The principal of a console session's request (its token from the cookie); throws 401 when it ended, 403 for a write without CSRF. */
export type SessionAuthentication = (event: HttpEvent, token: string) => Promise<ApiKeyRecord>;

export function apiKeyAuth(
  apiKeys: ApiKeyStore,
  isPublic: (path: string) => boolean,
  ven?: VenAuthentication,
  now: () => number = Date.now,
  session?: { readonly tokenOf: (event: HttpEvent) => string | null; readonly authenticate: SessionAuthentication },
): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  return {
    before: async (request) => {
      const path = request.event.requestContext.http.path.replace(/\/$/, '');
      if (isPublic(path)) return;
      const authorization = header(request.event, 'authorization');
      if (path.startsWith(VEN_PREFIX)) {
        if (VEN_PUBLIC.has(path)) return;
        if (parseBasicAuth(authorization)) throw new AuthenticationError('API keys cannot call the VEN protocol: send the agent token as Authorization: Bearer', undefined, 'ven_token_required');
        if (!ven) throw new AuthenticationError('this PCE serves no VEN protocol', undefined, 'ven_unknown');
        request.context.ven = await ven.authenticate(authorization);
        return;
      }
      if (authorization && /^Bearer\s/i.test(authorization)) throw new AuthenticationError('agent tokens can call only the VEN protocol: send an API key with HTTP Basic auth');
      const token = !authorization && session ? session.tokenOf(request.event) : null;
      if (session && token) {
        request.context.principal = await session.authenticate(request.event, token);
        return;
      }
      const credentials = parseBasicAuth(authorization);
      if (!credentials) throw new AuthenticationError();
      const outcome = await verifyApiKey(apiKeys, credentials, now());
      if (!outcome.ok) throw new AuthenticationError(outcome.reason === 'expired' ? 'Authentication failed: this API key has expired' : 'Authentication failed: unknown API key or wrong secret');
      request.context.principal = outcome.record;
    },
  };
}
