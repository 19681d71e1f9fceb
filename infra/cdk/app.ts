/**
 * CDK entry point (cdk.json: `npx tsx infra/cdk/app.ts`).
 * Config: infra/config/supercluster.json, or `cdk synth -c config=path/to/supercluster.json`.
 */
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadSuperclusterConfig } from '../config/load.ts';
import { applyNagChecks, buildSupercluster } from './supercluster.ts';

const app = new App();
const configPath: unknown = app.node.tryGetContext('config');
if (configPath !== undefined && typeof configPath !== 'string') {
  throw new Error('context "config" must be a path to a supercluster config file');
}
const config = loadSuperclusterConfig(configPath === undefined ? undefined : resolve(configPath));
buildSupercluster(app, config);
applyNagChecks(app);
app.synth();
