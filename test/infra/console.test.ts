/**
 * The web console in AWS (docs/console.md): the api function serves it (ANY / and ANY /{proxy+} of each PCE's HTTP
 * API; no identity route takes its paths), from a console/ directory its bundling step builds next to the code.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleAssetCommands, REPO_ROOT } from '../../infra/cdk/constructs/pce-function.ts';
import { routeSetServes } from '../../shared/api/route-sets.ts';
import { functionLogicalId } from './iam-statements.ts';
import { propertiesOfType, resourcesOfType, synthSupercluster, type SynthesizedSupercluster } from './supercluster-fixture.ts';

let synthesized: SynthesizedSupercluster;
beforeAll(() => {
  synthesized = synthSupercluster();
});

describe('web console on the regional API', () => {
  it.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])('%s: / and /console/<file> go to the api function', (region) => {
    const stack = synthesized.stacks.regional.find((s) => s.region === region);
    if (!stack) throw new Error(`no stack in ${region}`);
    const template = Template.fromStack(stack);
    const apiFunction = functionLogicalId(template, 'ApiFunction');
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    const apiIntegration = Object.entries(integrations).find(([, r]) => JSON.stringify(r.Properties.IntegrationUri) === JSON.stringify({ 'Fn::GetAtt': [apiFunction, 'Arn'] }))?.[0];
    expect(apiIntegration).toBeDefined();
    const routes = propertiesOfType(template, 'AWS::ApiGatewayV2::Route');
    for (const key of ['ANY /', 'ANY /{proxy+}']) {
      const route = routes.find((r) => r.RouteKey === key);
      expect(route, key).toBeDefined();
      expect(JSON.stringify(route?.Target)).toContain(apiIntegration);
    }
    for (const path of ['/', '/console/app-ABC123.js', '/api/v2/console/session', '/api/v2/console/pces']) expect(routeSetServes('general', path), path).toBe(true);
  });

  it('the api function bundle gets the console built into its console/ directory (the step is the build script)', () => {
    const out = mkdtempSync(join(tmpdir(), 'console-bundle-'));
    try {
      const [command] = consoleAssetCommands(REPO_ROOT, out);
      expect(command).toContain('scripts/build-console.mjs');
      execFileSync('sh', ['-c', command ?? 'false'], { stdio: 'pipe' });
      const files = readdirSync(join(out, 'console'));
      expect(files).toContain('index.html');
      const js = files.find((f) => /^app-[A-Z0-9]+\.js$/.test(f));
      const css = files.find((f) => /^main-[A-Z0-9]+\.css$/.test(f));
      expect(js && css).toBeTruthy();
      const html = readFileSync(join(out, 'console', 'index.html'), 'utf8');
      // no CDN at run time: the page loads only its own files
      expect(html).toContain(`/console/${js}`);
      expect(html).not.toMatch(/https?:\/\//);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
