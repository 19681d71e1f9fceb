/**
 * /api/v2/orgs/{org}/workloads: readable on every PCE (also as an async collection), writable on the
 * leader (the leader gate answers a member's write with 403; the storage fence catches a demoted leader).
 */
import type { JobService } from '../../../shared/jobs/job-service.ts';
import { parseWorkloadFilter } from '../../../shared/workloads/filter.ts';
import type { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { empty, json, jsonBody, orgOf, pathParam } from '../http.ts';
import { collectionResponse } from './jobs.ts';
import type { ApiRoute } from './route.ts';

const BASE = '/api/v2/orgs/{org}/workloads';

export const WORKLOADS_JOB_TYPE = 'workloads:get';

export function workloadRoutes(deps: { workloads: WorkloadService; jobs: JobService }): ApiRoute[] {
  const { workloads, jobs } = deps;
  return [
    {
      method: 'GET',
      path: BASE,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const filter = parseWorkloadFilter(orgId, event.queryStringParameters ?? {});
        return collectionResponse(event, context, jobs, WORKLOADS_JOB_TYPE, {
          page: async (max) => {
            const { items, total } = await workloads.list(orgId, filter, max);
            return { items: await workloads.toJson(orgId, items), total };
          },
          all: async () => workloads.toJson(orgId, await workloads.listAll(orgId, filter)),
        });
      },
    },
    {
      method: 'POST',
      path: BASE,
      handler: async (event, context) => {
        return json(201, await workloads.createJson(orgOf(event, context), jsonBody(event)));
      },
    },
    // bulk routes before {id}: the router tries dynamic routes in order
    {
      method: 'PUT',
      path: `${BASE}/bulk_create`,
      handler: async (event, context) => json(200, await workloads.bulkCreate(orgOf(event, context), jsonBody(event))),
    },
    {
      method: 'PUT',
      path: `${BASE}/bulk_update`,
      handler: async (event, context) => json(200, await workloads.bulkUpdate(orgOf(event, context), jsonBody(event))),
    },
    {
      method: 'PUT',
      path: `${BASE}/bulk_delete`,
      handler: async (event, context) => json(200, await workloads.bulkDelete(orgOf(event, context), jsonBody(event))),
    },
    {
      method: 'GET',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const [workload] = await workloads.toJson(orgId, [await workloads.get(orgId, pathParam(event, 'id'))]);
        return json(200, workload);
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await workloads.update(orgOf(event, context), pathParam(event, 'id'), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await workloads.delete(orgOf(event, context), pathParam(event, 'id'));
        return empty(204);
      },
    },
  ];
}
