/**
 * Item keys of versioned policy in the global table. Every item is written by the leader only
 * (fenced on the leader record) and carries origin_region + updated_at (keys.ts `stamp`).
 *
 * Drafts, one partition per org (one Query reads them all):
 *   ORG#<org>#POLICY_DRAFT / HEAD                      {revision}: optimistic lock over all drafts
 *   ORG#<org>#POLICY_DRAFT / IDS#E<epoch:6>            {last}: ids handed out in that leadership epoch
 *   ORG#<org>#POLICY_DRAFT / <TYPE>#<id:16>            {object_type, id, object}: TYPE = LABEL_GROUP | SERVICE | IP_LIST | RULE_SET |
 *                                                       ENFORCEMENT_BOUNDARY | VIRTUAL_SERVICE
 *                                                       (a rule set's rules are inside its item)
 *   ORG#<org>#POLICY_DRAFT / NAME#<TYPE>#<lower name>  {owner}: the draft that claimed the name (names are unique per type,
 *                                                       case-insensitive); written with every put, never deleted: a claim
 *                                                       whose owner is gone or renamed is stale and may be taken over
 * Provisioned versions (immutable once written), per org:
 *   ORG#<org>#POLICY / ACTIVE_POLICY                   pointer {version, epoch, sha256, chunks, ...version attributes}
 *   ORG#<org>#POLICY / VERSION#<version:10>#E<epoch:6> {version, epoch, sha256, chunks, bytes, created_at, commit_message, object_counts, ...}
 *   ORG#<org>#POLICY#v<version>#E<epoch> / CHUNK#<i:4> {data}: gzip+base64 slice of the version's canonical JSON
 * Versions are keyed by the writing epoch too: if a failover lets a new leader provision a version number
 * whose items from the old leader had not replicated, the two versions are different items, never one
 * item with two writers; the pointer (one item, written by the leader of the time) says which is active.
 */
import type { PolicyObjectType } from '../policy/objects/common.ts';

const TYPE_PREFIX: Readonly<Record<PolicyObjectType, string>> = {
  label_groups: 'LABEL_GROUP',
  services: 'SERVICE',
  ip_lists: 'IP_LIST',
  rule_sets: 'RULE_SET',
  enforcement_boundaries: 'ENFORCEMENT_BOUNDARY',
  virtual_services: 'VIRTUAL_SERVICE',
};

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export const ACTIVE_POLICY_SK = 'ACTIVE_POLICY';

export const policyKeys = {
  draftPartition: (orgId: number) => `ORG#${orgId}#POLICY_DRAFT`,
  draftHead: (orgId: number) => ({ pk: policyKeys.draftPartition(orgId), sk: 'HEAD' }),
  idCounter: (orgId: number, epoch: number) => ({ pk: policyKeys.draftPartition(orgId), sk: `IDS#E${pad(epoch, 6)}` }),
  idCounterPrefix: 'IDS#E',
  draftObject: (orgId: number, type: PolicyObjectType, id: number) => ({ pk: policyKeys.draftPartition(orgId), sk: `${TYPE_PREFIX[type]}#${pad(id, 16)}` }),
  draftTypePrefix: (type: PolicyObjectType) => `${TYPE_PREFIX[type]}#`,
  nameClaim: (orgId: number, type: PolicyObjectType, name: string) => ({ pk: policyKeys.draftPartition(orgId), sk: `${policyKeys.nameClaimPrefix}${TYPE_PREFIX[type]}#${name.toLowerCase()}` }),
  nameClaimPrefix: 'NAME#',
  /** the sort keys of HEAD and of every IDS#E item, and nothing else: HEAD < IDS#E... < IDS#F */
  headAndCountersRange: ['HEAD', 'IDS#F'] as const,

  policyPartition: (orgId: number) => `ORG#${orgId}#POLICY`,
  activePointer: (orgId: number) => ({ pk: policyKeys.policyPartition(orgId), sk: ACTIVE_POLICY_SK }),
  version: (orgId: number, version: number, epoch: number) => ({ pk: policyKeys.policyPartition(orgId), sk: `VERSION#${pad(version, 10)}#E${pad(epoch, 6)}` }),
  /** all versions (`VERSION#`) or every epoch's item of one version number (`VERSION#<n>#`) */
  versionPrefix: (version?: number) => (version === undefined ? 'VERSION#' : `VERSION#${pad(version, 10)}#`),
  chunkPartition: (orgId: number, version: number, epoch: number) => `ORG#${orgId}#POLICY#v${version}#E${epoch}`,
  chunk: (orgId: number, version: number, epoch: number, index: number) => ({ pk: policyKeys.chunkPartition(orgId, version, epoch), sk: `CHUNK#${pad(index, 4)}` }),
} as const;

export function draftTypeOfSk(sk: string): PolicyObjectType | null {
  const prefix = sk.slice(0, sk.indexOf('#'));
  const found = (Object.entries(TYPE_PREFIX) as [PolicyObjectType, string][]).find(([, p]) => p === prefix);
  return found ? found[0] : null;
}

const POLICY_PK = /^ORG#(\d+)#POLICY$/;

/**
 * The stream router's recogniser: a (new image of the) ACTIVE_POLICY pointer item means "org <orgId>
 * now has active policy <version>". The version's chunks may still be replicating; readers throw
 * SnapshotIncompleteError until they have all arrived.
 */
export function parseActivePolicyPointer(item: Record<string, unknown>): { orgId: number; version: number; epoch: number; sha256: string } | null {
  if (item.sk !== ACTIVE_POLICY_SK || typeof item.pk !== 'string') return null;
  const m = POLICY_PK.exec(item.pk);
  if (!m || typeof item.version !== 'number') return null;
  return { orgId: Number(m[1]), version: item.version, epoch: Number(item.epoch), sha256: String(item.sha256) };
}
