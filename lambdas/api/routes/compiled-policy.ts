/**
 * GET /api/v2/orgs/{org}/workloads/{id}/compiled_policy: the firewall policy this PCE computed for a
 * workload it manages (docs/compiled-policy.md), read from the stored layout (pointer, group, rule list,
 * sets); `policy_version` is the org's head version on this PCE. Read-only, for operators (VENs use the
 * VEN protocol's policy call). Only for a workload the org has (404 otherwise, like GET .../workloads/{id}):
 * a compiled policy left behind for a deleted workload is not shown.
 */
import { NotFoundError } from '../../../shared/api/errors.ts';
import type { CompiledPolicyStore } from '../../../shared/compute/ports.ts';
import type { CompiledRule } from '../../../shared/policy/compiled.ts';
import type { WorkloadService } from '../../../shared/workloads/workload-service.ts';
import { json, orgOf, pathParam } from '../http.ts';
import type { ApiRoute } from './route.ts';

const ruleJson = (r: CompiledRule) => ({
  rule_id: r.ruleId,
  peers: r.peers,
  services: r.services.map((s) => ({ proto: s.proto, port: s.port ?? null, to_port: s.toPort ?? null })),
  ...(r.action === undefined ? {} : { action: r.action }),
});

export function compiledPolicyRoutes(deps: { compiled: Pick<CompiledPolicyStore, 'getPolicy' | 'getIpSets'>; workloads: Pick<WorkloadService, 'get'>; pceFqdn: string }): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/v2/orgs/{org}/workloads/{id}/compiled_policy',
      handler: async (event, context) => {
        const { orgId } = orgOf(event, context);
        const id = pathParam(event, 'id');
        // like GET .../workloads/{id}: an id that cannot name a workload is unknown (404), not invalid input
        if (!/^[a-zA-Z0-9-]{1,64}$/.test(id)) throw new NotFoundError([{ token: 'invalid_uri', message: `workload id must match [a-zA-Z0-9-], got "${id}"` }]);
        // a workload of this org (404 not_found otherwise), read alongside its policy
        const [, stored] = await Promise.all([deps.workloads.get(orgId, id), deps.compiled.getPolicy(orgId, id)]);
        if (!stored) {
          throw new NotFoundError([
            { token: 'compiled_policy_not_found', message: `${deps.pceFqdn} holds no compiled policy for workload ${id}: policy is computed by the PCE that manages the workload (or nothing is provisioned yet)` },
          ]);
        }
        const { policy } = stored;
        const sets = await deps.compiled.getIpSets(orgId, policy.ipSetIds);
        return json(200, {
          workload: { href: `/orgs/${orgId}/workloads/${policy.workloadId}` },
          pce_fqdn: deps.pceFqdn,
          policy_version: policy.policyVersion,
          enforcement_mode: policy.enforcementMode,
          enforced: policy.enforced,
          default_deny: policy.defaultDeny,
          rules_hash: policy.rulesHash,
          computed_at: new Date(stored.computedAt).toISOString(),
          inbound: policy.inbound.map(ruleJson),
          outbound: policy.outbound.map(ruleJson),
          ip_sets: sets.map((s) => ({ id: s.id, members: s.members, hash: s.hash })),
        });
      },
    },
  ];
}
