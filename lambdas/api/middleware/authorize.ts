/**
 * Authorization (after authentication): decides every request from the declared route table
 * (shared/auth/permissions.ts). A route with no entry is refused 403; public and VEN-protocol routes keep
 * their own authentication. A key's grants come from `grantsOf` (AccessService.grantsOf: its own role and
 * scope, else its user's permissions).
 * It runs after the leader gate (middleware/leader-gate.ts), which has already refused every write on a
 * member that the seed does not allow there: what reaches this middleware is decided as on the leader, so
 * the member rule lives in one place.
 */
import type { MiddlewareObj } from '@middy/core';
import { ForbiddenError } from '../../../shared/api/errors.ts';
import { decide, routePermission, ruleSetScopesOf, scopeContains, type Grant } from '../../../shared/auth/permissions.ts';
import type { ApiKeyRecord } from '../../../shared/auth/api-keys.ts';
import type { ApiContext, HttpEvent, HttpResult } from '../http.ts';

/** Without an AccessService (API tests of other areas only): a key's own role, or owner. The PCE's wiring always resolves grants. */
export const keyRoleGrants = async (key: ApiKeyRecord): Promise<Grant[]> => [{ role: key.role ?? 'owner', scope: key.scope ?? [] }];

const OWN_USER = /^\/api\/v2\/users\/([0-9]{1,15})(\/|$)/;

function templateOf(path: string): string {
  return path.replace(/^\/api\/v2\/orgs\/[^/]+/, '/api/v2/orgs/{org}');
}

export function authorize(isRegistered: (method: string, path: string) => boolean, grantsOf: (key: ApiKeyRecord) => Promise<Grant[]> = keyRoleGrants): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  return {
    before: async (request) => {
      const { method } = request.event.requestContext.http;
      const path = request.event.requestContext.http.path.replace(/\/$/, '');
      const entry = routePermission(method, templateOf(path));
      if (entry?.permission === 'public' || entry?.permission === 'ven') return;
      const caller = request.context.principal;
      if (!caller) return; // unauthenticated requests only reach here on public paths (authenticate refused the rest)
      // unregistered paths and methods fall through to the router's 404/405; a registered route without an entry is refused
      if (!entry && !isRegistered(method, path)) return;
      if (!entry) throw new ForbiddenError([{ token: 'forbidden', message: `${method} ${path}: no declared permission for this route` }]);
      const grants = await grantsOf(caller);
      const ownUser = OWN_USER.exec(path)?.[1];
      // the leader gate ran first: a write still here is on the leader or one the seed allows on members
      const decision = decide(grants, entry, true, { self: ownUser !== undefined && Number(ownUser) === caller.userId });
      if (!decision.allowed) throw new ForbiddenError([{ token: decision.token, message: decision.message }]);
      if (decision.scoped.length === 0) return;
      if (entry.scopedBy !== 'rule_set_body') throw new ForbiddenError([{ token: 'forbidden', message: `missing permission ${entry.permission} outside a scope: a scoped role may write only rule sets it creates or replaces with scopes inside its scope` }]);
      const raw = request.event.body ? (request.event.isBase64Encoded ? Buffer.from(request.event.body, 'base64').toString('utf8') : request.event.body) : '';
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        throw new ForbiddenError([{ token: 'forbidden', message: 'a scoped role must send the rule set scopes to be checked' }]);
      }
      const scopes = ruleSetScopesOf(body);
      if (!scopes || !decision.scoped.some((g) => scopeContains(g.scope, scopes))) throw new ForbiddenError([{ token: 'forbidden', message: `missing permission ${entry.permission} for these rule set scopes: they do not lie inside the caller's scope` }]);
    },
  };
}
