/**
 * Compiled policy in a PCE's local table (never replicated: each PCE computes its own), stored by change
 * (docs/compiled-policy.md "Storage", docs/adr/0010):
 *   COMPILED#<org>   / HEAD            {seq, policy_version, sha256, rev, epoch, log, computed_at, version_at}: written last, conditionally on seq
 *   COMPILED#<org>   / G#<group key>   {list, hashes {visibility_only, selective, full}, computed_at}: a group's rule list
 *   COMPILED#<org>#W / <workload id>   {g (group key; absent when idle), m (mode), computed_at}: a workload's pointer
 *   COMPILED#<org>#R / <list id>       {rules (JSON of {inbound, outbound, ip_set_ids}) or rules_gz (gzipped, large lists)}: immutable
 *   COMPILED#<org>#S / <set id>        {members, hash}
 *   COMPUTE          / PROGRESS#<org>#<version>  {slices, slices_done (number set), sha256 of the version's document}
 * The head and the groups share a partition (one Query reloads both); pointers have their own (the
 * largest: one item per workload, rewritten only when a workload's labels or mode change).
 * The compute service decides what differs (it compares with its picture of the store, or with one
 * Query of it); this adapter writes what it is given, in the order given. Runs of one org do not
 * overlap (FIFO queue per org); the sequence in the head catches the rest.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, UpdateCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { compiledPolicyOf, EMPTY_HEAD, ENFORCED_MODES, type CompiledHead, type GroupKey, type GroupRecord, type HeadLogEntry, type IndexChanges, type RuleListRecord, type RuledMode, type WorkloadPointer } from '../../compute/compiled-index.ts';
import type { CompiledPolicyStore, SliceProgress, StoredCompiledPolicy } from '../../compute/ports.ts';
import type { CompiledIpSet, IpSetId } from '../../policy/compiled.ts';
import { ENFORCEMENT_MODES, type EnforcementMode, type WorkloadId } from '../../policy/model.ts';
import type { VenRuleV1 } from '../../ven/protocol.ts';
import { sleep } from '../../runtime/sleep.ts';
import { BATCH_WRITE_ATTEMPTS, batchPutAll, isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';

export const compiledKeys = {
  headPartition: (orgId: number) => `COMPILED#${orgId}`,
  head: (orgId: number) => ({ pk: `COMPILED#${orgId}`, sk: 'HEAD' }),
  group: (orgId: number, key: GroupKey) => ({ pk: `COMPILED#${orgId}`, sk: `G#${key}` }),
  pointerPartition: (orgId: number) => `COMPILED#${orgId}#W`,
  pointer: (orgId: number, workloadId: WorkloadId) => ({ pk: `COMPILED#${orgId}#W`, sk: workloadId }),
  ruleList: (orgId: number, id: string) => ({ pk: `COMPILED#${orgId}#R`, sk: id }),
  ipSet: (orgId: number, id: IpSetId) => ({ pk: `COMPILED#${orgId}#S`, sk: id }),
  progress: (orgId: number, version: number) => ({ pk: 'COMPUTE', sk: `PROGRESS#${orgId}#${version}` }),
};

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

/** Rule lists larger than this (JSON characters) are stored gzipped (an item holds at most 400 KB). */
const GZIP_ABOVE_CHARS = 64 * 1024;

const chunk = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Batch requests in flight at once per call. */
const CONCURRENCY = 4;

async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

const keyText = (k: Key): string => `${k.pk}\n${k.sk}`;
const isMode = (m: unknown): m is EnforcementMode => typeof m === 'string' && (ENFORCEMENT_MODES as readonly string[]).includes(m);

/** The item's `computed_at` (absent on items written before it was kept). */
const timeOf = (item: Item): { computedAt?: number } => (typeof item.computed_at === 'number' ? { computedAt: item.computed_at } : {});

function pointerOf(item: Item): WorkloadPointer | null {
  if (!isMode(item.m)) return null;
  return { group: typeof item.g === 'string' ? item.g : null, mode: item.m, ...timeOf(item) };
}

function groupOf(item: Item): GroupRecord | null {
  const hashes = item.hashes as Record<string, unknown> | undefined;
  if (typeof item.list !== 'string' || !hashes || !ENFORCED_MODES.every((m) => typeof hashes[m] === 'string')) return null;
  return { list: item.list, hashes: Object.fromEntries(ENFORCED_MODES.map((m) => [m, String(hashes[m])])) as Record<RuledMode, string>, ...timeOf(item) };
}

function headOf(item: Item | undefined): CompiledHead {
  if (!item) return EMPTY_HEAD;
  const log = ((item.log as Item[] | undefined) ?? []).map((e): HeadLogEntry => ({ rev: Number(e.r), workloads: (e.w as string[] | undefined) ?? [], groups: (e.g as string[] | undefined) ?? [] }));
  return {
    seq: Number(item.seq ?? 0),
    policyVersion: item.policy_version === undefined ? null : Number(item.policy_version),
    sha256: typeof item.sha256 === 'string' ? item.sha256 : null,
    rev: Number(item.rev ?? 0),
    epoch: Number(item.epoch ?? 0),
    log,
    computedAt: item.computed_at === undefined ? null : Number(item.computed_at),
    versionAt: item.version_at === undefined ? null : Number(item.version_at),
  };
}

function ruleListItem(orgId: number, list: RuleListRecord): Item {
  const rules = JSON.stringify({ inbound: list.inbound, outbound: list.outbound, ip_set_ids: list.ipSetIds });
  return { ...compiledKeys.ruleList(orgId, list.id), ...(rules.length > GZIP_ABOVE_CHARS ? { rules_gz: gzipSync(rules) } : { rules }) };
}

function ruleListOf(id: string, item: Item): RuleListRecord {
  const text = item.rules_gz instanceof Uint8Array ? gunzipSync(item.rules_gz).toString('utf8') : String(item.rules);
  const parsed = JSON.parse(text) as { inbound: VenRuleV1[]; outbound: VenRuleV1[]; ip_set_ids: string[] };
  return { id, inbound: parsed.inbound, outbound: parsed.outbound, ipSetIds: parsed.ip_set_ids };
}

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };

export class DynamoDbCompiledPolicyStore implements CompiledPolicyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The stored items for `keys` (consistent), optionally projected to `attributes`, by keyText. */
  private async batchGet(keys: readonly Key[], attributes?: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const names = attributes ? Object.fromEntries(['pk', 'sk', ...attributes].map((a, i) => [`#a${i}`, a])) : undefined;
    const unique = [...new Map(keys.map((k) => [keyText(k), k])).values()];
    await inParallel(chunk(unique, 100), async (part) => {
      type Request = Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> }>;
      let request: Request | undefined = { [this.tableName]: { Keys: part, ConsistentRead: true, ...(names ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : {}) } };
      while (request && Object.keys(request).length > 0) {
        const out = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.tableName] ?? []) found.set(keyText({ pk: String(item.pk), sk: String(item.sk) }), item);
        request = out.UnprocessedKeys as Request | undefined;
        if (request && Object.keys(request).length > 0) await sleep(20);
      }
    });
    return found;
  }

  /** BatchWriteItem of puts and deletes (25 per request), retrying what DynamoDB leaves unprocessed. */
  private async batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    await inParallel(chunk(requests, 25), async (part) => {
      let pending: WriteRequest[] = part;
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > BATCH_WRITE_ATTEMPTS) throw new Error(`BatchWriteItem on ${this.tableName}: ${pending.length} item(s) still unprocessed after ${BATCH_WRITE_ATTEMPTS} attempts`);
        const out: BatchWriteCommandOutput = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (out.UnprocessedItems?.[this.tableName] ?? []) as WriteRequest[];
        if (pending.length > 0) await sleep(Math.min(1_000, 20 * 2 ** attempt));
      }
    });
  }

  // ------------------------------------------------------------------------------------------ reads

  async head(orgId: number): Promise<CompiledHead> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: compiledKeys.head(orgId), ConsistentRead: true }));
    return headOf(out.Item);
  }

  async loadIndex(orgId: number): Promise<{ pointers: Map<WorkloadId, WorkloadPointer>; groups: Map<GroupKey, GroupRecord> }> {
    const [groupItems, pointerItems] = await Promise.all([
      queryPartition(this.client, this.tableName, { pk: compiledKeys.headPartition(orgId), skPrefix: 'G#', consistent: true, attributes: ['sk', 'list', 'hashes', 'computed_at'] }),
      queryPartition(this.client, this.tableName, { pk: compiledKeys.pointerPartition(orgId), consistent: true, attributes: ['sk', 'g', 'm', 'computed_at'] }),
    ]);
    const groups = new Map<GroupKey, GroupRecord>();
    for (const item of groupItems) {
      const g = groupOf(item);
      if (g) groups.set(String(item.sk).slice(2), g);
    }
    const pointers = new Map<WorkloadId, WorkloadPointer>();
    for (const item of pointerItems) {
      const p = pointerOf(item);
      if (p) pointers.set(String(item.sk), p);
    }
    return { pointers, groups };
  }

  async getIndexEntries(orgId: number, workloads: readonly WorkloadId[], groupKeys: readonly GroupKey[]): Promise<{ pointers: Map<WorkloadId, WorkloadPointer>; groups: Map<GroupKey, GroupRecord> }> {
    const found = await this.batchGet([...workloads.map((id) => compiledKeys.pointer(orgId, id)), ...groupKeys.map((k) => compiledKeys.group(orgId, k))], ['g', 'm', 'list', 'hashes', 'computed_at']);
    const pointers = new Map<WorkloadId, WorkloadPointer>();
    for (const id of workloads) {
      const item = found.get(keyText(compiledKeys.pointer(orgId, id)));
      const p = item ? pointerOf(item) : null;
      if (p) pointers.set(id, p);
    }
    const groups = new Map<GroupKey, GroupRecord>();
    for (const key of groupKeys) {
      const item = found.get(keyText(compiledKeys.group(orgId, key)));
      const g = item ? groupOf(item) : null;
      if (g) groups.set(key, g);
    }
    return { pointers, groups };
  }

  async getRuleLists(orgId: number, ids: readonly string[]): Promise<Map<string, RuleListRecord>> {
    const found = await this.batchGet(ids.map((id) => compiledKeys.ruleList(orgId, id)));
    const lists = new Map<string, RuleListRecord>();
    for (const id of ids) {
      const item = found.get(keyText(compiledKeys.ruleList(orgId, id)));
      if (item) lists.set(id, ruleListOf(id, item));
    }
    return lists;
  }

  async ipSetHashes(orgId: number, ids: readonly IpSetId[]): Promise<Map<IpSetId, string>> {
    const found = await this.batchGet(ids.map((id) => compiledKeys.ipSet(orgId, id)), ['hash']);
    const hashes = new Map<IpSetId, string>();
    for (const id of ids) {
      const item = found.get(keyText(compiledKeys.ipSet(orgId, id)));
      if (item) hashes.set(id, String(item.hash));
    }
    return hashes;
  }

  async getIpSets(orgId: number, ids: readonly IpSetId[]): Promise<CompiledIpSet[]> {
    const found = await this.batchGet(ids.map((id) => compiledKeys.ipSet(orgId, id)));
    return ids.flatMap((id) => {
      const item = found.get(keyText(compiledKeys.ipSet(orgId, id)));
      return item ? [{ id, members: (item.members as string[] | undefined) ?? [], hash: String(item.hash) }] : [];
    });
  }

  async getPolicy(orgId: number, workloadId: WorkloadId): Promise<StoredCompiledPolicy | null> {
    const get = async (key: Key) => (await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))).Item;
    const [headItem, pointerItem] = await Promise.all([get(compiledKeys.head(orgId)), get(compiledKeys.pointer(orgId, workloadId))]);
    const head = headOf(headItem);
    const pointer = pointerItem ? pointerOf(pointerItem) : null;
    if (head.policyVersion === null || !pointer) return null;
    const groupItem = pointer.group === null ? undefined : await get(compiledKeys.group(orgId, pointer.group));
    const group = groupItem ? (groupOf(groupItem) ?? undefined) : undefined;
    const list = group ? (await this.getRuleLists(orgId, [group.list])).get(group.list) : undefined;
    const policy = compiledPolicyOf(workloadId, head.policyVersion, pointer, group, list);
    if (!policy) return null;
    return { policy, computedAt: Math.max(Number(pointerItem?.computed_at ?? 0), Number(groupItem?.computed_at ?? 0)) };
  }

  /** What the store holds for an org, for convergence checks (bench/converge.ts): the head's version, pointers, groups, pointers whose group is missing. */
  async summary(orgId: number): Promise<{ policyVersion: number | null; workloads: number; groups: number; missingGroups: number; byMode: Record<string, number> }> {
    const [head, index] = await Promise.all([this.head(orgId), this.loadIndex(orgId)]);
    let missingGroups = 0;
    const byMode: Record<string, number> = {};
    for (const p of index.pointers.values()) {
      byMode[p.mode] = (byMode[p.mode] ?? 0) + 1;
      if (p.group !== null && !index.groups.has(p.group)) missingGroups++;
    }
    return { policyVersion: head.policyVersion, workloads: index.pointers.size, groups: index.groups.size, missingGroups, byMode };
  }

  // ------------------------------------------------------------------------------------------ writes

  async putIpSets(orgId: number, sets: readonly CompiledIpSet[]): Promise<void> {
    await batchPutAll(this.client, this.tableName, sets.map((s) => ({ ...compiledKeys.ipSet(orgId, s.id), members: [...s.members], hash: s.hash })), { concurrency: CONCURRENCY });
  }

  async putRuleLists(orgId: number, lists: readonly RuleListRecord[]): Promise<void> {
    await batchPutAll(this.client, this.tableName, lists.map((l) => ruleListItem(orgId, l)), { concurrency: CONCURRENCY });
  }

  async putIndex(orgId: number, changes: IndexChanges, computedAt: number): Promise<void> {
    const groupPuts: WriteRequest[] = [];
    const groupDeletes: WriteRequest[] = [];
    for (const [key, g] of changes.groups) {
      if (g === null) groupDeletes.push({ DeleteRequest: { Key: compiledKeys.group(orgId, key) } });
      else groupPuts.push({ PutRequest: { Item: { ...compiledKeys.group(orgId, key), list: g.list, hashes: { ...g.hashes }, computed_at: computedAt } } });
    }
    const pointerWrites: WriteRequest[] = [];
    for (const [id, p] of changes.pointers) {
      if (p === null) pointerWrites.push({ DeleteRequest: { Key: compiledKeys.pointer(orgId, id) } });
      else pointerWrites.push({ PutRequest: { Item: { ...compiledKeys.pointer(orgId, id), ...(p.group === null ? {} : { g: p.group }), m: p.mode, computed_at: computedAt } } });
    }
    // a pointer never names a group that is not there yet (nor, for long, one that is gone)
    await this.batchWrite(groupPuts);
    await this.batchWrite(pointerWrites);
    await this.batchWrite(groupDeletes);
  }

  async commit(orgId: number, expected: number, next: CompiledHead): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...compiledKeys.head(orgId),
            seq: expected + 1,
            ...(next.policyVersion === null ? {} : { policy_version: next.policyVersion }),
            ...(next.sha256 === null ? {} : { sha256: next.sha256 }),
            rev: next.rev,
            epoch: next.epoch,
            log: next.log.map((e) => ({ r: e.rev, w: [...e.workloads], g: [...e.groups] })),
            ...(next.computedAt === null ? {} : { computed_at: next.computedAt }),
            ...(next.versionAt === null || next.versionAt === undefined ? {} : { version_at: next.versionAt }),
          },
          ConditionExpression: expected === 0 ? 'attribute_not_exists(seq) OR seq = :expected' : 'seq = :expected',
          ExpressionAttributeValues: { ':expected': expected },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async invalidate(orgId: number): Promise<void> {
    await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: compiledKeys.head(orgId), UpdateExpression: 'ADD seq :one, epoch :one', ExpressionAttributeValues: { ':one': 1 } }));
  }

  async markSlicesDone(orgId: number, version: number, done: readonly number[], slices: number, sha256 = ''): Promise<void> {
    if (done.length === 0) return;
    const key = compiledKeys.progress(orgId, version);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET slices = :n, sha256 = :sha ADD slices_done :s',
          ConditionExpression: 'attribute_not_exists(sha256) OR sha256 = :sha',
          ExpressionAttributeValues: { ':n': slices, ':sha': sha256, ':s': new Set(done) },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // the progress was of another document numbered `version`: this one starts over
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...key, slices, sha256, slices_done: new Set(done) } }));
    }
  }

  /** How far this PCE is with a provision: slices expected and done (null before the first slice finished, or when they were of another document). */
  async sliceProgress(orgId: number, version: number, sha256?: string): Promise<SliceProgress | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: compiledKeys.progress(orgId, version), ConsistentRead: true }));
    if (!out.Item || (sha256 !== undefined && out.Item.sha256 !== sha256)) return null;
    return { slices: Number(out.Item.slices), done: new Set((out.Item.slices_done as Set<number> | undefined) ?? []) };
  }
}
