/** /api/v2/orgs/{org}/labels: readable on every PCE, writable on the leader. */
import { labelToJson } from '../../../shared/labels/label.ts';
import type { LabelService } from '../../../shared/labels/label-service.ts';
import type { JobService } from '../../../shared/jobs/job-service.ts';
import { empty, externalDataFilter, idParam, json, jsonBody, orgOf, queryParam } from '../http.ts';
import { collectionRoute } from './jobs.ts';
import type { ApiRoute } from './route.ts';

const BASE = '/api/v2/orgs/{org}/labels';

/** `jobs`: the collection also answers `Prefer: respond-async` (routes/jobs.ts collectionResponse). */
export function labelRoutes(labels: LabelService, jobs?: JobService): ApiRoute[] {
  return [
    collectionRoute(
      BASE,
      jobs,
      'labels:get',
      (event) => ({ key: queryParam(event, 'key'), value: queryParam(event, 'value'), ...externalDataFilter(event) }),
      async (orgId, filter, max) => {
        const { items, total } = await labels.list(orgId, filter, max);
        return { items: items.map(labelToJson), total };
      },
    ),
    {
      method: 'GET',
      path: `${BASE}/{id}`,
      handler: async (event, context) => json(200, labelToJson(await labels.get(orgOf(event, context).orgId, idParam(event, 'id')))),
    },
    {
      method: 'POST',
      path: BASE,
      handler: async (event, context) => json(201, labelToJson(await labels.create(orgOf(event, context), jsonBody(event)))),
    },
    {
      method: 'PUT',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await labels.update(orgOf(event, context), idParam(event, 'id'), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await labels.delete(orgOf(event, context), idParam(event, 'id'));
        return empty(204);
      },
    },
  ];
}
