/**
 * The house Lambda: every PCE function runs the same way (nodejs24.x on arm64, X-Ray active,
 * a log group with retention, an ESM bundle built by the local esbuild) and starts with a role
 * that may only write its own logs. Data permissions are added per function by the grant helpers
 * in data-access.ts, so each function holds exactly what it uses.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../../shared/runtime/env.ts';
import type { SuperclusterConfig } from '../../../shared/supercluster/config.ts';

/** Repository root (holds package-lock.json and lambdas/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const PCE_LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const PCE_LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * ESM bundles have no `require`; some CommonJS dependencies still call it (e.g. for Node built-ins).
 * The alias avoids clashing with a bundled module's own top-level names.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __pceCreateRequire } from 'node:module'; const require = __pceCreateRequire(import.meta.url);";

/** What a handler needs to build its PceRuntime (shared/runtime/env.ts). AWS_REGION is set by Lambda. */
export interface PceRuntimeEnvironment {
  readonly config: SuperclusterConfig;
  readonly globalTableName: string;
  readonly localTableName: string;
  /** Only for functions that enqueue compute jobs. */
  readonly computeQueueUrl?: string;
}

export interface PceFunctionProps {
  /** Handler module relative to the repository root, e.g. `lambdas/api.ts` (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly runtimeEnvironment: PceRuntimeEnvironment;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Variables this function needs beyond the PCE runtime contract. */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
  /** Build the web console (scripts/build-console.mjs) into the bundle's `console/` directory, which the API serves at `/`. @default false */
  readonly consoleAssets?: boolean;
}

/** The bundling step that builds the web console next to the function's code (<task root>/console). */
export function consoleAssetCommands(inputDir: string, outputDir: string): string[] {
  return [`node "${inputDir}/scripts/build-console.mjs" --out "${outputDir}/console"`];
}

export function pceEnvironmentVariables(env: PceRuntimeEnvironment): Record<string, string> {
  return {
    [ENV.config]: JSON.stringify(env.config),
    [ENV.globalTable]: env.globalTableName,
    [ENV.localTable]: env.localTableName,
    ...(env.computeQueueUrl === undefined ? {} : { [ENV.computeQueueUrl]: env.computeQueueUrl }),
  };
}

export class PceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PceFunctionProps) {
    super(scope, id);
    if (props.entry.startsWith('/') || props.entry.includes('..')) {
      throw new Error(`PceFunction ${id}: entry must be a path inside the repository, got ${props.entry}`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: logs go to this function's log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (least privilege, granted per use)`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: resolve(REPO_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: PCE_LAMBDA_RUNTIME,
      architecture: PCE_LAMBDA_ARCHITECTURE,
      tracing: lambda.Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        ...pceEnvironmentVariables(props.runtimeEnvironment),
        ...props.extraEnvironment,
        NODE_OPTIONS: '--enable-source-maps',
      },
      projectRoot: REPO_ROOT,
      depsLockFilePath: resolve(REPO_ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        forceDockerBundling: false,
        // Bundle the AWS SDK too: the same pinned SDK version runs in Lambda and in the local cloud.
        externalModules: [],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        ...(props.consoleAssets ? { commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: consoleAssetCommands } } : {}),
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Resource "*" is required by actions without resource-level permissions: X-Ray PutTraceSegments/PutTelemetryRecords (tracing) and, for the stream router, dynamodb:ListStreams.',
    });
  }
}
