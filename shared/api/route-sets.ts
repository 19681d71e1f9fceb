/**
 * How a regional API's routes split across functions and throttles (infra/cdk/constructs/regional-api.ts;
 * docs/security.md, "Least privilege in AWS"):
 * - the identity routes (users and their API keys, permissions, principals) go to the identity function, the
 *   only one whose role may write API keys (`APIKEY#*`) and identity items (`AUTH#*`);
 * - the unauthenticated health-check routes Route 53 probes (and /health) have routes of their own, with a
 *   throttle of their own, so a flood on ANY /{proxy+} cannot starve them, nor they the rest;
 * - everything else is ANY /{proxy+} (and ANY /) to the api function.
 * Both functions run the same app (lambdas/api.ts); `API_ROUTE_SET` tells each which paths it serves, so a
 * path API Gateway routes differently (a trailing slash) is refused with 404 instead of failing on IAM.
 */
import { LEADER_PATH, NODE_AVAILABLE_PATH, SWITCH_PATH_PREFIX } from '../supercluster/gslb.ts';

/** Paths (API Gateway route syntax) of the identity routes, each with any method. */
export const IDENTITY_ROUTE_PATHS = [
  '/api/v2/users',
  '/api/v2/users/{proxy+}',
  '/api/v2/orgs/{org}/permissions',
  '/api/v2/orgs/{org}/permissions/{proxy+}',
  '/api/v2/orgs/{org}/auth_security_principals',
  '/api/v2/orgs/{org}/auth_security_principals/{proxy+}',
] as const;

export const HEALTH_PATH = '/api/v2/health';

/** The health-check routes (GET): Route 53's node, leader and switch checks (shared/supercluster/gslb-health-checks.ts) and /health. */
export const HEALTH_CHECK_ROUTE_PATHS = [HEALTH_PATH, NODE_AVAILABLE_PATH, LEADER_PATH, `${SWITCH_PATH_PREFIX}{pce_fqdn}`] as const;

export type ApiRouteSet = 'all' | 'identity' | 'general';

/** A route path as a RegExp with API Gateway's matching: `{name}` one segment, a trailing `{proxy+}` one or more. */
export function gatewayRoutePattern(path: string): RegExp {
  const body = path
    .split('/')
    .map((segment) => (segment === '{proxy+}' ? '.+' : /^\{[^/]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}$`);
}

const IDENTITY_PATTERNS = IDENTITY_ROUTE_PATHS.map(gatewayRoutePattern);
const HEALTH_CHECK_PATTERNS = HEALTH_CHECK_ROUTE_PATHS.map(gatewayRoutePattern);

const matchesAny = (patterns: readonly RegExp[], path: string) => {
  const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return patterns.some((pattern) => pattern.test(normalized));
};

/** True for a path of the identity routes (a trailing slash ignored, as the app's router does). */
export function isIdentityPath(path: string): boolean {
  return matchesAny(IDENTITY_PATTERNS, path);
}

/** True for a path of the health-check routes (a trailing slash ignored): the local gateway exempts them from its concurrency ceiling. */
export function isHealthCheckPath(path: string): boolean {
  return matchesAny(HEALTH_CHECK_PATTERNS, path);
}

export function parseApiRouteSet(value: string | undefined): ApiRouteSet {
  if (value === undefined || value === '' || value === 'all') return 'all';
  if (value === 'identity' || value === 'general') return value;
  throw new Error(`API_ROUTE_SET must be identity, general or unset, got ${value}`);
}

/** Whether a function serving `set` serves `path`. */
export function routeSetServes(set: ApiRouteSet, path: string): boolean {
  if (set === 'all') return true;
  return isIdentityPath(path) === (set === 'identity');
}
