/**
 * The environment contract between the deployment (CDK Lambda environment, or the local cloud's
 * per-PCE process) and the handlers. Read once at cold start; a missing variable fails loudly.
 * AWS SDK endpoints come from the SDK's own variables (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS),
 * so the handlers build the same clients in Lambda and locally.
 */
import { parseSuperclusterConfig, requirePceByRegion, type PceConfig, type SuperclusterConfig } from '../supercluster/config.ts';

export const ENV = {
  region: 'AWS_REGION',
  config: 'SUPERCLUSTER_CONFIG',
  globalTable: 'GLOBAL_TABLE_NAME',
  localTable: 'LOCAL_TABLE_NAME',
  computeQueueUrl: 'COMPUTE_QUEUE_URL',
  computeDlqUrl: 'COMPUTE_DLQ_URL',
  /** scheduled function: probes per invocation (EventBridge fires each minute; probes keep the config's interval) */
  probesPerInvocation: 'PROBES_PER_INVOCATION',
  /** the port in pairing commands (`--management-server <fqdn>:<port>`); unset: 443, the port VENs reach in AWS */
  managementServerPort: 'MANAGEMENT_SERVER_PORT',
  /** the VEN channel (wss:// in AWS, ws:// locally) VENs connect to: the push_url of activation */
  venChannelUrl: 'VEN_CHANNEL_URL',
  /** the VEN channel's management API (PostToConnection): only functions that push to VENs have it */
  venChannelManagementUrl: 'VEN_CHANNEL_MANAGEMENT_URL',
  /** the leader lease table (docs/adr/0012-leader-lease.md): only the functions that renew it or write as the leader (api, scheduled) */
  leaseTable: 'LEADER_LEASE_TABLE_NAME',
  /** the lease replica region this PCE reaches (AWS: the nearest replica region; locally the lease database's name) */
  leaseRegion: 'LEADER_LEASE_REGION',
  /** the lease table's endpoint when it is not AWS's regional one (locally: this PCE's lease proxy) */
  leaseEndpoint: 'LEADER_LEASE_ENDPOINT',
  /** which API routes this function serves (shared/api/route-sets.ts): `identity` or `general` in AWS; unset (the local cloud): all */
  apiRouteSet: 'API_ROUTE_SET',
  /** every PCE's web console URL as JSON {fqdn: url} (the local cloud's loopback URLs); unset: https://<fqdn> (docs/console.md) */
  consolePceUrls: 'CONSOLE_PCE_URLS',
} as const;

/** How many probes one per-minute scheduled invocation writes so that probes come every `intervalSeconds`. */
export function probesPerMinute(intervalSeconds: number): number {
  return Math.max(1, Math.floor(45 / intervalSeconds));
}

export interface PceRuntime {
  readonly config: SuperclusterConfig;
  readonly region: string;
  readonly pce: PceConfig;
  readonly globalTableName: string;
  readonly localTableName: string;
  readonly computeQueueUrl: string | undefined;
  readonly computeDlqUrl: string | undefined;
  /** the port VENs reach the PCE on (ENV.managementServerPort): 443 in AWS, the local cloud's own port locally */
  readonly managementServerPort?: number | undefined;
  /** where VENs open their push channel (ENV.venChannelUrl) */
  readonly venChannelUrl?: string | undefined;
  /** the channel's management API endpoint (ENV.venChannelManagementUrl); unset: this function does not push */
  readonly venChannelManagementUrl?: string | undefined;
  /** the leader lease table (ENV.leaseTable, leaseRegion, leaseEndpoint); unset: this function holds no lease */
  readonly leaderLease?: { readonly tableName: string; readonly region: string; readonly endpoint: string | undefined } | undefined;
  /** ENV.consolePceUrls, unparsed */
  readonly consolePceUrls?: string | undefined;
}

export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
  constructor(variable: string) {
    super(`environment variable ${variable} is not set`);
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new MissingEnvironmentError(name);
  return value;
}

/** The port VENs are told to reach the PCE on when the environment does not say. */
export const DEFAULT_MANAGEMENT_SERVER_PORT = 443;

function optionalPort(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port < 1 || port > 65535) throw new InvalidEnvironmentError(name, `must be a TCP port (1-65535), got "${raw}"`);
  return port;
}

export class InvalidEnvironmentError extends Error {
  override readonly name = 'InvalidEnvironmentError';
  constructor(variable: string, problem: string) {
    super(`environment variable ${variable} ${problem}`);
  }
}

export function pceRuntimeFromEnv(env: NodeJS.ProcessEnv = process.env): PceRuntime {
  const config = parseSuperclusterConfig(JSON.parse(required(env, ENV.config)));
  const region = required(env, ENV.region);
  return {
    config,
    region,
    pce: requirePceByRegion(config, region),
    globalTableName: required(env, ENV.globalTable),
    localTableName: required(env, ENV.localTable),
    computeQueueUrl: env[ENV.computeQueueUrl],
    computeDlqUrl: env[ENV.computeDlqUrl],
    managementServerPort: optionalPort(env, ENV.managementServerPort),
    venChannelUrl: env[ENV.venChannelUrl],
    venChannelManagementUrl: env[ENV.venChannelManagementUrl],
    consolePceUrls: env[ENV.consolePceUrls],
    leaderLease: env[ENV.leaseTable] ? { tableName: env[ENV.leaseTable] ?? '', region: required(env, ENV.leaseRegion), endpoint: env[ENV.leaseEndpoint] || undefined } : undefined,
  };
}
