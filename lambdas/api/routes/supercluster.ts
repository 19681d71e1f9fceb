/** Supercluster, health and session routes (no org prefix). */
import { PRODUCT_VERSION } from '../../../shared/product.ts';
import type { SuperclusterService } from '../../../shared/supercluster/supercluster-service.ts';
import type { DirectoryStore } from '../../../shared/supercluster/membership.ts';
import { empty, json, principal } from '../http.ts';
import type { ApiRoute } from './route.ts';

/** Paths Route 53 health checks call: no API key. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/api/v2/node_available', '/api/v2/supercluster/leader']);

export function superclusterRoutes(deps: { supercluster: SuperclusterService; directory: DirectoryStore }): ApiRoute[] {
  const { supercluster, directory } = deps;
  return [
    { method: 'GET', path: '/api/v2/supercluster/leader', handler: async () => empty((await supercluster.isLeader()) ? 202 : 404) },
    { method: 'GET', path: '/api/v2/node_available', handler: async () => empty((await supercluster.nodeAvailable()) ? 202 : 404) },
    { method: 'GET', path: '/api/v2/health', handler: async () => json(200, await supercluster.health()) },
    { method: 'GET', path: '/api/v2/product_version', handler: async () => json(200, PRODUCT_VERSION) },
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
