/**
 * /api/v2/orgs/{org}/sec_policy/{draft|active}/{label_groups|services|ip_lists|rule_sets}[/{id}]
 * and .../rule_sets/{id}/sec_rules[/{rule_id}]: reads on every PCE (draft and active), writes on the
 * leader (draft only). Given a JobService, the object collections are also async collections
 * (`Prefer: respond-async`; clients switch to them for large collections).
 */
import type { JobService } from '../../../../shared/jobs/job-service.ts';
import { ValidationError } from '../../../../shared/api/errors.ts';
import { POLICY_OBJECT_TYPES, parseObjectIdSegment, type PolicyObjectType, type PolicyState } from '../../../../shared/policy/objects/common.ts';
import { parseContentFilter } from '../../../../shared/policy/objects/content-filters.ts';
import { objectToJson, ruleToJson } from '../../../../shared/policy/objects/json.ts';
import type { BulkOperation, PolicyObjectService } from '../../../../shared/policy/objects/policy-object-service.ts';
import { empty, externalDataFilter, idParam, json, jsonBody, orgOf, pathParam, queryParam, type HttpEvent } from '../../http.ts';
import { collectionResponse } from '../jobs.ts';
import type { ApiRoute } from '../route.ts';

export const SEC_POLICY = '/api/v2/orgs/{org}/sec_policy';

function portFilter(event: HttpEvent, name: string): number | undefined {
  const raw = queryParam(event, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new ValidationError([{ token: 'invalid_query_parameter', message: `${name} must be a port number 0..65535, got "${raw}"` }]);
  return Number(raw);
}

const filterOf = (event: HttpEvent, type: PolicyObjectType) => ({
  name: queryParam(event, 'name'),
  ...externalDataFilter(event),
  ...(type === 'label_groups' ? { key: queryParam(event, 'key') } : {}),
  content: parseContentFilter(type, event.queryStringParameters ?? {}),
  ...(type === 'virtual_services' ? { servicePort: portFilter(event, 'service_ports.port'), serviceAddressFqdn: queryParam(event, 'service_address.fqdn') } : {}),
});

/**
 * `GET .../label_groups/{id}/member_of`: the label groups that hold this one as a sub-group (the Terraform
 * provider asks before it deletes a group); 404 when the group does not exist in that state.
 */
function memberOfRoute(objects: PolicyObjectService, state: PolicyState): ApiRoute {
  return {
    method: 'GET',
    path: `${SEC_POLICY}/${state}/label_groups/{id}/member_of`,
    handler: async (event, context) => {
      const { orgId } = orgOf(event, context);
      const id = idParam(event, 'id');
      await objects.get(orgId, state, 'label_groups', id);
      const { items } = await objects.list(orgId, state, 'label_groups', {}, Number.MAX_SAFE_INTEGER);
      const parents = items.filter((g) => 'subGroups' in g.object && g.object.subGroups.includes(id));
      return json(200, parents.map((v) => objectToJson(orgId, v)));
    },
  };
}

/** The object id in the path: an integer, or for virtual services the UUID form of one (common.ts objectIdSegment). */
function objectId(event: HttpEvent, type: PolicyObjectType): number {
  const raw = pathParam(event, 'id');
  const id = parseObjectIdSegment(type, raw);
  if (id === null) throw new ValidationError([{ token: 'invalid_uri', message: `id must be ${type === 'virtual_services' ? 'the UUID of a virtual service' : 'a positive integer'}, got "${raw}"` }]);
  return id;
}

/** bulk routes (Illumio has them for virtual services), before `{id}`: the router tries dynamic routes in order */
const BULK_TYPES: ReadonlySet<PolicyObjectType> = new Set(['virtual_services']);
const BULK: readonly [string, BulkOperation][] = [
  ['bulk_create', 'create'],
  ['bulk_update', 'update'],
  ['bulk_delete', 'delete'],
];

function objectRoutes(objects: PolicyObjectService, type: PolicyObjectType, jobs: JobService | undefined): ApiRoute[] {
  const reads = (['draft', 'active'] as const).flatMap((state: PolicyState): ApiRoute[] => [
    {
      method: 'GET',
      path: `${SEC_POLICY}/${state}/${type}`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const filter = filterOf(event, type);
        return collectionResponse(event, context, jobs, `${type}:get`, {
          page: async (max) => {
            const { items, total } = await objects.list(orgId, state, type, filter, max);
            return { items: items.map((v) => objectToJson(orgId, v)), total };
          },
        });
      },
    },
    {
      method: 'GET',
      path: `${SEC_POLICY}/${state}/${type}/{id}`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        return json(200, objectToJson(orgId, await objects.get(orgId, state, type, objectId(event, type))));
      },
    },
    ...(type === 'label_groups' ? [memberOfRoute(objects, state)] : []),
  ]);
  const bulk = BULK_TYPES.has(type)
    ? BULK.map(([segment, operation]): ApiRoute => ({
        method: 'PUT',
        path: `${SEC_POLICY}/draft/${type}/${segment}`,
        handler: async (event, context) => json(200, await objects.bulk(orgOf(event, context), type, operation, jsonBody(event))),
      }))
    : [];
  return [
    ...bulk,
    ...reads,
    {
      method: 'POST',
      path: `${SEC_POLICY}/draft/${type}`,
      handler: async (event, context) => {
        const actor = orgOf(event, context);
        return json(201, objectToJson(actor.orgId, await objects.create(actor, type, jsonBody(event))));
      },
    },
    {
      method: 'PUT',
      path: `${SEC_POLICY}/draft/${type}/{id}`,
      handler: async (event, context) => {
        await objects.update(orgOf(event, context), type, objectId(event, type), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${SEC_POLICY}/draft/${type}/{id}`,
      handler: async (event, context) => {
        await objects.delete(orgOf(event, context), type, objectId(event, type));
        return empty(204);
      },
    },
  ];
}

function ruleRoutes(objects: PolicyObjectService, jobs: JobService | undefined): ApiRoute[] {
  const rules = (state: PolicyState) => `${SEC_POLICY}/${state}/rule_sets/{id}/sec_rules`;
  const reads = (['draft', 'active'] as const).flatMap((state: PolicyState): ApiRoute[] => [
    {
      method: 'GET',
      path: rules(state),
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const ruleSetId = idParam(event, 'id');
        return collectionResponse(event, context, jobs, 'sec_rules:get', {
          page: async (max) => {
            const { items, total } = await objects.listRules(orgId, state, ruleSetId, max);
            return { items: items.map((v) => ruleToJson(orgId, v)), total };
          },
        });
      },
    },
    {
      method: 'GET',
      path: `${rules(state)}/{rule_id}`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        return json(200, ruleToJson(orgId, await objects.getRule(orgId, state, idParam(event, 'id'), idParam(event, 'rule_id'))));
      },
    },
  ]);
  return [
    ...reads,
    {
      method: 'POST',
      path: rules('draft'),
      handler: async (event, context) => {
        const actor = orgOf(event, context);
        return json(201, ruleToJson(actor.orgId, await objects.createRule(actor, idParam(event, 'id'), jsonBody(event))));
      },
    },
    {
      method: 'PUT',
      path: `${rules('draft')}/{rule_id}`,
      handler: async (event, context) => {
        await objects.updateRule(orgOf(event, context), idParam(event, 'id'), idParam(event, 'rule_id'), jsonBody(event));
        return empty(204);
      },
    },
    {
      method: 'DELETE',
      path: `${rules('draft')}/{rule_id}`,
      handler: async (event, context) => {
        await objects.deleteRule(orgOf(event, context), idParam(event, 'id'), idParam(event, 'rule_id'));
        return empty(204);
      },
    },
  ];
}

export function policyObjectRoutes(objects: PolicyObjectService, jobs?: JobService): ApiRoute[] {
  return [...POLICY_OBJECT_TYPES.flatMap((type) => objectRoutes(objects, type, jobs)), ...ruleRoutes(objects, jobs)];
}
