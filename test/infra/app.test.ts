/** Runs infra/cdk/app.ts as the CDK CLI would, with `-c config=<file>` (CDK_CONTEXT_JSON). */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/cdk/constructs/pce-function.ts';
import { TWO_PCE_CONFIG } from './supercluster-fixture.ts';

const run = promisify(execFile);
const workDir = mkdtempSync(join(tmpdir(), 'pce-cdk-app-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface Manifest {
  artifacts: Record<string, { type: string; environment?: string; dependencies?: string[] }>;
}

async function synth(context: Record<string, unknown>): Promise<Manifest> {
  const outdir = mkdtempSync(join(workDir, 'out-'));
  // No credentials, no profile, no home directory: the app must not need AWS to synthesize.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: workDir,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
  };
  await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'infra/cdk/app.ts')], { cwd: REPO_ROOT, env });
  return JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as Manifest;
}

function stacksOf(manifest: Manifest): Record<string, { environment?: string; dependencies: string[] }> {
  return Object.fromEntries(
    Object.entries(manifest.artifacts)
      .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
      .map(([id, artifact]) => [id, { environment: artifact.environment, dependencies: (artifact.dependencies ?? []).filter((d) => !d.endsWith('.assets')) }]),
  );
}

describe('infra/cdk/app.ts', () => {
  it('synthesizes the default config without credentials, env-agnostic in account, one region per stack', async () => {
    const stacks = stacksOf(await synth({}));
    expect(stacks).toEqual({
      'pce-global-data': { environment: 'aws://unknown-account/us-east-1', dependencies: [] },
      'pce-leader-lease': { environment: 'aws://unknown-account/us-east-1', dependencies: [] },
      'pce-regional-us-east-1': { environment: 'aws://unknown-account/us-east-1', dependencies: ['pce-global-data', 'pce-leader-lease'] },
      'pce-regional-eu-west-1': { environment: 'aws://unknown-account/eu-west-1', dependencies: ['pce-global-data', 'pce-leader-lease'] },
      'pce-regional-ap-southeast-1': { environment: 'aws://unknown-account/ap-southeast-1', dependencies: ['pce-global-data', 'pce-leader-lease'] },
      'pce-gslb': {
        environment: 'aws://unknown-account/us-east-1',
        dependencies: ['pce-regional-us-east-1', 'pce-regional-eu-west-1', 'pce-regional-ap-southeast-1'],
      },
    });
  });

  it('takes the config file from the `config` context value', async () => {
    const file = join(workDir, 'duo.json');
    writeFileSync(file, JSON.stringify(TWO_PCE_CONFIG));
    const stacks = stacksOf(await synth({ config: file }));
    expect(Object.keys(stacks).sort()).toEqual(['duo-global-data', 'duo-gslb', 'duo-leader-lease', 'duo-regional-eu-central-1', 'duo-regional-us-west-2']);
    expect(stacks['duo-global-data']?.environment).toBe('aws://unknown-account/eu-central-1');
  });

  it('fails with the config error for an invalid config file', async () => {
    const file = join(workDir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...TWO_PCE_CONFIG, leader: 'nobody.duo.example.org' }));
    await expect(synth({ config: file })).rejects.toThrow(/leader: nobody\.duo\.example\.org is not a PCE/);
  });
});
