/**
 * The web console (docs/console.md): its static files at `/` and `/console/<file>`, its session
 * (`/api/v2/console/session`: POST signs in, GET says who is signed in and hands the CSRF token again, DELETE
 * signs out) and `/api/v2/console/pces` (every PCE's console URL and whether its endpoint answers). Every
 * other page is a view over the REST API, called with the session cookie and, on writes, X-CSRF-Token.
 */
import { z } from 'zod';
import { AuthenticationError, BadRequestError, ForbiddenError, RateLimitedError } from '../../../shared/api/errors.ts';
import { parseInput } from '../../../shared/api/validation.ts';
import type { AccessService } from '../../../shared/auth/access-service.ts';
import type { ApiKeyRecord } from '../../../shared/auth/api-keys.ts';
import { ConsoleSessionService, csrfMatches, csrfTokenOf, IDLE_TIMEOUT_SECONDS, type ConsoleSession } from '../../../shared/auth/console-sessions.ts';
import { ROLE_GRANTS } from '../../../shared/auth/permissions.ts';
import type { RateLimiter } from '../../../shared/auth/rate-limit.ts';
import { reachability, type StatusProbe } from '../../../shared/console/pces.ts';
import type { SuperclusterConfig } from '../../../shared/supercluster/config.ts';
import type { LeaderView } from '../../../shared/supercluster/leader.ts';
import type { ConsoleAsset } from '../console-assets.ts';
import { header, json, jsonBody, pathParam, principal, type ApiContext, type HttpEvent, type HttpResult } from '../http.ts';
import type { ApiRoute } from './route.ts';

export const CONSOLE_SESSION_PATH = '/api/v2/console/session';
export const CONSOLE_PCES_PATH = '/api/v2/console/pces';
export const SESSION_COOKIE = 'pce_session';
export const CSRF_HEADER = 'x-csrf-token';
const ASSET_PATH = /^\/console\/[A-Za-z0-9._-]+$/;

/** Paths that need no API key: the console's files and its sign-in (the session route checks its own cookie). */
export function isConsolePublicPath(path: string): boolean {
  return path === '' || path === '/' || path === CONSOLE_SESSION_PATH || ASSET_PATH.test(path);
}

export interface ConsoleDeps {
  readonly sessions: ConsoleSessionService;
  readonly assets: ReadonlyMap<string, ConsoleAsset>;
  readonly config: SuperclusterConfig;
  readonly pceFqdn: string;
  /** every PCE's console URL (shared/console/pces.ts) */
  readonly urls: Record<string, string>;
  readonly probe: StatusProbe;
  /** sign-in attempts per username per minute on this PCE (a slow guesser; null: unlimited) */
  readonly signInLimiter?: RateLimiter | null;
}

/** The console session's token from the request's cookies (API Gateway payload v2 puts them in `cookies`). */
export function sessionToken(event: HttpEvent): string | null {
  const cookies = event.cookies ?? (header(event, 'cookie') ?? '').split(/;\s*/);
  for (const cookie of cookies) {
    const eq = cookie.indexOf('=');
    if (eq > 0 && cookie.slice(0, eq).trim() === SESSION_COOKIE) return cookie.slice(eq + 1).trim();
  }
  return null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The caller a console session stands for: its user, acting with the user's permissions (no role of its own). */
export function sessionPrincipal(session: ConsoleSession): ApiKeyRecord {
  return { authUsername: session.username, secretHash: '', keyId: 'console-session', userId: session.userId, orgId: session.orgId, createdAt: session.createdAt };
}

/** For the auth middleware: the principal of a request carrying a session cookie; writes need the CSRF header. */
export function consoleSessionAuth(sessions: ConsoleSessionService) {
  return async (event: HttpEvent, token: string): Promise<ApiKeyRecord> => {
    const session = await sessions.resume(token);
    if (!session) throw new AuthenticationError('the console session has ended: sign in again', undefined, 'session_expired');
    if (!SAFE_METHODS.has(event.requestContext.http.method) && !csrfMatches(token, header(event, CSRF_HEADER))) throw new ForbiddenError([{ token: 'csrf_token_invalid', message: 'a console write needs the X-CSRF-Token of its session' }]);
    return sessionPrincipal(session);
  };
}

const signInSchema = z.strictObject({ username: z.string().min(1).max(255), password: z.string().min(1).max(1024) });

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

function asset(found: ConsoleAsset | undefined, name: string): HttpResult {
  if (!found) return json(404, [{ token: 'not_found', message: name === 'index.html' ? 'the web console is not built on this PCE: run node scripts/build-console.mjs' : `no console file ${name}` }]);
  return { statusCode: 200, headers: { 'content-type': found.contentType, 'cache-control': found.immutable ? 'public, max-age=31536000, immutable' : 'no-cache', ...SECURITY_HEADERS }, body: found.body };
}

export function consoleRoutes(deps: ConsoleDeps, api: { readonly leader: LeaderView; readonly access?: AccessService | undefined }): ApiRoute[] {
  // Secure wherever the console is served over https (AWS); the local cloud's loopback HTTP gateways are plain http
  const cookie = (value: string, maxAgeSeconds: number) => `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${(deps.urls[deps.pceFqdn] ?? 'https://').startsWith('https://') ? '; Secure' : ''}`;

  const sessionJson = async (session: ConsoleSession, token: string) => {
    const leader = await api.leader.current();
    const grants = api.access ? await api.access.grantsOf(sessionPrincipal(session)) : [{ role: 'owner' as const, scope: [] }];
    const isLeader = leader?.leaderFqdn === deps.pceFqdn;
    return {
      username: session.username,
      href: `/users/${session.userId}`,
      org_id: session.orgId,
      csrf_token: csrfTokenOf(token),
      expires_at: new Date(ConsoleSessionService.endsAt(session)).toISOString(),
      idle_timeout_seconds: IDLE_TIMEOUT_SECONDS,
      roles: grants.map((g) => ({ role: g.role, scope: g.scope })),
      permissions: [...new Set(grants.flatMap((g) => ROLE_GRANTS[g.role]))].sort(),
      pce: { fqdn: deps.pceFqdn, cluster_type: isLeader ? 'leader' : 'member', console_url: deps.urls[deps.pceFqdn] ?? null },
      leader: leader ? { fqdn: leader.leaderFqdn, console_url: deps.urls[leader.leaderFqdn] ?? null, epoch: leader.epoch } : null,
      pces: deps.config.pces.map((p) => ({ fqdn: p.fqdn, region: p.region, console_url: deps.urls[p.fqdn] ?? null })),
    };
  };

  const current = async (event: HttpEvent): Promise<{ session: ConsoleSession; token: string }> => {
    const token = sessionToken(event);
    const session = token ? await deps.sessions.resume(token) : null;
    if (!token || !session) throw new AuthenticationError('no console session: sign in', undefined, 'session_required');
    return { session, token };
  };

  return [
    { method: 'GET', path: '/', handler: async () => asset(deps.assets.get('index.html'), 'index.html') },
    { method: 'GET', path: '/console/{file}', handler: async (event) => asset(deps.assets.get(pathParam(event, 'file')), pathParam(event, 'file')) },
    {
      method: 'POST',
      path: CONSOLE_SESSION_PATH,
      handler: async (event) => {
        const input = parseInput(signInSchema, jsonBody(event));
        if (deps.signInLimiter) {
          const decision = await deps.signInLimiter.check(`signin:${input.username.toLowerCase()}`);
          if (decision.kind === 'limited') throw new RateLimitedError(decision.limit, decision.retryAfterSeconds);
        }
        const outcome = await deps.sessions.signIn(input.username, input.password);
        if (!outcome.ok) throw new AuthenticationError('Authentication failed: wrong username or password', undefined, 'invalid_credentials');
        const maxAge = Math.floor((outcome.session.expiresAt - Date.now()) / 1000);
        return { ...json(200, await sessionJson(outcome.session, outcome.token), { 'cache-control': 'no-store' }), cookies: [cookie(outcome.token, maxAge)] };
      },
    },
    {
      method: 'GET',
      path: CONSOLE_SESSION_PATH,
      handler: async (event) => {
        const { session, token } = await current(event);
        return json(200, await sessionJson(session, token), { 'cache-control': 'no-store' });
      },
    },
    {
      method: 'DELETE',
      path: CONSOLE_SESSION_PATH,
      handler: async (event) => {
        // signing out takes no body: one sent is a client mistake, refused before anything changes
        if (event.body) throw new BadRequestError([{ token: 'request_body_not_allowed', message: 'DELETE /api/v2/console/session takes no request body' }]);
        const token = sessionToken(event);
        if (token) {
          if (!csrfMatches(token, header(event, CSRF_HEADER))) throw new ForbiddenError([{ token: 'csrf_token_invalid', message: 'signing out needs the X-CSRF-Token of the session' }]);
          await deps.sessions.signOut(token);
        }
        return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '', cookies: [cookie('', 0)] };
      },
    },
    {
      method: 'GET',
      path: CONSOLE_PCES_PATH,
      handler: async (_event: HttpEvent, context: ApiContext) => {
        principal(context);
        return json(200, await reachability(deps.config, deps.urls, deps.pceFqdn, deps.probe), { 'cache-control': 'no-store' });
      },
    },
  ];
}
