/**
 * cdk-nag v3 is a CDK policy-validation plugin (Validations.of(app).addPlugins), not an Aspect that
 * writes annotations; findings are read from its report, and acknowledgements are
 * Validations.of(construct).acknowledge({ id, reason }) next to the resource they excuse.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { applyNagChecks } from '../../infra/cdk/supercluster.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { synthSupercluster, TWO_PCE_CONFIG } from './supercluster-fixture.ts';

function unacknowledgedFindings(config?: SuperclusterConfig): string[] {
  const { stacks } = synthSupercluster(config);
  const all = [stacks.globalData, ...stacks.regional, stacks.gslb];
  for (const stack of all) Template.fromStack(stack); // synthesize first: aspects and late-bound properties are applied
  return all.flatMap((stack) =>
    new AwsSolutionsChecks().validateScope(stack).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} (${violation.severity}) at ${resource.constructPath}`),
    ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding for the default supercluster', () => {
    expect(unacknowledgedFindings()).toEqual([]);
  });

  it('reports no unacknowledged finding for a two-PCE supercluster', () => {
    expect(unacknowledgedFindings(TWO_PCE_CONFIG)).toEqual([]);
  });

  it('lets the app synthesize with the checks registered as in app.ts', () => {
    const { app } = synthSupercluster();
    applyNagChecks(app);
    expect(() => app.synth()).not.toThrow();
  });

  it('stops synthesis on a finding (the checks are live)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new sqs.Queue(new Stack(app, 'Careless'), 'PlainQueue');
    applyNagChecks(app);
    expect(() => app.synth()).toThrow(/validation-report\.json/);
  });
});
