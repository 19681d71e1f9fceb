/**
 * Builds the CDK app for infra tests. Bundling is skipped (context aws:cdk:bundling-stacks = []):
 * templates are identical apart from asset hashes, and the suite stays fast. pce-function.test.ts
 * bundles for real.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadSuperclusterConfig } from '../../infra/config/load.ts';
import { buildSupercluster, type SuperclusterStacks } from '../../infra/cdk/supercluster.ts';
import { parseSuperclusterConfig, type SuperclusterConfig } from '../../shared/supercluster/config.ts';

export interface SynthesizedSupercluster {
  readonly app: App;
  readonly config: SuperclusterConfig;
  readonly stacks: SuperclusterStacks;
}

export function synthSupercluster(config: SuperclusterConfig = loadSuperclusterConfig()): SynthesizedSupercluster {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildSupercluster(app, config);
  return { app, config, stacks };
}

/** The default config with some fields replaced, validated like any config. */
export function configWith(overrides: Partial<SuperclusterConfig>): SuperclusterConfig {
  return parseSuperclusterConfig({ ...loadSuperclusterConfig(), ...overrides });
}

/** A two-PCE supercluster led from eu-west-1 (the leader region is not us-east-1). */
export const TWO_PCE_CONFIG: SuperclusterConfig = parseSuperclusterConfig({
  name: 'duo',
  supercluster_fqdn: 'pce.duo.example.org',
  leader_fqdn: 'leader.duo.example.org',
  leader: 'pce-eu.duo.example.org',
  org_id: 7,
  object_limits: { active_agents_per_pce: 1000 },
  hosted_zone: { id: 'Z0DUO000000000', name: 'duo.example.org' },
  pces: [
    { fqdn: 'pce-eu.duo.example.org', region: 'eu-central-1', continents: ['EU', 'AF', 'AS'], buddy: 'pce-us.duo.example.org' },
    { fqdn: 'pce-us.duo.example.org', region: 'us-west-2', continents: ['NA'], buddy: 'pce-eu.duo.example.org' },
  ],
});

export type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

export function propertiesOfType(template: Template, type: string): Record<string, unknown>[] {
  return Object.values(resourcesOfType(template, type)).map((resource) => resource.Properties);
}
