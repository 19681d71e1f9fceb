/**
 * A small compute world for tests: a two-role policy (web may reach db on one port), compute runtimes
 * (Lambda execution environments) sharing one compiled-policy store and one set of facts, and an
 * in-memory CompiledPolicyStore that behaves like the DynamoDB adapter (and counts what it writes).
 */
import { EMPTY_HEAD, compiledPolicyOf, type CompiledHead, type GroupKey, type GroupRecord, type IndexChanges, type RuleListRecord, type WorkloadPointer } from '../../shared/compute/compiled-index.ts';
import { ComputeService, type ComputeServiceDeps } from '../../shared/compute/compute-service.ts';
import type { CompiledPolicyStore, ManagedWorkloadFacts, SliceProgress, StoredCompiledPolicy, VersionedSnapshot } from '../../shared/compute/ports.ts';
import type { CompiledIpSet, IpSetId } from '../../shared/policy/compiled.ts';
import { PolicyCompiler } from '../../shared/policy/compiler/engine.ts';
import type { PolicySnapshot, WorkloadId } from '../../shared/policy/model.ts';

export const webToDbPolicy = (version: number, port: number): PolicySnapshot => ({
  version,
  labels: [
    { id: 1, key: 'role', value: 'web' },
    { id: 2, key: 'role', value: 'db' },
  ],
  labelGroups: [],
  services: [],
  ipLists: [],
  ruleSets: [{ id: 1, enabled: true, scopes: [[]], rules: [{ id: 1, enabled: true, providers: [{ kind: 'label', id: 2 }], consumers: [{ kind: 'label', id: 1 }], ingressServices: [{ kind: 'port', proto: 6, port }], unscopedConsumers: false }] }],
});

/** What the memory store was asked to do, in order. */
export type StoreOp = 'sets' | 'lists' | 'index' | 'commit' | 'invalidate';

/** The compiled-policy store in memory, with the DynamoDB adapter's semantics; `writes` counts items written or deleted (heads apart). */
export class MemoryCompiledStore implements CompiledPolicyStore {
  heads = new Map<number, CompiledHead>();
  pointers = new Map<string, WorkloadPointer & { at: number }>();
  groups = new Map<string, GroupRecord & { at: number }>();
  lists = new Map<string, RuleListRecord>();
  sets = new Map<string, CompiledIpSet>();
  progress = new Map<string, { slices: number; sha256: string | undefined; done: Set<number> }>();
  /** items written or deleted, apart from heads and slice progress */
  writes = 0;
  ops: StoreOp[] = [];
  reads = { head: 0, loadIndex: 0, getIndexEntries: 0, ipSetHashes: 0, getIpSets: 0, getRuleLists: 0 };

  private k = (orgId: number, id: string) => `${orgId}/${id}`;

  // reads
  async head(orgId: number) {
    this.reads.head++;
    return this.heads.get(orgId) ?? EMPTY_HEAD;
  }
  async loadIndex(orgId: number) {
    this.reads.loadIndex++;
    const prefix = `${orgId}/`;
    const pointers = new Map<WorkloadId, WorkloadPointer>();
    for (const [k, p] of this.pointers) if (k.startsWith(prefix)) pointers.set(k.slice(prefix.length), { group: p.group, mode: p.mode, computedAt: p.at });
    const groups = new Map<GroupKey, GroupRecord>();
    for (const [k, g] of this.groups) if (k.startsWith(prefix)) groups.set(k.slice(prefix.length), { list: g.list, hashes: g.hashes, computedAt: g.at });
    return { pointers, groups };
  }
  async getIndexEntries(orgId: number, workloads: readonly WorkloadId[], groupKeys: readonly GroupKey[]) {
    this.reads.getIndexEntries++;
    const pointers = new Map<WorkloadId, WorkloadPointer>();
    for (const id of workloads) {
      const p = this.pointers.get(this.k(orgId, id));
      if (p) pointers.set(id, { group: p.group, mode: p.mode, computedAt: p.at });
    }
    const groups = new Map<GroupKey, GroupRecord>();
    for (const key of groupKeys) {
      const g = this.groups.get(this.k(orgId, key));
      if (g) groups.set(key, { list: g.list, hashes: g.hashes, computedAt: g.at });
    }
    return { pointers, groups };
  }
  async getRuleLists(orgId: number, ids: readonly string[]) {
    this.reads.getRuleLists++;
    const out = new Map<string, RuleListRecord>();
    for (const id of ids) {
      const l = this.lists.get(this.k(orgId, id));
      if (l) out.set(id, l);
    }
    return out;
  }
  async ipSetHashes(orgId: number, ids: readonly IpSetId[]) {
    this.reads.ipSetHashes++;
    const out = new Map<IpSetId, string>();
    for (const id of ids) {
      const s = this.sets.get(this.k(orgId, id));
      if (s) out.set(id, s.hash);
    }
    return out;
  }
  async getIpSets(orgId: number, ids: readonly IpSetId[]) {
    this.reads.getIpSets++;
    return ids.flatMap((id) => this.sets.get(this.k(orgId, id)) ?? []);
  }
  async getPolicy(orgId: number, workloadId: WorkloadId): Promise<StoredCompiledPolicy | null> {
    const head = this.heads.get(orgId) ?? EMPTY_HEAD;
    const p = this.pointers.get(this.k(orgId, workloadId));
    if (head.policyVersion === null || !p) return null;
    const g = p.group === null ? undefined : this.groups.get(this.k(orgId, p.group));
    const policy = compiledPolicyOf(workloadId, head.policyVersion, p, g, g ? this.lists.get(this.k(orgId, g.list)) : undefined);
    return policy ? { policy, computedAt: Math.max(p.at, g?.at ?? 0) } : null;
  }

  // writes
  async putIpSets(orgId: number, sets: readonly CompiledIpSet[]) {
    this.ops.push('sets');
    for (const s of sets) this.sets.set(this.k(orgId, s.id), s);
    this.writes += sets.length;
  }
  async putRuleLists(orgId: number, lists: readonly RuleListRecord[]) {
    this.ops.push('lists');
    for (const l of lists) this.lists.set(this.k(orgId, l.id), l);
    this.writes += lists.length;
  }
  async putIndex(orgId: number, changes: IndexChanges, at: number) {
    this.ops.push('index');
    for (const [key, g] of changes.groups) if (g) this.groups.set(this.k(orgId, key), { ...g, at });
    for (const [id, p] of changes.pointers) {
      if (p) this.pointers.set(this.k(orgId, id), { ...p, at });
      else this.pointers.delete(this.k(orgId, id));
    }
    for (const [key, g] of changes.groups) if (!g) this.groups.delete(this.k(orgId, key));
    this.writes += changes.groups.size + changes.pointers.size;
  }
  async commit(orgId: number, expected: number, next: CompiledHead) {
    this.ops.push('commit');
    if ((this.heads.get(orgId)?.seq ?? 0) !== expected) return false;
    this.heads.set(orgId, { ...next, seq: expected + 1 });
    return true;
  }
  async invalidate(orgId: number) {
    this.ops.push('invalidate');
    const h = this.heads.get(orgId) ?? EMPTY_HEAD;
    this.heads.set(orgId, { ...h, seq: h.seq + 1, epoch: h.epoch + 1 });
  }
  async markSlicesDone(orgId: number, version: number, done: readonly number[], slices: number, sha256?: string) {
    if (done.length === 0) return;
    const key = this.k(orgId, String(version));
    const cur = this.progress.get(key);
    const kept = cur && cur.sha256 === sha256 ? cur.done : new Set<number>();
    done.forEach((s) => kept.add(s));
    this.progress.set(key, { slices, sha256, done: kept });
  }
  async sliceProgress(orgId: number, version: number, sha256?: string): Promise<SliceProgress | null> {
    const p = this.progress.get(this.k(orgId, String(version)));
    if (!p || p.sha256 !== sha256) return null;
    return { slices: p.slices, done: new Set(p.done) };
  }
}

export function computeWorld(
  store: CompiledPolicyStore,
  initialFacts: ManagedWorkloadFacts[],
  options: { selfFqdn?: string; now?: () => number; publisher?: ComputeServiceDeps['publisher']; logger?: ComputeServiceDeps['logger'] } = {},
) {
  let active: VersionedSnapshot = { version: 1, snapshot: webToDbPolicy(1, 5432) };
  let facts = initialFacts;
  let duringRead: () => Promise<void> = async () => undefined;
  /** how the runs read the facts: all of them, or only some workloads' */
  const reads = { full: 0, targeted: 0, targetedIds: 0 };
  /** a compute runtime over the shared store and facts */
  const runtime = () =>
    new ComputeService({
      selfFqdn: options.selfFqdn ?? 'me',
      policies: { getActive: async () => active, getVersion: async () => active },
      workloads: {
        listFacts: async () => {
          reads.full++;
          const read = facts;
          await duringRead();
          return read;
        },
        factsOf: async (_orgId: number, ids: readonly string[]) => {
          reads.targeted++;
          reads.targetedIds += ids.length;
          const read = facts.filter((f) => ids.includes(f.id));
          await duringRead();
          return read;
        },
      },
      compiled: store,
      createCompiler: (s, w) => new PolicyCompiler(s, w),
      ...(options.now ? { now: options.now } : {}),
      ...(options.publisher ? { publisher: options.publisher } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  return {
    runtime,
    reads,
    setActive: (v: VersionedSnapshot) => (active = v),
    setFacts: (f: ManagedWorkloadFacts[]) => (facts = f),
    facts: () => facts,
    /** runs once while the next run reads the facts: something happening in the middle of a run */
    onNextRead: (fn: () => Promise<void>) =>
      (duringRead = async () => {
        duringRead = async () => undefined;
        await fn();
      }),
  };
}
