/**
 * /api/v2/orgs/{org}/container_clusters[/{id}] and .../{id}/container_workload_profiles[/{profile_id}]:
 * readable on every PCE, writable on the leader. The POST of a cluster answers its token once.
 */
import { ValidationError } from '../../../shared/api/errors.ts';
import type { ContainerClusterService } from '../../../shared/containers/container-cluster-service.ts';
import type { JobService } from '../../../shared/jobs/job-service.ts';
import { empty, json, jsonBody, orgOf, queryParam } from '../http.ts';
import { collectionResponse, collectionRoute } from './jobs.ts';
import { documentIdParam } from './label-dimensions.ts';
import type { ApiRoute } from './route.ts';

const BASE = '/api/v2/orgs/{org}/container_clusters';
const PROFILES = `${BASE}/{id}/container_workload_profiles`;

export function containerClusterRoutes(clusters: ContainerClusterService, jobs?: JobService): ApiRoute[] {
  const cluster = (event: Parameters<ApiRoute['handler']>[0]) => documentIdParam(event, 'id', 'container cluster');
  const profile = (event: Parameters<ApiRoute['handler']>[0]) => documentIdParam(event, 'profile_id', 'container workload profile');
  return [
    collectionRoute(BASE, jobs, 'container_clusters:get', (event) => ({ name: queryParam(event, 'name') }), (orgId, filter, max) => clusters.list(orgId, filter, max)),
    { method: 'POST', path: BASE, handler: async (event, context) => json(201, await clusters.create(orgOf(event, context), jsonBody(event)), { 'cache-control': 'no-store' }) },
    { method: 'GET', path: `${BASE}/{id}`, handler: async (event, context) => json(200, await clusters.getJson(orgOf(event, context).orgId, cluster(event))) },
    {
      method: 'PUT',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await clusters.update(orgOf(event, context), cluster(event), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await clusters.delete(orgOf(event, context), cluster(event));
        return empty(204);
      },
    },
    {
      method: 'GET',
      path: PROFILES,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const clusterId = cluster(event);
        const flag = (name: string) => {
          const raw = queryParam(event, name)?.toLowerCase();
          if (raw === undefined) return undefined;
          if (raw !== 'true' && raw !== 'false') throw new ValidationError([{ token: 'input_validation_error', message: `${name} must be true or false, got "${raw}"` }]);
          return raw === 'true';
        };
        const filter = {
          name: queryParam(event, 'name'),
          namespace: queryParam(event, 'namespace'),
          enforcementMode: queryParam(event, 'enforcement_mode'),
          visibilityLevel: queryParam(event, 'visibility_level'),
          managed: flag('managed'),
          linked: flag('linked'),
        };
        return collectionResponse(event, context, jobs, 'container_workload_profiles:get', { page: (max) => clusters.listProfiles(orgId, clusterId, filter, max) });
      },
    },
    { method: 'POST', path: PROFILES, handler: async (event, context) => json(201, await clusters.createProfile(orgOf(event, context), cluster(event), jsonBody(event))) },
    { method: 'GET', path: `${PROFILES}/{profile_id}`, handler: async (event, context) => json(200, await clusters.getProfileJson(orgOf(event, context).orgId, cluster(event), profile(event))) },
    {
      method: 'PUT',
      path: `${PROFILES}/{profile_id}`,
      handler: async (event, context) => {
        await clusters.updateProfile(orgOf(event, context), cluster(event), profile(event), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${PROFILES}/{profile_id}`,
      handler: async (event, context) => {
        await clusters.deleteProfile(orgOf(event, context), cluster(event), profile(event));
        return empty(204);
      },
    },
  ];
}
