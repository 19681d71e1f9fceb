/**
 * Where pce-ctl acts: the local cloud started by `npm start` (its endpoints are in .local/supercluster.json)
 * or AWS (the SDK's default credential chain; the same config file names the regions and tables).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_PATH, loadSuperclusterConfig } from '../infra/config/load.ts';
import { LOCAL_CREDENTIALS, LOCAL_LEASE_REGION } from '../infra/local/clients.ts';
import { globalTableAdapters, leaseTableAdapters, localTableAdapters, type GlobalTableAdapters, type LeaseTableAdapters, type LocalTableAdapters } from '../shared/storage/dynamodb/adapters.ts';
import { leaseDocumentClient } from '../shared/storage/dynamodb/leader-lease.ts';
import { leasePlacementOf } from '../shared/supercluster/lease-config.ts';
import { documentClient, type DynamoDBDocumentClient } from '../shared/storage/dynamodb/client.ts';
import { globalTableName, leaseTableName, localTableName } from '../shared/storage/tables.ts';
import type { SuperclusterConfig } from '../shared/supercluster/config.ts';

export const LOCAL_STATE_FILE = resolve('.local', 'supercluster.json');

export interface GlobalOptions {
  readonly config?: string;
  readonly aws?: boolean;
  /** the local cloud's state file (default .local/supercluster.json) */
  readonly state?: string;
}

export interface Target {
  readonly config: SuperclusterConfig;
  readonly where: string;
  readonly globalTable: string;
  localTable(region: string): string;
  client(region: string): DynamoDBDocumentClient;
  /** the adapters over `region`'s replica of the global table (shared/storage/dynamodb/adapters.ts) */
  global(region: string): GlobalTableAdapters;
  /** the adapters over the local table of the PCE in `region` */
  local(region: string): LocalTableAdapters;
  /** the leader lease table (AWS: in its home replica region; locally the lease database, not through a PCE's proxy) */
  lease(): LeaseTableAdapters;
  /** the base URL of the PCE `fqdn`'s REST API: its local address, or https://<fqdn> in AWS */
  pceUrl(fqdn: string): string;
  /** the local cloud's control server (state file `local.control`); null in AWS */
  readonly control: string | null;
  destroy(): void;
}

interface LocalState {
  local?: { dynamodb?: string; control?: string };
  pces?: { fqdn: string; url: string }[];
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

export function resolveTarget(options: GlobalOptions): Target {
  const config = loadSuperclusterConfig(options.config ? resolve(options.config) : DEFAULT_CONFIG_PATH);
  let endpoint: string | undefined;
  let state: LocalState = {};
  if (!options.aws) {
    const stateFile = options.state ? resolve(options.state) : LOCAL_STATE_FILE;
    if (!existsSync(stateFile)) throw new TargetError(`no local supercluster found (${stateFile} is missing): run \`npm start\` first, or pass --aws to act on AWS`);
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as LocalState;
    endpoint = state.local?.dynamodb;
    if (!endpoint) throw new TargetError(`${stateFile} has no local.dynamodb endpoint; restart \`npm start\``);
  }
  const clients = new Map<string, DynamoDBDocumentClient>();
  const client = (region: string): DynamoDBDocumentClient => {
    let c = clients.get(region);
    if (!c) {
      c = documentClient(endpoint ? { region, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 } : { region });
      clients.set(region, c);
    }
    return c;
  };
  let leaseClient: DynamoDBDocumentClient | undefined;
  const lease = (): LeaseTableAdapters => {
    leaseClient ??= endpoint
      ? leaseDocumentClient({ region: LOCAL_LEASE_REGION, endpoint, credentials: LOCAL_CREDENTIALS })
      : leaseDocumentClient({ region: leasePlacementOf(config).replicas[0] ?? '' });
    return leaseTableAdapters(leaseClient, leaseTableName(config));
  };
  return {
    config,
    lease,
    where: endpoint ? `local cloud (${endpoint})` : 'AWS',
    globalTable: globalTableName(config),
    localTable: (region) => localTableName(config, region),
    client,
    global: (region) => globalTableAdapters(client(region), globalTableName(config), region, { remoteClient: client }),
    local: (region) => localTableAdapters(client(region), localTableName(config, region)),
    pceUrl: (fqdn) => (endpoint ? (state.pces?.find((p) => p.fqdn === fqdn)?.url ?? `http://${fqdn}`) : `https://${fqdn}`),
    control: endpoint ? (state.local?.control ?? null) : null,
    destroy() {
      for (const c of clients.values()) c.destroy();
      leaseClient?.destroy();
    },
  };
}
