/**
 * /api/v2/orgs/{org}/sec_policy: pending changes, provisioning (leader) and the version history.
 *   GET  .../sec_policy/pending    {label_groups, services, ip_lists, rule_sets: [{href, name, update_type, updated_at, updated_by}]}
 *   POST .../sec_policy            {update_description?, change_subset?} -> 201 {href, version, commit_message, created_at, created_by, object_counts, workloads_affected}
 *   GET  .../sec_policy            versions, newest first (max_results, X-Total-Count)
 *   GET  .../sec_policy/{version}
 */
import { pendingToJson, policyVersionToJson } from '../../../../shared/policy/objects/json.ts';
import type { ProvisioningService } from '../../../../shared/policy/objects/provisioning-service.ts';
import { idParam, json, jsonBody, maxResults, orgOf } from '../../http.ts';
import type { ApiRoute } from '../route.ts';
import { SEC_POLICY } from './objects.ts';

export function provisioningRoutes(provisioning: ProvisioningService): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: `${SEC_POLICY}/pending`,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        return json(200, pendingToJson(orgId, await provisioning.pending(orgId)));
      },
    },
    {
      method: 'POST',
      path: SEC_POLICY,
      handler: async (event, context) => json(201, policyVersionToJson(await provisioning.provision(orgOf(event, context), jsonBody(event)))),
    },
    {
      method: 'GET',
      path: SEC_POLICY,
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const { items, total } = await provisioning.listVersions(orgId, maxResults(event));
        return json(200, items.map(policyVersionToJson), { 'x-total-count': String(total) });
      },
    },
    {
      method: 'GET',
      path: `${SEC_POLICY}/{version}`,
      handler: async (event, context) => json(200, policyVersionToJson(await provisioning.getVersion(orgOf(event, context).orgId, idParam(event, 'version')))),
    },
  ];
}
