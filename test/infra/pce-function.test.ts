import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER, PceFunction } from '../../infra/cdk/constructs/pce-function.ts';
import { loadSuperclusterConfig } from '../../infra/config/load.ts';
import { ENV } from '../../shared/runtime/env.ts';

const config = loadSuperclusterConfig();
const runtimeEnvironment = { config, globalTableName: 'g', localTableName: 'l' };

describe('PceFunction (bundled for real with the local esbuild)', () => {
  let template: Template;
  let bundleDir: string;

  beforeAll(() => {
    const app = new App();
    const stack = new Stack(app, 'FunctionTest', { env: { region: 'eu-west-1' } });
    new PceFunction(stack, 'Probe', { entry: 'test/infra/fixtures/esm-handler.ts', description: 'fixture', runtimeEnvironment });
    template = Template.fromStack(stack);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { Code: { S3Key: string } } }[];
    const hash = fn?.Properties.Code.S3Key.replace(/\.zip$/, '');
    bundleDir = join(app.outdir, `asset.${hash}`);
  });

  it('fixes runtime, architecture, tracing and JSON logs', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^ProbeLogs') } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('sets the runtime environment by the names the handlers read (AWS_REGION comes from Lambda)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [ENV.config]: JSON.stringify(config),
          [ENV.globalTable]: 'g',
          [ENV.localTable]: 'l',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('starts with a role that may only write its logs and traces (no managed policies)', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role')) as { Properties: Record<string, unknown> }[];
    expect(roles).toHaveLength(1);
    expect(roles[0]?.Properties).not.toHaveProperty('ManagedPolicyArns');
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: { Action: string[] }[] } } }[];
    expect(policy?.Properties.PolicyDocument.Statement.flatMap((s) => s.Action).sort()).toEqual(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort(),
    );
  });

  it('bundles an ES module with the require banner, which Node imports and runs', async () => {
    const file = join(bundleDir, 'index.mjs');
    expect(existsSync(file)).toBe(true);
    const code = readFileSync(file, 'utf8');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    const bundle = (await import(pathToFileURL(file).href)) as { handler: (event: unknown) => Promise<string> };
    await expect(bundle.handler({ ping: 1 })).resolves.toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects an entry outside the repository', () => {
    const stack = new Stack(new App(), 'Bad', { env: { region: 'eu-west-1' } });
    expect(() => new PceFunction(stack, 'Bad', { entry: '../elsewhere.ts', description: 'x', runtimeEnvironment })).toThrow(/inside the repository/);
  });
});
