/**
 * Versioned policy (Illumio sec_policy): draft objects and rules, their active versions, pending
 * changes and provisioning. Readable on every PCE; every write is a leader write (the leader gate
 * answers members with 403, the storage fence refuses a demoted leader).
 */
import type { JobService } from '../../../shared/jobs/job-service.ts';
import type { PolicyObjectService } from '../../../shared/policy/objects/policy-object-service.ts';
import type { ProvisioningService } from '../../../shared/policy/objects/provisioning-service.ts';
import type { ServiceBindingService } from '../../../shared/policy/bindings/service-bindings.ts';
import { policyObjectRoutes } from './policy/objects.ts';
import { provisioningRoutes } from './policy/provisioning.ts';
import { serviceBindingRoutes } from './policy/service-bindings.ts';
import type { ApiRoute } from './route.ts';

export interface PolicyApi {
  readonly objects: PolicyObjectService;
  readonly provisioning: ProvisioningService;
  /** /orgs/{org}/service_bindings (absent: not served) */
  readonly bindings?: ServiceBindingService;
}

/** `jobs`: answer `Prefer: respond-async` on the object collections with a job (as the workload collection does). */
export function policyRoutes(policy: PolicyApi, jobs?: JobService): ApiRoute[] {
  return [...policyObjectRoutes(policy.objects, jobs), ...provisioningRoutes(policy.provisioning), ...(policy.bindings ? serviceBindingRoutes(policy.bindings, jobs) : [])];
}
