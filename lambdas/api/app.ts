/**
 * The API Lambda as a function of its dependencies: the same middy handler runs in Lambda
 * (lambdas/api.ts wires real clients) and in the local cloud's HTTP gateway.
 */
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MethodNotAllowedError, NotFoundError } from '../../shared/api/errors.ts';
import type { AccessService } from '../../shared/auth/access-service.ts';
import type { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import type { RateLimiter } from '../../shared/auth/rate-limit.ts';
import type { JobService } from '../../shared/jobs/job-service.ts';
import type { LabelService } from '../../shared/labels/label-service.ts';
import type { PairingProfileService } from '../../shared/pairing/pairing-profile-service.ts';
import type { PairingService } from '../../shared/pairing/pairing-service.ts';
import type { VenAdminService } from '../../shared/ven/ven-admin-service.ts';
import type { VenService } from '../../shared/ven/ven-service.ts';
import type { WorkloadSettingsService } from '../../shared/settings/workload-settings-service.ts';
import type { GslbSwitchService } from '../../shared/supercluster/gslb-switch.ts';
import type { LeaderView } from '../../shared/supercluster/leader.ts';
import type { RunlevelView } from '../../shared/supercluster/runlevel.ts';
import type { DirectoryStore } from '../../shared/supercluster/membership.ts';
import type { SuperclusterService } from '../../shared/supercluster/supercluster-service.ts';
import type { WorkloadService } from '../../shared/workloads/workload-service.ts';
import type { ApiContext, HttpEvent, HttpResult } from './http.ts';
import { apiKeyAuth } from './middleware/authenticate.ts';
import { authorize } from './middleware/authorize.ts';
import { compressResponses } from './middleware/compress.ts';
import { illumioErrors } from './middleware/error-handler.ts';
import { leaderGate } from './middleware/leader-gate.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { runlevelGate } from './middleware/runlevel-gate.ts';
import { gslbRoutes, isGslbSwitchPath } from './routes/gslb.ts';
import { jobRoutes } from './routes/jobs.ts';
import { labelRoutes } from './routes/labels.ts';
import { pairingRoutes } from './routes/pairing.ts';
import { venProtocolRoutes } from './routes/ven-protocol.ts';
import { venRoutes } from './routes/vens.ts';
import { policyRoutes, type PolicyApi } from './routes/policy.ts';
import type { ApiRoute } from './routes/route.ts';
import { compiledPolicyRoutes } from './routes/compiled-policy.ts';
import type { CompiledPolicyStore } from '../../shared/compute/ports.ts';
import { settingsRoutes } from './routes/settings.ts';
import { PUBLIC_PATHS, superclusterRoutes } from './routes/supercluster.ts';
import { workloadRoutes } from './routes/workloads.ts';
import { auditTrail } from './middleware/audit-trail.ts';
import { eventRoutes } from './routes/events.ts';
import { accessRoutes } from './routes/access.ts';
import type { AuditTrail } from '../../shared/audit/audit-trail.ts';
import type { ContainerClusterService } from '../../shared/containers/container-cluster-service.ts';
import type { LabelDimensionService } from '../../shared/labels/label-dimension-service.ts';
import { containerClusterRoutes } from './routes/container-clusters.ts';
import { labelDimensionRoutes } from './routes/label-dimensions.ts';
import { firewallSettingsRoutes } from './routes/firewall-settings.ts';
import type { FirewallSettingsService } from '../../shared/policy/settings/firewall-settings.ts';
import { consoleRoutes, consoleSessionAuth, isConsolePublicPath, sessionToken, type ConsoleDeps } from './routes/console.ts';

export interface ApiDeps {
  readonly logger: Logger;
  readonly apiKeys: ApiKeyStore;
  /** requests per minute per API key on this PCE (optional only so that API tests of other areas need not build it) */
  readonly rateLimit?: RateLimiter | null;
  readonly leader: LeaderView;
  readonly directory: DirectoryStore;
  readonly supercluster: SuperclusterService;
  readonly labels: LabelService;
  /** versioned policy routes (optional only so that API tests of other areas need not build it) */
  readonly policy?: PolicyApi;
  readonly workloads: WorkloadService;
  readonly jobs: JobService;
  /** /settings/workloads (optional only so that API tests of other areas need not build it) */
  readonly settings?: WorkloadSettingsService;
  /** /pairing_profiles (leader writes) and their pairing keys (any PCE); optional only so that API tests of other areas need not build them */
  readonly pairingProfiles?: PairingProfileService;
  readonly pairing?: PairingService;
  /** the VEN protocol (its own principal type) and the VEN objects of the REST API; optional only so that API tests of other areas need not build them */
  readonly vens?: { readonly protocol: VenService; readonly admin: VenAdminService };
  /** compiled policy of the workloads this PCE manages (read-only operator view) */
  readonly compiled?: { readonly store: CompiledPolicyStore; readonly pceFqdn: string };
  /** the GSLB switches, public (optional only so that API tests of other areas need not build them) */
  readonly gslb?: { readonly switches: GslbSwitchService; readonly pceFqdn: string };
  /** this PCE's runlevel: below 5 the runlevel gate answers what it does not serve 503 (optional only so that API tests of other areas need not build it) */
  readonly runlevel?: { readonly view: Pick<RunlevelView, 'current'>; readonly pceFqdn: string };
  /** the audit trail: records accepted writes and refused requests, serves /orgs/{org}/events (optional only so that API tests of other areas need not build it) */
  readonly audit?: AuditTrail;
  /** users, API keys per user, roles, permissions, principals, and the grants of each key (optional only so that API tests of other areas need not build it: without it a key acts with its own role, or as owner) */
  readonly access?: AccessService;
  /** /label_dimensions (optional only so that API tests of other areas need not build it) */
  readonly labelDimensions?: LabelDimensionService;
  /** /container_clusters and their container workload profiles (optional only so that API tests of other areas need not build it) */
  readonly containerClusters?: ContainerClusterService;
  /** /sec_policy/{draft,active}/firewall_settings (optional only so that API tests of other areas need not build it) */
  readonly firewallSettings?: FirewallSettingsService;
  /** the web console: its files, sign-in and sessions (optional only so that API tests of other areas need not build it) */
  readonly console?: ConsoleDeps;
}

function routePattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{[^/]+\}/g, '[^/]+')}/?$`);
}

/** Every route the API serves with these dependencies (optional areas only when their dependencies are given). */
export function apiRoutes(deps: ApiDeps): ApiRoute[] {
  return [...superclusterRoutes(deps), ...labelRoutes(deps.labels, deps.jobs), ...(deps.policy ? policyRoutes(deps.policy, deps.jobs) : []), ...(deps.vens ? [...venProtocolRoutes(deps.vens.protocol), ...venRoutes({ vens: deps.vens.admin, jobs: deps.jobs })] : []), ...workloadRoutes(deps), ...jobRoutes(deps.jobs), ...(deps.settings ? settingsRoutes(deps.settings) : []), ...(deps.pairingProfiles && deps.pairing ? pairingRoutes({ profiles: deps.pairingProfiles, keys: deps.pairing, jobs: deps.jobs }) : []), ...(deps.compiled ? compiledPolicyRoutes({ compiled: deps.compiled.store, workloads: deps.workloads, pceFqdn: deps.compiled.pceFqdn }) : []), ...(deps.gslb ? gslbRoutes(deps.gslb) : []), ...(deps.audit ? eventRoutes(deps.audit) : []), ...(deps.access ? accessRoutes(deps.access) : []), ...(deps.labelDimensions ? labelDimensionRoutes(deps.labelDimensions, deps.jobs) : []), ...(deps.containerClusters ? containerClusterRoutes(deps.containerClusters, deps.jobs) : []), ...(deps.firewallSettings ? firewallSettingsRoutes(deps.firewallSettings) : []), ...(deps.console ? consoleRoutes(deps.console, { leader: deps.leader, access: deps.access }) : [])];
}

export function createApiHandler(deps: ApiDeps) {
  const routes = apiRoutes(deps);
  const { access } = deps;
  const patterns = routes.map((r) => ({ method: r.method, pattern: routePattern(r.path) }));

  const router = httpRouterHandler<HttpEvent, HttpResult>({
    routes: routes.map((r) => ({ method: r.method, path: r.path, handler: r.handler })),
    notFoundResponse: ({ method, path }) => {
      // several routes can match one path (`.../workloads/bulk_update` and `.../workloads/{uuid}`): name each method once
      const allowed = [...new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method))];
      if (allowed.length > 0) throw new MethodNotAllowedError([{ token: 'method_not_allowed', message: `${method} is not allowed on ${path} (allowed: ${allowed.join(', ')})` }]);
      throw new NotFoundError([{ token: 'not_found', message: `no API route ${method} ${path}` }]);
    },
  });

  return middy<HttpEvent, HttpResult, Error, ApiContext>()
    // outermost: its after/onError run last, on the final status and body (docs/security.md, Audit trail)
    .use(deps.audit ? [auditTrail(deps.audit, deps.logger)] : [])
    // next, so its after/onError run on the final response (error bodies included), just before the audit trail's
    .use(compressResponses())
    .use(illumioErrors(deps.logger))
    .use(
      apiKeyAuth(
        deps.apiKeys,
        (path) => PUBLIC_PATHS.has(path.replace(/\/$/, '')) || isGslbSwitchPath(path) || (deps.console !== undefined && isConsolePublicPath(path)),
        deps.vens?.protocol,
        undefined,
        deps.console ? { tokenOf: sessionToken, authenticate: consoleSessionAuth(deps.console.sessions) } : undefined,
      ),
    )
    // after auth (it counts per key, and 401s are not counted), before the leader gate and the routes
    .use(deps.rateLimit ? [rateLimit(deps.rateLimit, deps.logger)] : [])
    .use(deps.runlevel ? [runlevelGate(deps.runlevel.view, deps.runlevel.pceFqdn)] : [])
    .use(leaderGate(deps.leader))
    // RBAC from the declared table (shared/auth/permissions.ts), after the leader gate so members keep their 403 naming the leader
    .use(authorize((method, path) => patterns.some((p) => p.method === method && p.pattern.test(path)), access ? (key) => access.grantsOf(key) : undefined))
    .handler((event, context) => router(event, context, { signal: new AbortController().signal }) as Promise<HttpResult>);
}
