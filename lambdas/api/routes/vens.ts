/**
 * /api/v2/orgs/{org}/vens, /agents/{id}/update and the unpair calls: readable on every PCE (heartbeats
 * only on the VEN's managing PCE), writable on the leader (the leader gate and the leader fence).
 */
import type { JobService } from '../../../shared/jobs/job-service.ts';
import type { VenAdminService } from '../../../shared/ven/ven-admin-service.ts';
import { empty, json, jsonBody, orgOf, pathParam, queryParam } from '../http.ts';
import { collectionResponse } from './jobs.ts';
import type { ApiRoute } from './route.ts';

const ORG = '/api/v2/orgs/{org}';
export const VENS_JOB_TYPE = 'vens:get';

export function venRoutes(deps: { vens: VenAdminService; jobs: JobService }): ApiRoute[] {
  const { vens, jobs } = deps;
  return [
    {
      method: 'GET',
      path: `${ORG}/vens`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const filter = { hostname: queryParam(event, 'hostname'), status: queryParam(event, 'status'), activePceFqdn: queryParam(event, 'active_pce_fqdn') ?? queryParam(event, 'agent.active_pce_fqdn') };
        return collectionResponse(event, context, jobs, VENS_JOB_TYPE, { page: (max) => vens.list(orgId, filter, max) });
      },
    },
    // before {id}: the router tries dynamic routes in order
    {
      method: 'PUT',
      path: `${ORG}/vens/unpair`,
      handler: async (event, context) => {
        await vens.unpairVens(orgOf(event, context), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'PUT',
      path: `${ORG}/workloads/unpair`,
      handler: async (event, context) => {
        await vens.unpairWorkloads(orgOf(event, context), jsonBody(event));
        return empty(204);
      },
    },
    { method: 'GET', path: `${ORG}/vens/{id}`, handler: async (event, context) => json(200, await vens.get(orgOf(event, context).orgId, pathParam(event, 'id'))) },
    {
      method: 'PUT',
      path: `${ORG}/vens/{id}`,
      handler: async (event, context) => {
        await vens.update(orgOf(event, context), pathParam(event, 'id'), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'PUT',
      path: `${ORG}/agents/{id}/update`,
      handler: async (event, context) => {
        await vens.update(orgOf(event, context), pathParam(event, 'id'), jsonBody(event));
        return empty(204);
      },
    },
  ];
}
