/**
 * Compiled policy and IP sets in a PCE's local table (never replicated: each PCE computes its own).
 *   COMPILED / <workloadId>  {policy (JSON string: one attribute is far cheaper to marshal than a deep map), rules_hash, policy_version, computed_at}
 *   IPSET    / <setId>       {members, hash}
 *   COMPUTE  / PROGRESS#<org>#<version>  {slices, slices_done (number set), sha256 of the version's document}
 *   COMPUTE  / SEQ#<org>                 {seq}: advanced by every completed compute run (docs/adr/0007)
 * Writes compare hashes first (BatchGet) and write only what differs (BatchWrite), so a redelivered
 * job writes nothing. Runs of one org do not overlap (FIFO queue per org); the sequence catches the rest.
 */
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CompiledPolicyStore, SliceProgress, StoredCompiledPolicy } from '../../compute/ports.ts';
import type { CompiledIpSet, CompiledPolicy } from '../../policy/compiled.ts';
import { batchPutAll, isConditionalCheckFailed, queryPartition, type DynamoDBDocumentClient } from './client.ts';

export const compiledKeys = {
  policy: (workloadId: string) => ({ pk: 'COMPILED', sk: workloadId }),
  ipSet: (id: string) => ({ pk: 'IPSET', sk: id }),
  progress: (orgId: number, version: number) => ({ pk: 'COMPUTE', sk: `PROGRESS#${orgId}#${version}` }),
  sequence: (orgId: number) => ({ pk: 'COMPUTE', sk: `SEQ#${orgId}` }),
};

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

export class DynamoDbCompiledPolicyStore implements CompiledPolicyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The stored items for `keys`, projected to `attributes`, by sort key. */
  private async existing(keys: { pk: string; sk: string }[], attributes: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    const names = Object.fromEntries(['sk', ...attributes].map((a, i) => [`#a${i}`, a]));
    const projection = Object.keys(names).join(', ');
    await inParallel(chunk(keys, 100), async (part) => {
      type Request = Record<string, { Keys: Record<string, unknown>[]; ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> }>;
      let request: Request | undefined = { [this.tableName]: { Keys: part, ProjectionExpression: projection, ExpressionAttributeNames: names } };
      while (request && Object.keys(request).length > 0) {
        const out = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.tableName] ?? []) found.set(String(item.sk), item);
        request = out.UnprocessedKeys as Request | undefined;
      }
    });
    return found;
  }

  private async writeAll(items: Record<string, unknown>[]): Promise<void> {
    await batchPutAll(this.client, this.tableName, items, { concurrency: CONCURRENCY });
  }

  async putPolicies(policies: readonly CompiledPolicy[], computedAt: number, options: { assumeChanged?: boolean } = {}): Promise<number> {
    if (policies.length === 0) return 0;
    const stored = options.assumeChanged ? new Map<string, Record<string, unknown>>() : await this.existing(policies.map((p) => compiledKeys.policy(p.workloadId)), ['rules_hash', 'policy_version']);
    const changed = policies.filter((p) => {
      const s = stored.get(p.workloadId);
      return !s || s.rules_hash !== p.rulesHash || s.policy_version !== p.policyVersion;
    });
    await this.writeAll(
      changed.map((p) => ({ ...compiledKeys.policy(p.workloadId), policy: JSON.stringify(p), rules_hash: p.rulesHash, policy_version: p.policyVersion, computed_at: computedAt })),
    );
    return changed.length;
  }

  async putIpSets(sets: readonly CompiledIpSet[]): Promise<number> {
    if (sets.length === 0) return 0;
    const stored = await this.existing(sets.map((s) => compiledKeys.ipSet(s.id)), ['hash']);
    const changed = sets.filter((s) => stored.get(s.id)?.hash !== s.hash);
    await this.writeAll(changed.map((s) => ({ ...compiledKeys.ipSet(s.id), members: [...s.members], hash: s.hash })));
    return changed.length;
  }

  async getPolicy(workloadId: string): Promise<StoredCompiledPolicy | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: compiledKeys.policy(workloadId) }));
    if (!out.Item) return null;
    return { policy: JSON.parse(String(out.Item.policy)) as CompiledPolicy, computedAt: Number(out.Item.computed_at) };
  }

  async getIpSets(ids: readonly string[]): Promise<CompiledIpSet[]> {
    const found = await this.existing(ids.map((id) => compiledKeys.ipSet(id)), ['members', 'hash']);
    return ids.flatMap((id) => {
      const item = found.get(id);
      return item ? [{ id, members: (item.members as string[]) ?? [], hash: String(item.hash) }] : [];
    });
  }

  async deletePolicy(workloadId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: compiledKeys.policy(workloadId) }));
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

  async computeSeq(orgId: number): Promise<number> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: compiledKeys.sequence(orgId), ConsistentRead: true }));
    return Number(out.Item?.seq ?? 0);
  }

  async advanceComputeSeq(orgId: number, expected: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: compiledKeys.sequence(orgId),
          UpdateExpression: 'SET seq = :next',
          ConditionExpression: expected === 0 ? 'attribute_not_exists(seq) OR seq = :expected' : 'seq = :expected',
          ExpressionAttributeValues: { ':next': expected + 1, ':expected': expected },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async summary(): Promise<{ workloads: number; byVersion: Record<string, number> }> {
    const byVersion: Record<string, number> = {};
    let workloads = 0;
    for (const item of await queryPartition(this.client, this.tableName, { pk: 'COMPILED', attributes: ['policy_version'] })) {
      workloads++;
      const v = String(item.policy_version);
      byVersion[v] = (byVersion[v] ?? 0) + 1;
    }
    return { workloads, byVersion };
  }
}
