/**
 * Provisioned policy versions from this region's replica of the global table (layout:
 * shared/storage/policy-keys.ts). A version is read from its pointer or version item (chunk count +
 * sha256) and its chunks; a missing item or a hash mismatch is SnapshotIncompleteError, never a partial
 * result. Reads are strongly consistent within this region. Decoded versions are cached by (org, version, epoch, sha256): versions are immutable.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { PolicyObjectType } from '../../policy/objects/common.ts';
import type { PolicySnapshot } from '../../policy/model.ts';
import { decodeSnapshot } from '../../policy/snapshot/codec.ts';
import type { ActivePolicy, ActivePolicyDocument, StoredPolicyVersion, VersionedSnapshot } from '../../policy/snapshot/document.ts';
import { SnapshotIncompleteError } from '../../policy/snapshot/errors.ts';
import type { PolicySnapshotStore } from '../../policy/snapshot/ports.ts';
import { toPolicySnapshot } from '../../policy/snapshot/to-policy-snapshot.ts';
import { policyKeys } from '../policy-keys.ts';
import { queryPartition, type DynamoDBDocumentClient } from './client.ts';

type Item = Record<string, unknown>;

export function toStoredVersion(item: Item): StoredPolicyVersion {
  return {
    orgId: Number(item.org_id),
    version: Number(item.version),
    epoch: Number(item.epoch),
    createdAt: Number(item.created_at),
    createdBy: Number(item.created_by),
    commitMessage: String(item.commit_message ?? ''),
    objectCounts: (item.object_counts ?? {}) as Record<PolicyObjectType, number>,
    workloadsAffected: item.workloads_affected === null || item.workloads_affected === undefined ? null : Number(item.workloads_affected),
    content: { sha256: String(item.sha256), chunks: Number(item.chunks), bytes: Number(item.bytes) },
  };
}

interface Decoded {
  readonly document: ActivePolicyDocument;
  snapshot: PolicySnapshot | null;
}

export class DynamoDbPolicySnapshotStore implements PolicySnapshotStore {
  private readonly cache = new Map<string, Decoded>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** decoded versions kept in memory (a warm Lambda typically needs the active one and the next) */
    private readonly cacheSize = 3,
  ) {}

  private async pointer(orgId: number): Promise<StoredPolicyVersion | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: policyKeys.activePointer(orgId), ConsistentRead: true }));
    return out.Item ? toStoredVersion(out.Item) : null;
  }

  private async query(pk: string, skPrefix: string, newestFirst = false): Promise<Item[]> {
    return queryPartition(this.client, this.tableName, { pk, skPrefix, consistent: true, newestFirst });
  }

  /** The document of `stored`, from cache or from its chunks (all present, hash verified). */
  private async decoded(stored: StoredPolicyVersion): Promise<Decoded> {
    const key = `${stored.orgId}/${stored.version}/${stored.epoch}/${stored.content.sha256}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const items = await this.query(policyKeys.chunkPartition(stored.orgId, stored.version, stored.epoch), 'CHUNK#');
    const byIndex = new Map<number, string>(items.map((item) => [Number(item.index), String(item.data)]));
    const missing = Array.from({ length: stored.content.chunks }, (_, i) => i).filter((i) => !byIndex.has(i));
    if (missing.length > 0) throw new SnapshotIncompleteError(stored.orgId, stored.version, missing.map((i) => `chunk ${i} of ${stored.content.chunks}`));
    const chunks = Array.from({ length: stored.content.chunks }, (_, i) => byIndex.get(i) ?? '');
    const decoded: Decoded = { document: decodeSnapshot(stored.orgId, stored.version, chunks, stored.content), snapshot: null };
    this.cache.set(key, decoded);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return decoded;
  }

  private versioned(stored: StoredPolicyVersion, decoded: Decoded): VersionedSnapshot {
    decoded.snapshot ??= toPolicySnapshot(decoded.document);
    return { version: stored.version, snapshot: decoded.snapshot, sha256: stored.content.sha256 };
  }

  async readActive(orgId: number): Promise<ActivePolicy | null> {
    const stored = await this.pointer(orgId);
    if (!stored) return null;
    return { version: stored, document: (await this.decoded(stored)).document };
  }

  async getActive(orgId: number): Promise<VersionedSnapshot | null> {
    const stored = await this.pointer(orgId);
    return stored ? this.versioned(stored, await this.decoded(stored)) : null;
  }

  async getVersionInfo(orgId: number, version: number): Promise<StoredPolicyVersion | null> {
    const pointer = await this.pointer(orgId);
    if (pointer?.version === version) return pointer;
    // normally one item; two only if a failover let two leaders write this number (the later epoch wins)
    const [newest] = await this.query(policyKeys.policyPartition(orgId), policyKeys.versionPrefix(version), true);
    return newest ? toStoredVersion(newest) : null;
  }

  async getVersion(orgId: number, version: number): Promise<VersionedSnapshot> {
    const stored = await this.getVersionInfo(orgId, version);
    if (!stored) throw new SnapshotIncompleteError(orgId, version, ['version item']);
    return this.versioned(stored, await this.decoded(stored));
  }

  async listVersions(orgId: number): Promise<StoredPolicyVersion[]> {
    const pointer = await this.pointer(orgId);
    const byNumber = new Map<number, StoredPolicyVersion>();
    for (const item of await this.query(policyKeys.policyPartition(orgId), policyKeys.versionPrefix(), true)) {
      const v = toStoredVersion(item);
      if (!byNumber.has(v.version)) byNumber.set(v.version, v);
    }
    // the pointer may have arrived before its version item, and it decides between epochs
    if (pointer) byNumber.set(pointer.version, pointer);
    return [...byNumber.values()].sort((a, b) => b.version - a.version);
  }
}
