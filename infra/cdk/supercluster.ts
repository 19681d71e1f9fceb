/**
 * Composes the supercluster's stacks from one validated config:
 *   <name>-global-data     stateful, leader's region: the global table and its replicas
 *   <name>-leader-lease    stateful, the lease's home region: the MRSC leader lease table (docs/adr/0012)
 *   <name>-regional-<region> one per PCE: local table, functions, queues, API, the PCE's DNS record
 *   <name>-gslb            us-east-1: Route 53 health checks, geolocation / failover / leader records
 * Deploy order (stack dependencies): global data, leader lease -> every regional stack -> GSLB.
 */
import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { initialLeader, type SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { leasePlacementOf } from '../../shared/supercluster/lease-config.ts';
import { GlobalDataStack } from './stacks/global-data-stack.ts';
import { LeaderLeaseStack } from './stacks/leader-lease-stack.ts';
import { GSLB_REGION, GslbStack } from './stacks/gslb-stack.ts';
import { RegionalPceStack } from './stacks/regional-pce-stack.ts';

export interface SuperclusterStacks {
  readonly globalData: GlobalDataStack;
  readonly leaderLease: LeaderLeaseStack;
  readonly regional: readonly RegionalPceStack[];
  readonly gslb: GslbStack;
}

export const stackIds = {
  globalData: (config: SuperclusterConfig) => `${config.name}-global-data`,
  leaderLease: (config: SuperclusterConfig) => `${config.name}-leader-lease`,
  regional: (config: SuperclusterConfig, region: string) => `${config.name}-regional-${region}`,
  gslb: (config: SuperclusterConfig) => `${config.name}-gslb`,
};

/** Environment-agnostic account (no lookups, synth without credentials); the region comes from the config. */
export function buildSupercluster(app: App, config: SuperclusterConfig): SuperclusterStacks {
  const leader = initialLeader(config);

  const globalData = new GlobalDataStack(app, stackIds.globalData(config), {
    env: { region: leader.region },
    description: `PCE supercluster ${config.name}: global table (stateful)`,
    terminationProtection: true,
    config,
  });

  const leaderLease = new LeaderLeaseStack(app, stackIds.leaderLease(config), {
    env: { region: leasePlacementOf(config).replicas[0] ?? leader.region },
    description: `PCE supercluster ${config.name}: leader lease table (stateful, multi-Region strong consistency)`,
    terminationProtection: true,
    config,
  });

  const regional = config.pces.map((pce) => {
    const stack = new RegionalPceStack(app, stackIds.regional(config, pce.region), {
      env: { region: pce.region },
      description: `PCE supercluster ${config.name}: PCE ${pce.fqdn} in ${pce.region}`,
      config,
      pce,
    });
    stack.addStackDependency(globalData, 'the global-table replica in this region must exist before its stream is wired');
    stack.addStackDependency(leaderLease, 'the api and scheduled functions renew the leader lease in its table');
    return stack;
  });

  const gslb = new GslbStack(app, stackIds.gslb(config), {
    env: { region: GSLB_REGION },
    description: `PCE supercluster ${config.name}: Route 53 GSLB records and health checks`,
    config,
  });
  for (const stack of regional) gslb.addStackDependency(stack, 'GSLB aliases point at the PCE records owned by the regional stacks');

  Tags.of(app).add('pce-supercluster', config.name);
  return { globalData, leaderLease, regional, gslb };
}

/** cdk-nag v3 runs as a CDK policy-validation plugin: any unacknowledged finding stops synthesis. */
export function applyNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
