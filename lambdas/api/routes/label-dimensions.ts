/** /api/v2/orgs/{org}/label_dimensions[/{id}]: the org's label keys; readable on every PCE, writable on the leader. */
import { notFound } from '../../../shared/api/errors.ts';
import type { JobService } from '../../../shared/jobs/job-service.ts';
import type { LabelDimensionService } from '../../../shared/labels/label-dimension-service.ts';
import { empty, externalDataFilter, json, jsonBody, orgOf, pathParam, queryParam, type HttpEvent } from '../http.ts';
import { collectionRoute } from './jobs.ts';
import type { ApiRoute } from './route.ts';

const BASE = '/api/v2/orgs/{org}/label_dimensions';

/** A document id from the path (a UUID or a built-in key); 404 for anything else. */
export function documentIdParam(event: HttpEvent, name: string, what: string): string {
  const id = pathParam(event, name);
  if (!/^[a-zA-Z0-9-]{1,64}$/.test(id)) throw notFound(`${what} ${id.slice(0, 80)}`);
  return id;
}

export function labelDimensionRoutes(dimensions: LabelDimensionService, jobs?: JobService): ApiRoute[] {
  return [
    collectionRoute(
      BASE,
      jobs,
      'label_dimensions:get',
      (event) => ({ key: queryParam(event, 'key'), displayName: queryParam(event, 'display_name'), ...externalDataFilter(event) }),
      (orgId, filter, max) => dimensions.list(orgId, filter, max),
    ),
    { method: 'POST', path: BASE, handler: async (event, context) => json(201, await dimensions.create(orgOf(event, context), jsonBody(event))) },
    { method: 'GET', path: `${BASE}/{id}`, handler: async (event, context) => json(200, await dimensions.getJson(orgOf(event, context).orgId, documentIdParam(event, 'id', 'label dimension'))) },
    {
      method: 'PUT',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await dimensions.update(orgOf(event, context), documentIdParam(event, 'id', 'label dimension'), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await dimensions.delete(orgOf(event, context), documentIdParam(event, 'id', 'label dimension'));
        return empty(204);
      },
    },
  ];
}
