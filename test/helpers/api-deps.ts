/**
 * The ApiDeps every in-process API test over fakes starts from (coreApiDeps; baseApiDeps adds RBAC over a fake
 * identity store). Tests spread them and add what they exercise.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler, type ApiDeps } from '../../lambdas/api/app.ts';
import { AccessService, apiFencing, ensureOwnerUser } from '../../shared/auth/access-service.ts';
import { JobService } from '../../shared/jobs/job-service.ts';
import type { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import type { LabelStore } from '../../shared/labels/label.ts';
import { LabelService } from '../../shared/labels/label-service.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { LeaderView } from '../../shared/supercluster/leader.ts';
import { SuperclusterService, type SuperclusterServiceDeps } from '../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../shared/workloads/workload-service.ts';
import { httpEvent, lambdaContext } from './events.ts';
import { FakeDirectory, FakeLabelStore, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from './fakes.ts';
import { FakeIdentityStore } from './identity-fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from './workload-fakes.ts';

/**
 * The ApiDeps without RBAC (any valid key may call any route): this PCE's leader view, labels, workloads, jobs and
 * supercluster status over fakes, authenticated against `apiKeys`. `supercluster` replaces the SuperclusterService's
 * fake stores (e.g. a runtime state the test drives).
 */
export function coreApiDeps(opts: { config: SuperclusterConfig; region: string; leaderStore: FakeLeaderStore; apiKeys: ApiKeyStore; labels: LabelStore; supercluster?: Partial<SuperclusterServiceDeps> }) {
  const { config, region, leaderStore, apiKeys, labels } = opts;
  const pce = config.pces.find((p) => p.region === region);
  if (!pce) throw new Error(region);
  const leader = new LeaderView(leaderStore, region, 0);
  return {
    logger: new Logger({ logLevel: 'SILENT' }),
    apiKeys,
    leader,
    directory: new FakeDirectory(),
    labels: new LabelService({ labels, leader }),
    workloads: new WorkloadService({ workloads: new FakeWorkloadStore(leaderStore), labels, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
    jobs: new JobService({ jobs: new FakeJobStore() }),
    supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState(), ...opts.supercluster }),
  } satisfies Partial<ApiDeps>;
}

/** coreApiDeps with RBAC: keys and users from a fake identity store, checked by an AccessService. */
export function baseApiDeps(opts: { config: SuperclusterConfig; region: string; leaderStore: FakeLeaderStore; identity: FakeIdentityStore; labels: LabelStore; now?: () => number; supercluster?: Partial<SuperclusterServiceDeps> }) {
  const { identity, labels } = opts;
  const core = coreApiDeps({ ...opts, apiKeys: identity });
  return {
    ...core,
    access: new AccessService({ identity, apiKeys: identity, labels, fencing: apiFencing(core.leader), ...(opts.now ? { now: opts.now } : {}) }),
  } satisfies Partial<ApiDeps>;
}

/**
 * The API of the PCE in `region` with its SuperclusterService given `supercluster` (lag history, lease, probe...),
 * and a `read_only` key (the smallest role: what every role may read) to call it with.
 */
export async function readOnlySuperclusterApi(opts: { config: SuperclusterConfig; region: string; leaderStore: FakeLeaderStore; supercluster: Partial<SuperclusterServiceDeps> }) {
  const { config, region, leaderStore } = opts;
  const record = await leaderStore.get();
  if (!record) throw new Error('the leader store needs a leader record');
  const identity = new FakeIdentityStore(leaderStore);
  const labels = new FakeLabelStore(leaderStore);
  const fence = { region: record.leaderRegion, epoch: record.epoch };
  await ensureOwnerUser(identity, fence, { id: 1, orgId: 1, username: 'admin', fullName: 'Admin', createdAt: 0 });
  const key = await new AccessService({ identity, apiKeys: identity, labels, fencing: apiFencing(new LeaderView(leaderStore, record.leaderRegion, 0)) }).createRoleKey({ orgId: 1, userId: 1, role: 'read_only', scope: [] });
  const base = baseApiDeps({ config, region, leaderStore, identity, labels, supercluster: opts.supercluster });
  const { supercluster } = base;
  const handler = createApiHandler(base);
  const auth = { username: key.record.authUsername, secret: key.secret };
  return {
    supercluster,
    auth,
    get: (path: string, withAuth = true) => handler(httpEvent('GET', path, { auth: withAuth ? auth : null }), lambdaContext()),
  };
}
