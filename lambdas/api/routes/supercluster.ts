/**
 * Supercluster, health and session routes (no org prefix). Besides the public health checks:
 * - GET /api/v2/supercluster/replication_lag?since=<ISO 8601>: this PCE's replication lag samples (every PCE
 *   pair, one sample per probe interval, the last hour at most; shared/supercluster/lag-history.ts);
 * - GET /api/v2/supercluster/leader_lease: the leader lease as the lease authority holds it (503
 *   leader_lease_unavailable when the authority does not answer this PCE).
 * Both need `read` (every role), are read-only and answer on every PCE.
 */
import { PRODUCT_VERSION } from '../../../shared/product.ts';
import type { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import type { DirectoryStore } from '../../../shared/supercluster/membership.ts';
import { ValidationError } from '../../../shared/api/errors.ts';
import { empty, json, principal, timestampParam, type HttpEvent } from '../http.ts';
import type { ApiRoute } from './route.ts';

/** Paths Route 53 health checks call: no API key. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/api/v2/node_available', '/api/v2/supercluster/leader']);

export const REPLICATION_LAG_PATH = '/api/v2/supercluster/replication_lag';
export const LEADER_LEASE_PATH = '/api/v2/supercluster/leader_lease';

/** `since` (the only parameter of the lag history): an ISO 8601 timestamp, or absent (the last hour). */
function sinceOf(event: HttpEvent): number | undefined {
  const unknown = Object.keys(event.queryStringParameters ?? {}).filter((k) => k !== 'since');
  if (unknown.length > 0) throw new ValidationError(unknown.map((k) => ({ token: 'input_validation_error', message: `${k.slice(0, 40)} is not a parameter of ${REPLICATION_LAG_PATH} (since only)` })));
  return timestampParam(event, 'since');
}

export function superclusterRoutes(deps: { supercluster: SuperclusterService; directory: DirectoryStore }): ApiRoute[] {
  const { supercluster, directory } = deps;
  return [
    { method: 'GET', path: '/api/v2/supercluster/leader', handler: async () => empty((await supercluster.isLeader()) ? 202 : 404) },
    { method: 'GET', path: '/api/v2/node_available', handler: async () => empty((await supercluster.nodeAvailable()) ? 202 : 404) },
    { method: 'GET', path: '/api/v2/health', handler: async () => json(200, await supercluster.health()) },
    { method: 'GET', path: '/api/v2/product_version', handler: async () => json(200, PRODUCT_VERSION) },
    { method: 'GET', path: REPLICATION_LAG_PATH, handler: async (event) => json(200, await supercluster.lagHistory(sinceOf(event)), { 'cache-control': 'no-store' }) },
    { method: 'GET', path: LEADER_LEASE_PATH, handler: async () => json(200, await supercluster.leaderLease(), { 'cache-control': 'no-store' }) },
    {
      method: 'GET',
      path: '/api/v2/users/login',
      handler: async (_event, context) => {
        const caller = principal(context);
        const [user, org, clusterType] = await Promise.all([directory.getUser(caller.userId), directory.getOrg(caller.orgId), supercluster.clusterType()]);
        return json(200, {
          auth_username: caller.authUsername,
          href: `/users/${caller.userId}`,
          full_name: user?.fullName ?? null,
          product_version: PRODUCT_VERSION,
          orgs: [{ org_id: caller.orgId, href: `/orgs/${caller.orgId}`, display_name: org?.name ?? null }],
          pce_cluster_type: clusterType,
        });
      },
    },
  ];
}
