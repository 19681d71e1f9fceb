/**
 * /api/v2/orgs/{org}/service_bindings[/{id}]: reads on every PCE, writes (POST, DELETE) on the leader.
 * Filters `virtual_service` and `workload` (hrefs), `external_data_set`, `external_data_reference`,
 * `max_results`; `Prefer: respond-async` answers with a job.
 */
import { ValidationError } from '../../../../shared/api/errors.ts';
import type { JobService } from '../../../../shared/jobs/job-service.ts';
import { serviceBindingToJson, type BindingFilter, type ServiceBindingService } from '../../../../shared/policy/bindings/service-bindings.ts';
import { parseObjectHref } from '../../../../shared/policy/objects/common.ts';
import { empty, json, jsonBody, maxResults, orgOf, pathParam, queryParam, type HttpEvent } from '../../http.ts';
import { accepted, prefersAsync } from '../jobs.ts';
import type { ApiRoute } from '../route.ts';

const BASE = '/api/v2/orgs/{org}/service_bindings';
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function filterOf(event: HttpEvent): BindingFilter {
  const vs = queryParam(event, 'virtual_service');
  const workload = queryParam(event, 'workload');
  const vsRef = vs === undefined ? undefined : parseObjectHref(vs);
  if (vs !== undefined && vsRef?.type !== 'virtual_services') throw new ValidationError([{ token: 'invalid_query_parameter', message: `virtual_service must be the href of a virtual service, got "${vs}"` }]);
  const workloadId = workload === undefined ? undefined : /\/workloads\/([0-9a-fA-F-]{36})$/.exec(workload)?.[1]?.toLowerCase();
  if (workload !== undefined && workloadId === undefined) throw new ValidationError([{ token: 'invalid_query_parameter', message: `workload must be the href of a workload, got "${workload}"` }]);
  return {
    ...(vsRef ? { virtualServiceId: vsRef.id } : {}),
    ...(workloadId ? { workloadId } : {}),
    externalDataSet: queryParam(event, 'external_data_set'),
    externalDataReference: queryParam(event, 'external_data_reference'),
  };
}

function bindingId(event: HttpEvent): string {
  const raw = pathParam(event, 'id');
  if (!UUID.test(raw)) throw new ValidationError([{ token: 'invalid_uri', message: `id must be the UUID of a service binding, got "${raw}"` }]);
  return raw.toLowerCase();
}

export function serviceBindingRoutes(bindings: ServiceBindingService, jobs?: JobService): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: BASE,
      handler: async (event, context) => {
        const actor = orgOf(event, context);
        const filter = filterOf(event);
        if (jobs && prefersAsync(event)) {
          const description = `GET ${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
          return accepted(await jobs.runNow(actor, 'service_bindings:get', description, async () => (await bindings.list(actor.orgId, filter, Number.MAX_SAFE_INTEGER)).items.map(serviceBindingToJson)));
        }
        const { items, total } = await bindings.list(actor.orgId, filter, maxResults(event));
        return json(200, items.map(serviceBindingToJson), { 'x-total-count': String(total) });
      },
    },
    {
      method: 'POST',
      path: BASE,
      handler: async (event, context) => {
        const created = await bindings.create(orgOf(event, context), jsonBody(event));
        return json(201, created.map((b) => ({ href: serviceBindingToJson(b).href })));
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{id}`,
      handler: async (event, context) => json(200, serviceBindingToJson(await bindings.get(orgOf(event, context).orgId, bindingId(event)))),
    },
    {
      method: 'DELETE',
      path: `${BASE}/{id}`,
      handler: async (event, context) => {
        await bindings.delete(orgOf(event, context), bindingId(event));
        return empty(204);
      },
    },
  ];
}
