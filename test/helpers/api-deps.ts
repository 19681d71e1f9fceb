/**
 * The ApiDeps every in-process API test over fakes starts from: this PCE's leader view, labels, workloads,
 * jobs, supercluster status and RBAC over a fake identity store. Tests spread it and add what they exercise.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { ApiDeps } from '../../lambdas/api/app.ts';
import { AccessService, apiFencing } from '../../shared/auth/access-service.ts';
import { JobService } from '../../shared/jobs/job-service.ts';
import type { LabelStore } from '../../shared/labels/label.ts';
import { LabelService } from '../../shared/labels/label-service.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { LeaderView } from '../../shared/supercluster/leader.ts';
import { SuperclusterService } from '../../shared/supercluster/supercluster-service.ts';
import { WorkloadService } from '../../shared/workloads/workload-service.ts';
import { FakeDirectory, FakeLagStore, FakeLeaderStore, FakeRuntimeState, FakeStatusStore } from './fakes.ts';
import type { FakeIdentityStore } from './identity-fakes.ts';
import { FakeJobStore, FakeWorkloadStore } from './workload-fakes.ts';

export function baseApiDeps(opts: { config: SuperclusterConfig; region: string; leaderStore: FakeLeaderStore; identity: FakeIdentityStore; labels: LabelStore; now?: () => number }) {
  const { config, region, leaderStore, identity, labels } = opts;
  const pce = config.pces.find((p) => p.region === region);
  if (!pce) throw new Error(region);
  const leader = new LeaderView(leaderStore, region, 0);
  return {
    logger: new Logger({ logLevel: 'SILENT' }),
    apiKeys: identity,
    leader,
    directory: new FakeDirectory(),
    labels: new LabelService({ labels, leader }),
    workloads: new WorkloadService({ workloads: new FakeWorkloadStore(leaderStore), labels, leader, pceFqdns: config.pces.map((p) => p.fqdn) }),
    jobs: new JobService({ jobs: new FakeJobStore() }),
    supercluster: new SuperclusterService({ config, pce, leader, statuses: new FakeStatusStore(), lags: new FakeLagStore(), runtime: new FakeRuntimeState() }),
    access: new AccessService({ identity, apiKeys: identity, labels, fencing: apiFencing(leader), ...(opts.now ? { now: opts.now } : {}) }),
  } satisfies Partial<ApiDeps>;
}
