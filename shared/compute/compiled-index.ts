/**
 * How a PCE stores compiled policy so that a provision writes what changed, not one item per workload
 * (docs/compiled-policy.md "Storage", docs/adr/0010-compiled-policy-by-change.md). Pure: the layout,
 * what one compilation asks to be stored, and the difference with what is stored.
 *
 * - A workload points to a **group**: the workloads with the same labels (all of them, not only those
 *   the policy mentions, so that the pointer does not depend on the policy), or the workload alone when
 *   an actor names it by id (it has rules of its own). The pointer holds the workload's mode; idle
 *   workloads point to no group (they have no rules). A pointer changes only when the workload's labels
 *   or mode change, or when the policy starts or stops naming it.
 * - A group names its **rule list** (content-addressed: the sha256 of its rules in wire form, written
 *   once, never changed) and the rules hash of that list for each enforced mode. A provision rewrites
 *   the groups whose rules changed.
 * - IP sets, content by id, are written when their hash changes.
 * - One head per org (the policy version VENs are told, and a log of which pointers and groups changed)
 *   is written last.
 */
import { IDLE_RULES_HASH, fromVenRule, ruleListIdOf, ruleListText, rulesHashOfListText, toVenRule, type CompiledPolicy, type CompiledRule, type IpSetId } from '../policy/compiled.ts';
import { createHash } from 'node:crypto';
import type { EnforcementMode, LabelId, WorkloadId } from '../policy/model.ts';
import type { VenRuleV1 } from '../ven/protocol.ts';

/** `L#<sorted label ids>` (labels of the workload), `W#<workload id>` (a named workload), `H#<sha256>` (a long label list). */
export type GroupKey = string;

export const ENFORCED_MODES = ['visibility_only', 'selective', 'full'] as const;
/** The modes that have rules (idle has none). */
export type RuledMode = (typeof ENFORCED_MODES)[number];

export interface WorkloadPointer {
  /** null for idle workloads: no rules */
  readonly group: GroupKey | null;
  readonly mode: EnforcementMode;
  /** when the stored pointer was written (as read back from the store; not compared, not written from here) */
  readonly computedAt?: number;
}

export interface GroupRecord {
  /** the content address of the group's rule list */
  readonly list: string;
  /** rulesHash of the list for each mode that has rules */
  readonly hashes: Readonly<Record<RuledMode, string>>;
  /** when the stored group was written (as read back from the store; not compared, not written from here) */
  readonly computedAt?: number;
}

/** A rule list as stored (content-addressed by `id`) and as the VEN receives it, without the mode. */
export interface RuleListRecord {
  readonly id: string;
  readonly inbound: readonly VenRuleV1[];
  readonly outbound: readonly VenRuleV1[];
  readonly ipSetIds: readonly IpSetId[];
}

export interface IndexEntry {
  readonly pointer: WorkloadPointer;
  /** absent for idle workloads */
  readonly group?: { readonly key: GroupKey; readonly record: GroupRecord; readonly list: RuleListRecord };
}

/** Label lists longer than this (in characters) are keyed by their hash (a sort key holds at most 1 KB). */
const MAX_LABEL_KEY_CHARS = 400;

export function groupKeyOf(workloadId: WorkloadId, labels: readonly LabelId[], named: boolean): GroupKey {
  if (named) return `W#${workloadId}`;
  const text = [...new Set(labels)].sort((a, b) => a - b).join(',');
  return text.length > MAX_LABEL_KEY_CHARS ? `H#${createHash('sha256').update(text).digest('hex')}` : `L#${text}`;
}

interface ListInfo {
  readonly list: RuleListRecord;
  readonly record: GroupRecord;
}

/** Rule lists by the compiler's shared frozen arrays: one stringify and hash per list, not per workload. */
const listCache = new WeakMap<readonly CompiledRule[], WeakMap<readonly CompiledRule[], ListInfo>>();

function listInfoOf(policy: CompiledPolicy): ListInfo {
  let byOutbound = listCache.get(policy.inbound);
  if (!byOutbound) listCache.set(policy.inbound, (byOutbound = new WeakMap()));
  let info = byOutbound.get(policy.outbound);
  if (!info) {
    const text = ruleListText(policy.inbound, policy.outbound);
    const id = ruleListIdOf(text);
    const hashes = Object.fromEntries(ENFORCED_MODES.map((m) => [m, rulesHashOfListText(m, text)])) as Record<RuledMode, string>;
    info = { list: { id, inbound: policy.inbound.map(toVenRule), outbound: policy.outbound.map(toVenRule), ipSetIds: [...policy.ipSetIds] }, record: { list: id, hashes } };
    byOutbound.set(policy.outbound, info);
  }
  return info;
}

/** The rule list of a workload that has rules (its policy is not idle). */
export function ruleListOf(policy: CompiledPolicy): RuleListRecord {
  return listInfoOf(policy).list;
}

/** Where a compiled policy goes in the layout. */
export function indexEntryOf(policy: CompiledPolicy, labels: readonly LabelId[], named: boolean): IndexEntry {
  const mode = policy.enforcementMode;
  if (mode === 'idle') return { pointer: { group: null, mode } };
  const key = groupKeyOf(policy.workloadId, labels, named);
  const { list, record } = listInfoOf(policy);
  return { pointer: { group: key, mode }, group: { key, record, list } };
}

/** The rules hash a pointer and its group stand for; null when the group is missing. */
export function rulesHashFor(pointer: WorkloadPointer, group: GroupRecord | undefined): string | null {
  if (pointer.mode === 'idle') return IDLE_RULES_HASH;
  return group ? group.hashes[pointer.mode] : null;
}

/** The compiled policy a pointer, its group and its group's rule list stand for (null when a piece is missing). */
export function compiledPolicyOf(workloadId: WorkloadId, policyVersion: number, pointer: WorkloadPointer, group: GroupRecord | undefined, list: RuleListRecord | undefined): CompiledPolicy | null {
  const mode = pointer.mode;
  const rulesHash = rulesHashFor(pointer, group);
  if (rulesHash === null) return null;
  const base = { workloadId, policyVersion, enforcementMode: mode, enforced: mode === 'selective' || mode === 'full', defaultDeny: mode === 'full', rulesHash };
  if (mode === 'idle') return { ...base, inbound: [], outbound: [], ipSetIds: [] };
  if (!list) return null;
  return { ...base, inbound: list.inbound.map(fromVenRule), outbound: list.outbound.map(fromVenRule), ipSetIds: [...list.ipSetIds] };
}

const samePointer = (a: WorkloadPointer | undefined, b: WorkloadPointer): boolean => a !== undefined && a.group === b.group && a.mode === b.mode;
const sameGroup = (a: GroupRecord | undefined, b: GroupRecord): boolean => a !== undefined && a.list === b.list && ENFORCED_MODES.every((m) => a.hashes[m] === b.hashes[m]);

/** What a run writes into the index: null = delete. */
export interface IndexChanges {
  readonly pointers: ReadonlyMap<WorkloadId, WorkloadPointer | null>;
  readonly groups: ReadonlyMap<GroupKey, GroupRecord | null>;
  /** rule lists no stored group refers to yet (written before the groups that name them) */
  readonly lists: readonly RuleListRecord[];
}

export const NO_CHANGES: IndexChanges = { pointers: new Map(), groups: new Map(), lists: [] };

/**
 * What is stored of one org's index (pointers and groups), in memory: the compute service's picture of
 * its last write, and the VEN policy view's cache. `trackMembers` keeps each group's workloads (for
 * groups left empty and for telling whose rules a group change changed).
 */
export class CompiledIndex {
  private readonly pointerMap = new Map<WorkloadId, WorkloadPointer>();
  private readonly groupMap = new Map<GroupKey, GroupRecord>();
  private readonly listRefs = new Map<string, number>();
  private readonly members: Map<GroupKey, Set<WorkloadId>> | null;

  constructor(options: { trackMembers?: boolean } = {}) {
    this.members = options.trackMembers ? new Map() : null;
  }

  static of(stored: { pointers: Iterable<[WorkloadId, WorkloadPointer]>; groups: Iterable<[GroupKey, GroupRecord]> }, options: { trackMembers?: boolean } = {}): CompiledIndex {
    const index = new CompiledIndex(options);
    for (const [key, group] of stored.groups) index.setGroup(key, group);
    for (const [id, pointer] of stored.pointers) index.setPointer(id, pointer);
    return index;
  }

  get workloads(): number {
    return this.pointerMap.size;
  }

  get groupCount(): number {
    return this.groupMap.size;
  }

  pointer(id: WorkloadId): WorkloadPointer | undefined {
    return this.pointerMap.get(id);
  }

  group(key: GroupKey): GroupRecord | undefined {
    return this.groupMap.get(key);
  }

  pointers(): IterableIterator<[WorkloadId, WorkloadPointer]> {
    return this.pointerMap.entries();
  }

  groups(): IterableIterator<[GroupKey, GroupRecord]> {
    return this.groupMap.entries();
  }

  /** whether a stored group refers to the list (then the list is stored: lists are written before groups) */
  hasList(id: string): boolean {
    return this.listRefs.has(id);
  }

  /** the workloads pointing to a group (only with trackMembers) */
  membersOf(key: GroupKey): ReadonlySet<WorkloadId> {
    return this.members?.get(key) ?? new Set();
  }

  /** the rules hash the stored items give the workload (null: no pointer, or its group is missing) */
  rulesHashOf(id: WorkloadId): string | null {
    const p = this.pointerMap.get(id);
    if (!p) return null;
    return rulesHashFor(p, p.group === null ? undefined : this.groupMap.get(p.group));
  }

  setPointer(id: WorkloadId, pointer: WorkloadPointer | null): void {
    const old = this.pointerMap.get(id);
    if (this.members && old?.group) {
      const set = this.members.get(old.group);
      set?.delete(id);
      if (set?.size === 0) this.members.delete(old.group);
    }
    if (pointer === null) {
      this.pointerMap.delete(id);
      return;
    }
    this.pointerMap.set(id, pointer);
    if (this.members && pointer.group !== null) {
      const set = this.members.get(pointer.group);
      if (set) set.add(id);
      else this.members.set(pointer.group, new Set([id]));
    }
  }

  setGroup(key: GroupKey, group: GroupRecord | null): void {
    const old = this.groupMap.get(key);
    if (old) {
      const n = (this.listRefs.get(old.list) ?? 1) - 1;
      if (n === 0) this.listRefs.delete(old.list);
      else this.listRefs.set(old.list, n);
    }
    if (group === null) {
      this.groupMap.delete(key);
      return;
    }
    this.groupMap.set(key, group);
    this.listRefs.set(group.list, (this.listRefs.get(group.list) ?? 0) + 1);
  }

  apply(changes: IndexChanges): void {
    // groups first, so that pointers always find theirs
    for (const [key, group] of changes.groups) if (group !== null) this.setGroup(key, group);
    for (const [id, pointer] of changes.pointers) this.setPointer(id, pointer);
    for (const [key, group] of changes.groups) if (group === null) this.setGroup(key, null);
  }
}

/**
 * The index writes that make `stored` hold `desired` (entries of the workloads a run computed) without
 * the `removed` workloads: pointers that differ, groups whose rules differ, rule lists no stored group
 * refers to, and the groups no pointer is left in (needs a `stored` index that tracks members; `sweep`
 * looks at every stored group, not only those the changed pointers leave: a reconcile).
 */
export function planIndexChanges(stored: CompiledIndex, desired: ReadonlyMap<WorkloadId, IndexEntry>, removed: Iterable<WorkloadId> = [], options: { sweep?: boolean } = {}): IndexChanges {
  const pointers = new Map<WorkloadId, WorkloadPointer | null>();
  const groups = new Map<GroupKey, GroupRecord | null>();
  const lists = new Map<string, RuleListRecord>();
  for (const [id, entry] of desired) {
    if (!samePointer(stored.pointer(id), entry.pointer)) pointers.set(id, entry.pointer);
    const g = entry.group;
    if (!g || groups.has(g.key) || sameGroup(stored.group(g.key), g.record)) continue;
    groups.set(g.key, g.record);
    if (!stored.hasList(g.list.id)) lists.set(g.list.id, g.list);
  }
  for (const id of removed) if (!desired.has(id) && stored.pointer(id)) pointers.set(id, null);
  // groups that the changed pointers leave (or every group, for a sweep), that nobody joins or stays in
  const joined = new Set<GroupKey>();
  const candidates = new Set<GroupKey>();
  for (const [id, pointer] of pointers) {
    if (pointer?.group) joined.add(pointer.group);
    const old = stored.pointer(id)?.group;
    if (old && old !== pointer?.group) candidates.add(old);
  }
  if (options.sweep) for (const [key] of stored.groups()) candidates.add(key);
  for (const key of candidates) {
    if (groups.has(key) || joined.has(key)) continue;
    let remaining = false;
    for (const id of stored.membersOf(key)) {
      if (!pointers.has(id)) {
        remaining = true;
        break;
      }
    }
    if (!remaining) groups.set(key, null);
  }
  return { pointers, groups, lists: [...lists.values()] };
}

// ------------------------------------------------------------------------------------------ the head

/** Which pointers and groups one run changed (rev: the head's rev after that run). */
export interface HeadLogEntry {
  readonly rev: number;
  readonly workloads: readonly WorkloadId[];
  readonly groups: readonly GroupKey[];
}

/** One per org on each PCE: the org's compute sequence, the version VENs are told, and what changed lately. */
export interface CompiledHead {
  /** completed compute runs of the org on this PCE (docs/adr/0007) */
  readonly seq: number;
  /** the version VENs are told: the newest whose every slice is stored here (null before the first) */
  readonly policyVersion: number | null;
  /** sha256 of that version's document */
  readonly sha256: string | null;
  /** advanced by each run that changed pointers or groups */
  readonly rev: number;
  /** advanced when readers must reload everything (the log cannot tell what changed) */
  readonly epoch: number;
  /** the last runs' changes, oldest first, consecutive revs ending at `rev` (bounded) */
  readonly log: readonly HeadLogEntry[];
  /** when the version or the index last changed */
  readonly computedAt: number | null;
  /**
   * when the run that made `policyVersion` (and `sha256`) the head's committed it: VENs are told of the
   * version from then on (null: before the first version, or a head written before this field existed)
   */
  readonly versionAt?: number | null;
}

export const EMPTY_HEAD: CompiledHead = Object.freeze({ seq: 0, policyVersion: null, sha256: null, rev: 0, epoch: 0, log: Object.freeze([]), computedAt: null, versionAt: null });

/** Ids and keys kept in the head's log (all entries together): the head stays a small item. */
export const HEAD_LOG_LIMIT = 1000;
/** Runs kept in the head's log. */
export const HEAD_LOG_ENTRIES = 16;

/**
 * The head after a run: sequence + 1, the version VENs are told, the run's changes logged (or, when they
 * are too many or `reloadAll`, a new epoch: readers reload everything).
 */
export function nextHead(head: CompiledHead, run: { changes: IndexChanges; policyVersion: number | null; sha256: string | null; reloadAll: boolean; at: number }): CompiledHead {
  const workloads = [...run.changes.pointers.keys()];
  const groups = [...run.changes.groups.keys()];
  const changed = workloads.length + groups.length > 0;
  const rev = changed ? head.rev + 1 : head.rev;
  let epoch = head.epoch;
  let log = head.log;
  if (run.reloadAll || workloads.length + groups.length > HEAD_LOG_LIMIT) {
    epoch++;
    log = [];
  } else if (changed) {
    const entries = [...head.log, { rev, workloads, groups }];
    let size = entries.reduce((n, e) => n + e.workloads.length + e.groups.length, 0);
    while (entries.length > HEAD_LOG_ENTRIES || size > HEAD_LOG_LIMIT) {
      const dropped = entries.shift();
      size -= (dropped?.workloads.length ?? 0) + (dropped?.groups.length ?? 0);
    }
    log = entries;
  }
  const versionChanged = run.policyVersion !== head.policyVersion || run.sha256 !== head.sha256;
  return {
    seq: head.seq + 1,
    policyVersion: run.policyVersion,
    sha256: run.sha256,
    rev,
    epoch,
    log,
    computedAt: changed || versionChanged ? run.at : head.computedAt,
    versionAt: versionChanged ? (run.policyVersion === null ? null : run.at) : (head.versionAt ?? null),
  };
}

/**
 * When the policy a workload should hold became available on this PCE: the later of the head's version
 * (the run that made it current) and the workload's rules (the last writes of its pointer and its group).
 * Null when a piece has no time (a head or item written before these times were kept).
 */
export function policyAvailableAt(head: CompiledHead, pointer: WorkloadPointer | undefined, group: GroupRecord | undefined): number | null {
  const versionAt = head.versionAt ?? null;
  if (versionAt === null || !pointer || pointer.computedAt === undefined) return null;
  if (pointer.group === null) return Math.max(versionAt, pointer.computedAt);
  if (!group || group.computedAt === undefined) return null;
  return Math.max(versionAt, pointer.computedAt, group.computedAt);
}

/** What changed after `rev` (a reader's), from the head's log; null when the log does not go back that far. */
export function changesSince(head: CompiledHead, rev: number): { workloads: Set<WorkloadId>; groups: Set<GroupKey> } | null {
  if (rev > head.rev) return null;
  const entries = head.log.filter((e) => e.rev > rev);
  if (entries.length !== head.rev - rev) return null;
  const workloads = new Set<WorkloadId>();
  const groups = new Set<GroupKey>();
  for (const e of entries) {
    e.workloads.forEach((w) => workloads.add(w));
    e.groups.forEach((g) => groups.add(g));
  }
  return { workloads, groups };
}
