/**
 * Item keys of the global and local tables, in one place. Every replicated item has one writer region:
 * - leader-written: ORG, PCE membership, LEADER, API keys (APIKEY#<auth_username>), the identity items
 *   (every partition starting AUTH#: users, usernames, each user's key index, principals, permissions,
 *   the user id counters), labels and their counters, the org's workload settings, service bindings, label
 *   dimensions and container clusters with their workload profiles (ORG#<org>#LABEL_DIMENSIONS, ORG#<org>#CONTAINER_CLUSTERS);
 * - written by the PCE it names: STATUS#<region> (replication probes);
 * - written in the region it names: GSLB_SWITCH#<pce fqdn> / BY#<region> (the GSLB switch, by pce-ctl),
 *   REPLICATION_CHECK / BY#<region> (the last replication check's result, by pce-ctl);
 * - written by the PCE it names: ORG#<org>#EVENTS#<region>#<day> (audit events, TTL expires_at);
 * - written by the writer of the workload item it mirrors: ORG#<org>#LABEL_USE#<label> / <workload>#META
 *   (the leader) or <workload>#AGENT#<region> (that PCE) (label uses, workload-keys.ts; ADR 0015).
 */
/** Partitions of the GSLB switch items (`GSLB_SWITCH#<pce fqdn>`): read by every PCE's API, written by pce-ctl. */
export const GSLB_SWITCH_PARTITION_PREFIX = 'GSLB_SWITCH#';

/**
 * Partitions of the identity items (users, a user's API-key index, permissions, principals: `AUTH#...`); with the
 * API keys themselves (`APIKEY#<auth username>`) only the identity function writes them (docs/security.md).
 */
export const AUTH_PARTITION_PREFIX = 'AUTH#';

/** The partition of the PCEs' replication probe items (each written only by the PCE it names). */
export const STATUS_PARTITION = 'PCE_STATUS';

/** The partition of the replication check results (`pce-ctl supercluster-replication-check`), one item per writer region. */
export const REPLICATION_CHECK_PARTITION = 'REPLICATION_CHECK';

/** Local table: this PCE's replication lag samples (shared/supercluster/lag-history.ts). */
export const LAG_HISTORY_PARTITION = 'REPLICATION_LAG_HISTORY';

/** The sort key of the lag sample taken at `at` (ms): `AT#` and 15 digits, so sort keys sort by time. */
export function lagSampleSortKey(at: number): string {
  return `AT#${String(Math.max(0, Math.floor(at))).padStart(15, '0')}`;
}

export const keys = {
  org: (orgId: number) => ({ pk: `ORG#${orgId}`, sk: 'ORG' }),
  leader: () => ({ pk: 'SUPERCLUSTER', sk: 'LEADER' }),
  pce: (region: string) => ({ pk: 'SUPERCLUSTER', sk: `PCE#${region}` }),
  pcePrefix: () => ({ pk: 'SUPERCLUSTER', skPrefix: 'PCE#' }),
  /** a PCE's drop mark as one region wrote it (one writer region per item; the newest changed_at wins) */
  pceDrop: (pceFqdn: string, writerRegion: string) => ({ pk: 'SUPERCLUSTER', sk: `DROP#${pceFqdn}#BY#${writerRegion}` }),
  pceDropPrefix: () => ({ pk: 'SUPERCLUSTER', skPrefix: 'DROP#' }),
  /** own partition, so the probe writer's IAM can be limited to it (dynamodb:LeadingKeys) */
  status: (region: string) => ({ pk: STATUS_PARTITION, sk: `STATUS#${region}` }),
  statusPrefix: () => ({ pk: STATUS_PARTITION, skPrefix: 'STATUS#' }),
  apiKey: (authUsername: string) => ({ pk: `APIKEY#${authUsername}`, sk: 'APIKEY' }),
  bootstrapKeyMarker: () => ({ pk: 'APIKEY_BOOTSTRAP', sk: 'MARKER' }),
  /** users: one partition (a Query lists them) */
  user: (userId: number) => ({ pk: 'AUTH#USERS', sk: `USER#${userId}` }),
  usersPartition: () => 'AUTH#USERS',
  /** the claim of a username (lower case), written with its user in one transaction: usernames are unique */
  username: (username: string) => ({ pk: 'AUTH#USERNAMES', sk: username.toLowerCase() }),
  /** a user's API key index (non-secret metadata), written with the key item in one transaction */
  userApiKey: (userId: number, keyId: string) => ({ pk: `AUTH#USER#${userId}#APIKEYS`, sk: `KEY#${keyId}` }),
  userApiKeysPartition: (userId: number) => `AUTH#USER#${userId}#APIKEYS`,
  /** a user's console password (its scrypt hash), leader-written like the other identity items */
  consolePassword: (userId: number) => ({ pk: `AUTH#USER#${userId}#PASSWORD`, sk: 'PASSWORD' }),
  /** the org's permissions ({role, scope, principal}) */
  permission: (orgId: number, id: string) => ({ pk: `AUTH#ORG#${orgId}#PERMISSIONS`, sk: `PERMISSION#${id}` }),
  permissionsPartition: (orgId: number) => `AUTH#ORG#${orgId}#PERMISSIONS`,
  /** the org's auth security principals, and the claim of each type+name */
  principal: (orgId: number, id: string) => ({ pk: `AUTH#ORG#${orgId}#PRINCIPALS`, sk: `PRINCIPAL#${id}` }),
  principalsPartition: (orgId: number) => `AUTH#ORG#${orgId}#PRINCIPALS`,
  principalName: (orgId: number, type: string, name: string) => ({ pk: `AUTH#ORG#${orgId}#PRINCIPAL_NAMES`, sk: `${type}#${name.toLowerCase()}` }),
  /** user ids, allocated per leadership epoch (two leaders in sequence never hand out the same id) */
  userCounter: (epoch: number) => ({ pk: 'AUTH#COUNTERS', sk: `USERS#E${epoch}` }),
  label: (orgId: number, id: number) => ({ pk: `ORG#${orgId}#LABELS`, sk: `LABEL#${String(id).padStart(16, '0')}` }),
  labelPartition: (orgId: number) => `ORG#${orgId}#LABELS`,
  labelUnique: (orgId: number, key: string, value: string) => ({ pk: `ORG#${orgId}#LABEL_UNIQUE`, sk: `${key}=${value.toLowerCase()}` }),
  /** leader-written org documents of one family (LABEL_DIMENSIONS, CONTAINER_CLUSTERS): shared/storage/dynamodb/documents.ts */
  documents: (orgId: number, family: string) => `ORG#${orgId}#${family}`,
  /** the org's service bindings (leader-written; a Query lists them) */
  serviceBinding: (orgId: number, id: string) => ({ pk: `ORG#${orgId}#SERVICE_BINDINGS`, sk: `BINDING#${id}` }),
  serviceBindingsPartition: (orgId: number) => `ORG#${orgId}#SERVICE_BINDINGS`,
  /** one item per org: the workload settings (disconnect/goodbye timers) */
  workloadSettings: (orgId: number) => ({ pk: `ORG#${orgId}#SETTINGS`, sk: 'WORKLOADS' }),
  counter: (orgId: number, name: string, epoch: number) => ({ pk: `ORG#${orgId}#COUNTERS`, sk: `${name}#E${epoch}` }),
  /** the GSLB switch of one PCE as one region wrote it (one writer region per item; the newest changed_at wins) */
  gslbSwitch: (pceFqdn: string, writerRegion: string) => ({ pk: `${GSLB_SWITCH_PARTITION_PREFIX}${pceFqdn}`, sk: `BY#${writerRegion}` }),
  gslbSwitchPrefix: (pceFqdn: string) => ({ pk: `${GSLB_SWITCH_PARTITION_PREFIX}${pceFqdn}`, skPrefix: 'BY#' }),
  /** the last replication check's result as written in one region (one writer region per item) */
  replicationCheck: (writerRegion: string) => ({ pk: REPLICATION_CHECK_PARTITION, sk: `BY#${writerRegion}` }),
  replicationCheckPrefix: () => ({ pk: REPLICATION_CHECK_PARTITION, skPrefix: 'BY#' }),
  /** audit events a PCE recorded on one UTC day (sort key: the UUIDv7 event id, so by time); written only by that PCE, TTL expires_at */
  events: (orgId: number, region: string, day: string) => `ORG#${orgId}#EVENTS#${region}#${day}`,
  /** local table: what this PCE last measured of a peer's replication lag. */
  replicationLag: (peerRegion: string) => ({ pk: 'REPLICATION', sk: `LAG#${peerRegion}` }),
  replicationLagPrefix: () => ({ pk: 'REPLICATION', skPrefix: 'LAG#' }),
  /** local table: one replication lag sample of every PCE pair (its time, zero-padded ms, sorts; TTL expires_at) */
  lagSample: (at: number) => ({ pk: LAG_HISTORY_PARTITION, sk: lagSampleSortKey(at) }),
  /** local table: this PCE's runtime facts (start time, runlevel). */
  runtime: () => ({ pk: 'PCE', sk: 'RUNTIME' }),
  /** local table: a web console session, by the SHA-256 of its token (TTL expires_at) */
  consoleSession: (tokenHash: string) => ({ pk: `CONSOLE_SESSION#${tokenHash}`, sk: 'SESSION' }),
  /** local table: requests an API key sent this PCE in one minute window (epoch minute; TTL expires_at). */
  rateCounter: (authUsername: string, windowMinute: number) => ({ pk: `RATE#${authUsername}`, sk: String(windowMinute) }),
} as const;

/** Attributes every global-table item carries (ARCHITECTURE.md: origin region and update time). */
export interface Stamp {
  readonly origin_region: string;
  readonly updated_at: number;
}

export function stamp(region: string, now: number): Stamp {
  return { origin_region: region, updated_at: now };
}
