/**
 * Draft policy objects and provisioning in the global table (layout: shared/storage/policy-keys.ts).
 * Every write is one TransactWriteItems (fenced-write.ts: the leader fence first, conflicts retried) with
 * the draft head next, so a write either lands whole on the current leader's view of the drafts or not at all.
 */
import { BatchGetCommand, GetCommand, QueryCommand, type BatchGetCommandOutput, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../../runtime/sleep.ts';
import { OBJECT_NOUNS, type PolicyObjectType } from '../../policy/objects/common.ts';
import { ActivePolicyChangedError, DraftChangedError, PolicyObjectTooLargeError } from '../../policy/objects/errors.ts';
import type { PolicyObjectMap, PolicyObjectRecord } from '../../policy/objects/objects.ts';
import type { DraftHead, DraftHeadState, DraftPolicy, DraftWrite, IdCounter, NameRef, PolicyStore, ProvisionWrite } from '../../policy/objects/ports.ts';
import { encodeSnapshot } from '../../policy/snapshot/codec.ts';
import type { StoredPolicyVersion } from '../../policy/snapshot/document.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { stamp } from '../keys.ts';
import { draftTypeOfSk, policyKeys } from '../policy-keys.ts';
import { cancellationCodes, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';

/** A draft item must stay below DynamoDB's 400 KB item limit with room to spare. */
export const MAX_DRAFT_ITEM_BYTES = 350_000;
/** Chunks per transaction: each chunk is at most ~240 KB and a transaction carries at most 4 MB. */
export const CHUNKS_PER_TRANSACTION = 12;
/** Name claims per transaction when claiming every name at once (the fence check is the 100th action). */
const CLAIMS_PER_TRANSACTION = 99;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

type Item = Record<string, unknown>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

function nameClaimItem(orgId: number, ref: NameRef, region: string, now: number): Item {
  return { ...policyKeys.nameClaim(orgId, ref.type, ref.name), org_id: orgId, object_type: ref.type, owner: ref.id, ...stamp(region, now) };
}

const headOf = (item: Item): DraftHead => ({ revision: Number(item.revision), updatedAt: Number(item.updated_at), namesClaimed: item.names_claimed === true });

function objectItem(orgId: number, type: PolicyObjectType, object: PolicyObjectRecord, region: string): Item {
  return { ...policyKeys.draftObject(orgId, type, object.id), org_id: orgId, object_type: type, id: object.id, name: object.name, object, ...stamp(region, object.updatedAt) };
}

/** The stored version item / active pointer attributes. */
export function versionAttributes(version: StoredPolicyVersion): Item {
  return {
    org_id: version.orgId,
    version: version.version,
    epoch: version.epoch,
    created_at: version.createdAt,
    created_by: version.createdBy,
    commit_message: version.commitMessage,
    object_counts: { ...version.objectCounts },
    workloads_affected: version.workloadsAffected,
    sha256: version.content.sha256,
    chunks: version.content.chunks,
    bytes: version.content.bytes,
    encoding: 'gzip+base64',
  };
}

export class DynamoDbPolicyStore implements PolicyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to; stamped as origin_region on writes */
    private readonly region: string,
    /** chunkChars: base64 characters per chunk item (codec default; smaller in tests) */
    private readonly options: { readonly chunkChars?: number } = {},
  ) {}

  private async query(pk: string, skPrefix?: string): Promise<Item[]> {
    return queryPartition(this.client, this.tableName, { pk, skPrefix, consistent: true });
  }

  async loadDraft(orgId: number): Promise<DraftPolicy> {
    let head: DraftHead | null = null;
    const counters: IdCounter[] = [];
    const objects: { -readonly [K in PolicyObjectType]: PolicyObjectMap[K][] } = { label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] };
    for (const item of await this.query(policyKeys.draftPartition(orgId))) {
      const sk = String(item.sk);
      if (sk === policyKeys.draftHead(orgId).sk) head = headOf(item);
      else if (sk.startsWith(policyKeys.idCounterPrefix)) counters.push({ epoch: Number(item.epoch), last: Number(item.last) });
      else {
        const type = draftTypeOfSk(sk);
        if (type) (objects[type] as PolicyObjectRecord[]).push(item.object as PolicyObjectRecord);
      }
    }
    return { head, counters, objects };
  }

  async listDraft<K extends PolicyObjectType>(orgId: number, type: K): Promise<PolicyObjectMap[K][]> {
    return (await this.query(policyKeys.draftPartition(orgId), policyKeys.draftTypePrefix(type))).map((item) => item.object as PolicyObjectMap[K]);
  }

  async getDraft<K extends PolicyObjectType>(orgId: number, type: K, id: number): Promise<PolicyObjectMap[K] | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: policyKeys.draftObject(orgId, type, id), ConsistentRead: true }));
    return out.Item ? (out.Item.object as PolicyObjectMap[K]) : null;
  }

  async loadDraftHead(orgId: number): Promise<DraftHeadState> {
    const [from, to] = policyKeys.headAndCountersRange;
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': policyKeys.draftPartition(orgId), ':from': from, ':to': to },
        ConsistentRead: true,
      }),
    );
    let head: DraftHead | null = null;
    const counters: IdCounter[] = [];
    for (const item of out.Items ?? []) {
      if (item.sk === policyKeys.draftHead(orgId).sk) head = headOf(item);
      else counters.push({ epoch: Number(item.epoch), last: Number(item.last) });
    }
    return { head, counters };
  }

  async getDrafts<K extends PolicyObjectType>(orgId: number, type: K, ids: readonly number[]): Promise<PolicyObjectMap[K][]> {
    const out: PolicyObjectMap[K][] = [];
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += BATCH_GET_KEYS) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + BATCH_GET_KEYS).map((id) => policyKeys.draftObject(orgId, type, id));
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`BatchGetItem on ${this.tableName}: ${keys.length} key(s) still unprocessed after 8 attempts`);
        const res: BatchGetCommandOutput = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of res.Responses?.[this.tableName] ?? []) out.push(item.object as PolicyObjectMap[K]);
        keys = res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (keys.length > 0) await sleep(Math.min(1_000, 20 * 2 ** attempt));
      }
    }
    return out;
  }

  async nameClaim(orgId: number, type: PolicyObjectType, name: string): Promise<number | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: policyKeys.nameClaim(orgId, type, name), ConsistentRead: true }));
    return typeof out.Item?.owner === 'number' ? out.Item.owner : null;
  }

  /** The ConditionCheck/Put pair that moves the head: fails when another write moved it first. */
  private headPut(orgId: number, expected: DraftHead | null, now: number, namesClaimed: boolean): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...policyKeys.draftHead(orgId), org_id: orgId, revision: (expected?.revision ?? 0) + 1, names_claimed: namesClaimed, ...stamp(this.region, Math.max(now, (expected?.updatedAt ?? 0) + 1)) },
        ...headCondition(expected),
      },
    };
  }

  /** The claim of a put object's name: unconditional, or conditional on the claim being free, the object's own or the stale one. */
  private claimPut(orgId: number, type: PolicyObjectType, object: PolicyObjectRecord, now: number, nameClaim: { readonly staleOwner: number | null } | undefined): TransactItem {
    const Item = nameClaimItem(orgId, { type, id: object.id, name: object.name }, this.region, now);
    if (!nameClaim) return { Put: { TableName: this.tableName, Item } };
    return {
      Put: {
        TableName: this.tableName,
        Item,
        ConditionExpression: nameClaim.staleOwner === null ? 'attribute_not_exists(pk) OR #owner = :self' : 'attribute_not_exists(pk) OR #owner = :self OR #owner = :stale',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: nameClaim.staleOwner === null ? { ':self': object.id } : { ':self': object.id, ':stale': nameClaim.staleOwner },
      },
    };
  }

  /**
   * Claims every name (drafts written before claims existed), in fenced transactions ahead of the write that
   * marks the head. Claims already in place are skipped, so a large org that does not finish within one
   * request (the API's timeout) gets further with each attempt.
   */
  private async claimAll(orgId: number, refs: readonly NameRef[], now: number, fence: WriteFence): Promise<void> {
    const held = new Map((await queryPartition(this.client, this.tableName, { pk: policyKeys.draftPartition(orgId), skPrefix: policyKeys.nameClaimPrefix, consistent: true, attributes: ['sk', 'owner'] })).map((i) => [String(i.sk), i.owner]));
    const missing = refs.filter((ref) => held.get(policyKeys.nameClaim(orgId, ref.type, ref.name).sk) !== ref.id);
    for (let i = 0; i < missing.length; i += CLAIMS_PER_TRANSACTION) {
      const puts = missing.slice(i, i + CLAIMS_PER_TRANSACTION).map((ref): TransactItem => ({ Put: { TableName: this.tableName, Item: nameClaimItem(orgId, ref, this.region, now) } }));
      try {
        await fencedTransactWrite(this.client, this.tableName, fence, puts);
      } catch (err) {
        if (!cancellationCodes(err)) throw err;
        throw new DraftChangedError(`claiming the draft names of org ${orgId} kept conflicting`, { cause: err });
      }
    }
  }

  async writeDraft(write: DraftWrite, fence: WriteFence): Promise<void> {
    const puts = write.put.map(({ type, object }) => {
      const item = objectItem(write.orgId, type, object, this.region);
      const size = Buffer.byteLength(JSON.stringify(item), 'utf8');
      if (size > MAX_DRAFT_ITEM_BYTES) {
        throw new PolicyObjectTooLargeError(`the ${OBJECT_NOUNS[type]} ${object.id} would take ${size} bytes, more than the ${MAX_DRAFT_ITEM_BYTES} one object may use; split it (e.g. rules into another rule set)`);
      }
      return item;
    });
    const counter: TransactItem[] = write.ids
      ? [
          {
            Put: {
              TableName: this.tableName,
              Item: { ...policyKeys.idCounter(write.orgId, fence.epoch), org_id: write.orgId, epoch: fence.epoch, last: write.ids.to, ...stamp(this.region, write.now) },
              ConditionExpression: write.ids.from === null ? 'attribute_not_exists(pk)' : '#last = :from',
              ExpressionAttributeNames: write.ids.from === null ? undefined : { '#last': 'last' },
              ExpressionAttributeValues: write.ids.from === null ? undefined : { ':from': write.ids.from },
            },
          },
        ]
      : [];
    if (write.claimAllNames) await this.claimAll(write.orgId, write.claimAllNames, write.now, fence);
    const namesClaimed = write.expectedHead === null || write.expectedHead.namesClaimed === true || write.claimAllNames !== undefined;
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        this.headPut(write.orgId, write.expectedHead, write.now, namesClaimed),
        ...counter,
        ...puts.map((Item): TransactItem => ({ Put: { TableName: this.tableName, Item } })),
        ...write.put.map(({ type, object, nameClaim }) => this.claimPut(write.orgId, type, object, write.now, nameClaim)),
        ...write.remove.map((k): TransactItem => ({ Delete: { TableName: this.tableName, Key: policyKeys.draftObject(write.orgId, k.type, k.id), ConditionExpression: 'attribute_exists(pk)' } })),
      ]);
    } catch (err) {
      // head, counter or a delete condition failed (or conflicts outlasted the retries): re-read and retry
      if (!cancellationCodes(err)) throw err;
      throw new DraftChangedError(`the drafts of org ${write.orgId} changed since they were read`, { cause: err });
    }
  }

  async provision(write: ProvisionWrite, fence: WriteFence): Promise<StoredPolicyVersion> {
    const { orgId } = write;
    const version = write.version.version;
    const epoch = fence.epoch;
    const encoded = encodeSnapshot(write.document, this.options.chunkChars);
    const stored: StoredPolicyVersion = { ...write.version, epoch, content: encoded.content };
    const chunkPut = (data: string, index: number): TransactItem => ({
      Put: { TableName: this.tableName, Item: { ...policyKeys.chunk(orgId, version, epoch, index), org_id: orgId, version, epoch, index, data, ...stamp(this.region, write.now) } },
    });
    const chunks = encoded.chunks.map(chunkPut);
    // Very large documents: chunks first, in fenced batches. They are invisible until the version
    // item and pointer below exist, and they are keyed by this epoch, so a retry overwrites them.
    const inline = chunks.length <= CHUNKS_PER_TRANSACTION ? chunks : [];
    if (inline.length === 0) {
      for (let i = 0; i < chunks.length; i += CHUNKS_PER_TRANSACTION) {
        try {
          await fencedTransactWrite(this.client, this.tableName, fence, chunks.slice(i, i + CHUNKS_PER_TRANSACTION));
        } catch (err) {
          if (!cancellationCodes(err)) throw err;
          throw new ActivePolicyChangedError(`writing the chunks of policy version ${version} of org ${orgId} kept conflicting`, { cause: err });
        }
      }
    }
    const previous = write.previous;
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        { ConditionCheck: { TableName: this.tableName, Key: policyKeys.draftHead(orgId), ...headCondition(write.expectedHead) } },
        {
          Put: {
            TableName: this.tableName,
            Item: { ...policyKeys.version(orgId, version, epoch), ...versionAttributes(stored), ...stamp(this.region, write.now) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { ...policyKeys.activePointer(orgId), ...versionAttributes(stored), ...stamp(this.region, Math.max(write.now, (previous?.updatedAt ?? 0) + 1)) },
            ConditionExpression: previous ? 'version = :v AND epoch = :e' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: previous ? { ':v': previous.version, ':e': previous.epoch } : undefined,
          },
        },
        ...inline,
      ]);
    } catch (err) {
      const codes = cancellationCodes(err);
      if (!codes) throw err;
      if (codes[1] === 'ConditionalCheckFailed') throw new DraftChangedError(`the drafts of org ${orgId} changed while provisioning`, { cause: err });
      throw new ActivePolicyChangedError(`policy version ${version} of org ${orgId} was provisioned concurrently`, { cause: err });
    }
    return stored;
  }
}

function headCondition(expected: DraftHead | null) {
  return expected === null
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : { ConditionExpression: 'revision = :r', ExpressionAttributeValues: { ':r': expected.revision } };
}
