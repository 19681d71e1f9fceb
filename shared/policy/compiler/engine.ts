/**
 * The policy compiler: PolicySnapshot + workload facts -> CompiledPolicy per workload and CompiledIpSet
 * contents, with incremental updates when a workload's facts change. Design (docs/compiled-policy.md):
 *
 * - Workloads are grouped by their label tuple, projected onto the labels the policy mentions at all;
 *   scopes and actor expressions are evaluated once per tuple, and one frozen rule list is shared by every
 *   workload of the tuple (and by every tuple that happens to compile to identical rules).
 * - Rule sets are indexed by the labels of their scopes, extra-scope rules by their consumers' labels, so a
 *   tuple only looks at the rules that can concern it.
 * - A rule's peers are an IP set whose id is a hash of what selects its members (the actor expression, the
 *   scope restriction, the IP lists), never of the members: identical expressions share one set, and an
 *   IP change changes set contents, not rules.
 * - Every live set keeps its member addresses as a counted sorted multiset and knows the tuples it
 *   contains (each tuple lists its sets), so a workload's IP change touches only its own sets.
 * - A set of a `use_workload_subnets` side keeps its members' interface subnets instead, as a counted
 *   multiset of ranges (WorkloadFacts.subnets); a subnet change is the same incremental update as an
 *   address change, and costs the set's distinct subnets (merged when its contents are read).
 *
 * Semantics: see shared/policy/model.ts. A rule set with several scopes applies within each scope
 * separately (Illumio): a provider in scope S is reached by the consumers in S (or by all consumers of an
 * extra-scope rule); a consumer reaches the providers of the scopes it is in (all scopes for an
 * extra-scope rule). One compiled rule per (rule, direction) carries the union over those scopes.
 * IP-list ranges are part of an actor's set as they are (scopes restrict workloads only).
 */
import { createHash } from 'node:crypto';
import { IDLE_RULES_HASH, ruleListText, rulesHashOfListText, type CompiledIpSet, type CompiledPolicy, type CompiledRule, type IpSetId } from '../compiled.ts';
import { formatIpv4, formatIpv6, parseIp } from '../ip/address.ts';
import { InvalidIpError } from '../ip/errors.ts';
import { IpRangeSet, formatRanges, parseCidr, rangesContain, unionRanges, type Range } from '../ip/ranges.ts';
import { ENFORCEMENT_MODES, type EnforcementMode, type LabelId, type PolicySnapshot, type WorkloadFacts, type WorkloadId } from '../model.ts';
import { PolicyValidationError, UnknownIpSetError } from './errors.ts';
import { matchExpr, type LabelClause, type LabelExpr } from './expr.ts';
import { MemberList } from './members.ts';
import { CountedPoints, CountedRanges, rangeKey } from './points.ts';
import { UNRESTRICTED, preparePolicy, restrictionOf, type ActorSide, type PreparedPolicy, type PreparedRule, type PreparedRuleSet, type Restriction } from './prepare.ts';

export interface WorkloadUpdateResult {
  /** live sets whose members changed (or that were created) by the update, sorted */
  changedIpSets: IpSetId[];
  /** workloads whose rules (rulesHash) changed: at most the updated workload itself, see docs */
  rulesChanged: WorkloadId[];
}

export interface CompilerStats {
  readonly workloads: number;
  /** distinct projected label tuples */
  readonly labelTuples: number;
  /** distinct compiled rule lists (shared between tuples and workloads) */
  readonly ruleLists: number;
  readonly ipSets: number;
  /** sum over live sets of distinct member addresses */
  readonly setAddresses: number;
  readonly rules: number;
  readonly ruleSets: number;
  /** constructor phases, ms */
  readonly timings: { readonly prepareMs: number; readonly groupMs: number; readonly indexMs: number; readonly rulesMs: number; readonly populateMs: number };
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const EMPTY: readonly never[] = Object.freeze([]);
const succ4 = (x: number): number => x + 1;
const pred4 = (x: number): number => x - 1;
const succ6 = (x: bigint): bigint => x + 1n;
const pred6 = (x: bigint): bigint => x - 1n;

class SetState {
  refs = 0;
  dead = false;
  stamp = 0;
  readonly v4 = new CountedPoints<number>();
  readonly v6 = new CountedPoints<bigint>();
  /** the members' subnets, for a set with `subnets` (its v4/v6 stay empty) */
  readonly n4 = new CountedRanges<number>();
  readonly n6 = new CountedRanges<bigint>();
  compiled: CompiledIpSet | null = null;
  /** materialised member ranges and strings, once asked for; patched in place afterwards */
  mat4: MemberList<number> | null = null;
  mat6: MemberList<bigint> | null = null;
  /** the labels the set is indexed under (a tuple must have one to match); null: every tuple */
  indexLabels: readonly LabelId[] | null = null;
  /** compiled rules pointing at this set, by PreparedRule.index */
  readonly rules = new Map<number, CompiledRule>();

  constructor(
    readonly id: IpSetId,
    readonly canon: string,
    readonly ams: boolean,
    readonly expr: LabelExpr | null,
    readonly named: ReadonlySet<WorkloadId>,
    readonly restriction: readonly LabelExpr[] | null,
    readonly staticRanges: IpRangeSet,
    /** whether a whole tuple can match (by labels or ams) */
    readonly byTuple: boolean,
    /** whether members stand for their interfaces' subnets (n4/n6), not their addresses (v4/v6) */
    readonly subnets: boolean,
  ) {}

  inRestriction(labels: readonly LabelId[]): boolean {
    const r = this.restriction;
    if (r === null) return true;
    for (let i = 0; i < r.length; i++) if (matchExpr(r[i] as LabelExpr, labels)) return true;
    return false;
  }

  selectsTuple(labels: readonly LabelId[]): boolean {
    return this.ams || (this.expr !== null && matchExpr(this.expr, labels));
  }

  /** membership of every workload with these labels */
  matchesTuple(labels: readonly LabelId[]): boolean {
    return this.byTuple && this.selectsTuple(labels) && this.inRestriction(labels);
  }

  /** membership of a named workload that its labels alone do not bring in */
  matchesNamed(w: WorkloadState): boolean {
    return this.named.has(w.id) && !this.selectsTuple(w.group.labels) && this.inRestriction(w.group.labels);
  }
}

interface Group {
  readonly key: string;
  readonly labels: readonly LabelId[];
  readonly workloads: Map<WorkloadId, WorkloadState>;
  /** sets every workload of this tuple belongs to */
  memberSets: SetState[];
  /** the rule list of the tuple's workloads that no actor names */
  shared: RuleList | null;
  plain: number;
  stamp: number;
}

/** what a workload (or a change of it) puts into the sets it is in */
interface Members {
  readonly v4: readonly number[];
  readonly v6: readonly bigint[];
  /** interface subnets (an address without a prefix as a one-address range); empty unless the policy uses subnets */
  readonly n4: readonly Range<number>[];
  readonly n6: readonly Range<bigint>[];
}

interface WorkloadState extends Members {
  readonly id: WorkloadId;
  facts: WorkloadFacts;
  readonly group: Group;
  v4: number[];
  v6: bigint[];
  n4: Range<number>[];
  n6: Range<bigint>[];
  readonly named: boolean;
  /** own rule list of a workload named by some actor */
  own: RuleList | null;
  /** sets this workload is in by name only */
  namedSets: SetState[];
}

interface ParsedFacts {
  readonly facts: WorkloadFacts;
  readonly labels: readonly LabelId[];
  readonly key: string;
  readonly v4: number[];
  readonly v6: bigint[];
  readonly n4: Range<number>[];
  readonly n6: Range<bigint>[];
}

interface RuleList {
  readonly canon: string;
  readonly inbound: readonly CompiledRule[];
  readonly outbound: readonly CompiledRule[];
  readonly ipSetIds: readonly IpSetId[];
  readonly sets: readonly SetState[];
  holders: number;
  /** ruleListText of the list, made when a hash is first asked for */
  text: string | null;
  readonly hashes: Map<EnforcementMode, string>;
}

interface Op {
  /** per set: net presence change per address not covered by the set's IP-list ranges */
  readonly toggles: Map<SetState, Map<number | bigint, number>>;
  readonly created: Set<SetState>;
  readonly released: Set<SetState>;
  /** subnet sets whose distinct subnets changed, with their member text before the first change */
  readonly rangesBefore: Map<SetState, string>;
}

/** what a compiled rule is made from: a rule, or an enforcement boundary (deny) */
type RuleSource = Pick<PreparedRule, 'index' | 'ruleId' | 'services' | 'servicesCanon'> & { readonly deny?: true };

interface Entry {
  readonly rule: RuleSource;
  readonly compiled: CompiledRule;
}

class LabelIndex<T> {
  readonly byLabel = new Map<LabelId, T[]>();
  readonly universal: T[] = [];
  add(item: T, labels: readonly LabelId[] | null): void {
    if (labels === null) {
      this.universal.push(item);
      return;
    }
    for (const l of labels) {
      const list = this.byLabel.get(l);
      if (list) list.push(item);
      else this.byLabel.set(l, [item]);
    }
  }
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpEntry(a: Entry, b: Entry): number {
  return a.compiled.ruleId - b.compiled.ruleId || Number(a.rule.deny === true) - Number(b.rule.deny === true) || cmpStr(a.compiled.peers, b.compiled.peers) || cmpStr(a.rule.servicesCanon, b.rule.servicesCanon);
}

function sideSelects(side: ActorSide, labels: readonly LabelId[], id: WorkloadId | null): boolean {
  return side.ams || (side.expr !== null && matchExpr(side.expr, labels)) || (id !== null && side.named.has(id));
}

/** drops dead sets from a membership list in place */
function live(sets: SetState[]): SetState[] {
  let j = 0;
  for (let i = 0; i < sets.length; i++) {
    const s = sets[i] as SetState;
    if (!s.dead) sets[j++] = s;
  }
  sets.length = j;
  return sets;
}

/** a - b as multisets (elements compared by `key`) */
function multisetMinus<T>(a: readonly T[], b: readonly T[], key: (x: T) => unknown = (x) => x): T[] {
  const rest = b.map(key);
  const out: T[] = [];
  for (const x of a) {
    const i = rest.indexOf(key(x));
    if (i >= 0) rest.splice(i, 1);
    else out.push(x);
  }
  return out;
}

export class PolicyCompiler {
  readonly policyVersion: number;
  private readonly policy: PreparedPolicy;
  private readonly workloads = new Map<WorkloadId, WorkloadState>();
  private readonly groups = new Map<string, Group>();
  private readonly groupsByLabel = new Map<LabelId, Set<Group>>();
  private readonly ruleSetIndex = new LabelIndex<PreparedRuleSet>();
  private readonly extraScopeIndex = new LabelIndex<PreparedRule>();
  private readonly extraScopeByName = new Map<WorkloadId, PreparedRule[]>();
  private readonly sets = new Map<IpSetId, SetState>();
  private readonly setsByCanon = new Map<string, SetState>();
  private readonly setIndex = new LabelIndex<SetState>();
  private readonly setsByName = new Map<WorkloadId, SetState[]>();
  private readonly ruleLists = new Map<string, RuleList>();
  private readonly ruleSetStamp: Uint32Array;
  private readonly ruleStamp: Uint32Array;
  private stampCounter = 0;
  private populateMs = 0;
  private readonly timings: CompilerStats['timings'];

  constructor(snapshot: PolicySnapshot, workloads: readonly WorkloadFacts[]) {
    const t0 = performance.now();
    this.policy = preparePolicy(snapshot);
    this.policyVersion = this.policy.version;
    this.ruleSetStamp = new Uint32Array(this.policy.ruleSets.length);
    this.ruleStamp = new Uint32Array(this.policy.rules.length);
    const t1 = performance.now();

    const parsed = workloads.map((f) => this.parseFacts(f));
    const seen = new Set<WorkloadId>();
    for (const p of parsed) {
      if (seen.has(p.facts.id)) throw new PolicyValidationError(`duplicate workload id ${p.facts.id}`);
      seen.add(p.facts.id);
      const g = this.groups.get(p.key) ?? this.createGroup(p.labels, p.key, false);
      this.addToGroup(p, g);
    }
    const t2 = performance.now();

    this.buildRuleIndexes();
    const t3 = performance.now();

    for (const g of this.groups.values()) {
      if (g.plain > 0) g.shared = this.acquire(g.labels, null, null);
      for (const w of g.workloads.values()) if (w.named) w.own = this.acquire(g.labels, w.id, null);
    }
    const t4 = performance.now();
    this.timings = { prepareMs: t1 - t0, groupMs: t2 - t1, indexMs: t3 - t2, rulesMs: t4 - t3 - this.populateMs, populateMs: this.populateMs };
  }

  // ---------------------------------------------------------------- public API

  /** The compiled policy of one workload; null when the workload is unknown. */
  compile(workloadId: WorkloadId): CompiledPolicy | null {
    const w = this.workloads.get(workloadId);
    return w ? this.policyOf(w) : null;
  }

  /** Compiled policies of these workloads (unknown ids skipped), or of every workload. */
  compileAll(ids?: Iterable<WorkloadId>): Map<WorkloadId, CompiledPolicy> {
    const out = new Map<WorkloadId, CompiledPolicy>();
    if (ids === undefined) {
      for (const w of this.workloads.values()) out.set(w.id, this.policyOf(w));
    } else {
      for (const id of ids) {
        const w = this.workloads.get(id);
        if (w) out.set(id, this.policyOf(w));
      }
    }
    return out;
  }

  /** The contents of a set some compiled rule refers to. Throws UnknownIpSetError for other ids. */
  ipSet(id: IpSetId): CompiledIpSet {
    const s = this.sets.get(id);
    if (!s) throw new UnknownIpSetError(id);
    if (!s.compiled) s.compiled = this.materialise(s);
    return s.compiled;
  }

  /** Ids of every live set (referred to by at least one compiled rule list), sorted. */
  ipSetIds(): IpSetId[] {
    return [...this.sets.keys()].sort();
  }

  workloadIds(): WorkloadId[] {
    return [...this.workloads.keys()];
  }

  /** The workloads some actor of the policy names by id: each has a rule list of its own (the others share their label tuple's). */
  namedWorkloads(): ReadonlySet<WorkloadId> {
    return this.policy.namedWorkloads;
  }

  /**
   * Adds or replaces a workload's facts. An IP-only (or subnet-only) change updates the contents of the
   * sets the workload is in and no rules; a label or mode change recompiles the workload's own rules (other workloads' rules
   * never depend on it: they refer to sets by expression).
   */
  updateWorkload(facts: WorkloadFacts): WorkloadUpdateResult {
    const p = this.parseFacts(facts); // validates before anything changes
    const old = this.workloads.get(facts.id);
    const before = old ? this.rulesHashOf(old) : null;
    const op = this.beginOp();
    let now: WorkloadState;
    if (old && old.group.key === p.key) {
      const added: Members = { v4: multisetMinus(p.v4, old.v4), v6: multisetMinus(p.v6, old.v6), n4: multisetMinus(p.n4, old.n4, rangeKey), n6: multisetMinus(p.n6, old.n6, rangeKey) };
      const removed: Members = { v4: multisetMinus(old.v4, p.v4), v6: multisetMinus(old.v6, p.v6), n4: multisetMinus(old.n4, p.n4, rangeKey), n6: multisetMinus(old.n6, p.n6, rangeKey) };
      const size = (m: Members): number => m.v4.length + m.v6.length + m.n4.length + m.n6.length;
      if (size(added) + size(removed) > 0) {
        for (const s of [...live(old.group.memberSets), ...live(old.namedSets)]) {
          this.addMembers(s, added, op);
          this.removeMembers(s, removed, op);
        }
      }
      old.facts = facts;
      old.v4 = p.v4;
      old.v6 = p.v6;
      old.n4 = p.n4;
      old.n6 = p.n6;
      now = old;
    } else {
      if (old) this.detach(old, op);
      now = this.attach(p, op);
    }
    const changedIpSets = this.endOp(op);
    return { changedIpSets, rulesChanged: before === this.rulesHashOf(now) ? [] : [facts.id] };
  }

  /** Removes a workload (unknown ids: no change). */
  removeWorkload(id: WorkloadId): WorkloadUpdateResult {
    const old = this.workloads.get(id);
    if (!old) return { changedIpSets: [], rulesChanged: [] };
    const op = this.beginOp();
    this.detach(old, op);
    return { changedIpSets: this.endOp(op), rulesChanged: [id] };
  }

  stats(): CompilerStats {
    let setAddresses = 0;
    for (const s of this.sets.values()) setAddresses += s.v4.distinct + s.v6.distinct + s.n4.distinct + s.n6.distinct;
    return {
      workloads: this.workloads.size,
      labelTuples: this.groups.size,
      ruleLists: this.ruleLists.size,
      ipSets: this.sets.size,
      setAddresses,
      rules: this.policy.rules.length,
      ruleSets: this.policy.ruleSets.length,
      timings: this.timings,
    };
  }

  // ---------------------------------------------------------------- workloads and tuples

  private parseFacts(facts: WorkloadFacts): ParsedFacts {
    if (typeof facts.id !== 'string' || facts.id === '') throw new PolicyValidationError('workload id must be a non-empty string');
    if (!(ENFORCEMENT_MODES as readonly string[]).includes(facts.enforcementMode)) throw new PolicyValidationError(`workload ${facts.id}: unknown enforcement mode ${String(facts.enforcementMode)}`);
    if (!Array.isArray(facts.labels) || !facts.labels.every((l) => Number.isInteger(l))) throw new PolicyValidationError(`workload ${facts.id}: labels must be label ids`);
    if (!Array.isArray(facts.ips)) throw new PolicyValidationError(`workload ${facts.id}: ips must be a list`);
    const ref = this.policy.referencedLabels;
    const labels: LabelId[] = [];
    for (const l of facts.labels) if (ref.has(l) && !labels.includes(l)) labels.push(l);
    labels.sort((a, b) => a - b);
    const v4: number[] = [];
    const v6: bigint[] = [];
    const n4: Range<number>[] = [];
    const n6: Range<bigint>[] = [];
    try {
      for (const s of facts.ips) {
        const ip = parseIp(s);
        if (ip.family === 4) v4.push(ip.value);
        else v6.push(ip.value);
      }
      // subnets matter only to the sets of use_workload_subnets sides: read when the policy has one
      if (this.policy.usesSubnets && facts.subnets === undefined) {
        for (const x of v4) n4.push([x, x]);
        for (const x of v6) n6.push([x, x]);
      } else if (this.policy.usesSubnets) {
        if (!Array.isArray(facts.subnets)) throw new PolicyValidationError(`workload ${facts.id}: subnets must be a list`);
        for (const s of facts.subnets) {
          const r = typeof s === 'string' && s.includes('/') ? parseCidr(s) : parseIp(s);
          if ('start' in r) {
            if (r.family === 4) n4.push([r.start, r.end]);
            else n6.push([r.start, r.end]);
          } else if (r.family === 4) n4.push([r.value, r.value]);
          else n6.push([r.value, r.value]);
        }
      }
    } catch (err) {
      if (err instanceof InvalidIpError) throw new InvalidIpError(err.input, `workload ${facts.id}: ${err.reason}`);
      throw err;
    }
    return { facts, labels, key: labels.join(','), v4, v6, n4, n6 };
  }

  private createGroup(labels: readonly LabelId[], key: string, findSets: boolean): Group {
    const g: Group = { key, labels, workloads: new Map(), memberSets: [], shared: null, plain: 0, stamp: 0 };
    this.groups.set(key, g);
    for (const l of labels) {
      const set = this.groupsByLabel.get(l);
      if (set) set.add(g);
      else this.groupsByLabel.set(l, new Set([g]));
    }
    if (findSets) {
      const stamp = ++this.stampCounter;
      const visit = (s: SetState): void => {
        if (s.dead || s.stamp === stamp) return;
        s.stamp = stamp;
        if (s.matchesTuple(labels)) g.memberSets.push(s);
      };
      this.setIndex.universal.forEach(visit);
      for (const l of labels) this.setIndex.byLabel.get(l)?.forEach(visit);
      this.compactSetIndex();
    }
    return g;
  }

  private removeGroup(g: Group): void {
    this.groups.delete(g.key);
    for (const l of g.labels) this.groupsByLabel.get(l)?.delete(g);
  }

  private addToGroup(p: ParsedFacts, g: Group): WorkloadState {
    const w: WorkloadState = { id: p.facts.id, facts: p.facts, group: g, v4: p.v4, v6: p.v6, n4: p.n4, n6: p.n6, named: this.policy.namedWorkloads.has(p.facts.id), own: null, namedSets: [] };
    this.workloads.set(w.id, w);
    g.workloads.set(w.id, w);
    if (!w.named) g.plain++;
    return w;
  }

  private attach(p: ParsedFacts, op: Op): WorkloadState {
    const g = this.groups.get(p.key) ?? this.createGroup(p.labels, p.key, true);
    const w = this.addToGroup(p, g);
    if (w.named) {
      for (const s of this.setsByName.get(w.id) ?? EMPTY) if (!s.dead && s.matchesNamed(w)) w.namedSets.push(s);
    }
    for (const s of live(g.memberSets)) this.addMembers(s, w, op);
    for (const s of w.namedSets) this.addMembers(s, w, op);
    // sets created from here on are populated from the current state, which includes w
    if (w.named) w.own = this.acquire(g.labels, w.id, op);
    else if (!g.shared) g.shared = this.acquire(g.labels, null, op);
    return w;
  }

  private detach(w: WorkloadState, op: Op): void {
    const g = w.group;
    for (const s of live(g.memberSets)) this.removeMembers(s, w, op);
    for (const s of live(w.namedSets)) this.removeMembers(s, w, op);
    w.namedSets = [];
    g.workloads.delete(w.id);
    this.workloads.delete(w.id);
    if (w.named) {
      if (w.own) this.release(w.own, op);
      w.own = null;
    } else {
      g.plain--;
      if (g.plain === 0 && g.shared) {
        this.release(g.shared, op);
        g.shared = null;
      }
    }
    if (g.workloads.size === 0) this.removeGroup(g);
  }

  // ---------------------------------------------------------------- rules

  private clauseCost(c: LabelClause): number {
    let n = 0;
    for (const l of c.sorted) n += (this.groupsByLabel.get(l)?.size ?? 0) + 1;
    return n;
  }

  /** the cheapest clause of an expression (a necessary condition), or null for match-all */
  private bestClause(e: LabelExpr): { labels: readonly LabelId[]; cost: number } | null {
    let best: { labels: readonly LabelId[]; cost: number } | null = null;
    for (const c of e.clauses) {
      const cost = this.clauseCost(c);
      if (!best || cost < best.cost) best = { labels: c.sorted, cost };
    }
    return best;
  }

  /** labels one of which any workload in one of the scopes has, or null when a scope matches everything */
  private scopesKey(scopes: readonly LabelExpr[]): { labels: readonly LabelId[]; cost: number } | null {
    const labels = new Set<LabelId>();
    let cost = 0;
    for (const s of scopes) {
      const b = this.bestClause(s);
      if (!b) return null;
      b.labels.forEach((l) => labels.add(l));
      cost += b.cost;
    }
    return { labels: [...labels], cost };
  }

  private buildRuleIndexes(): void {
    for (const rs of this.policy.ruleSets) this.ruleSetIndex.add(rs, this.scopesKey(rs.scopes)?.labels ?? null);
    for (const r of this.policy.rules) {
      if (!r.unscopedConsumers) continue;
      const c = r.consumers;
      if (c.ams) this.extraScopeIndex.add(r, null);
      else if (c.expr) this.extraScopeIndex.add(r, this.bestClause(c.expr)?.labels ?? null);
      for (const id of c.named) {
        const list = this.extraScopeByName.get(id);
        if (list) list.push(r);
        else this.extraScopeByName.set(id, [r]);
      }
    }
  }

  private restrictionFor(rs: PreparedRuleSet, key: string, matched: readonly LabelExpr[]): Restriction {
    let r = rs.restrictionCache.get(key);
    if (!r) {
      r = restrictionOf(matched);
      rs.restrictionCache.set(key, r);
    }
    return r;
  }

  /** The compiled rules of a workload with these (projected) labels; `id` only for named workloads. */
  private computeRules(labels: readonly LabelId[], id: WorkloadId | null, op: Op | null): { inbound: Entry[]; outbound: Entry[] } {
    const stamp = ++this.stampCounter;
    const inbound: Entry[] = [];
    const outbound: Entry[] = [];
    const visitRuleSet = (rs: PreparedRuleSet): void => {
      if (this.ruleSetStamp[rs.index] === stamp) return;
      this.ruleSetStamp[rs.index] = stamp;
      let key = '';
      const matched: LabelExpr[] = [];
      rs.scopes.forEach((s, i) => {
        if (matchExpr(s, labels)) {
          matched.push(s);
          key += `${i},`;
        }
      });
      if (matched.length === 0) return;
      const restr = this.restrictionFor(rs, key, matched);
      for (const rule of rs.rules) {
        if (sideSelects(rule.providers, labels, id)) inbound.push(this.entry(rule, rule.consumers, rule.unscopedConsumers ? UNRESTRICTED : restr, op));
        if (!rule.unscopedConsumers && sideSelects(rule.consumers, labels, id)) outbound.push(this.entry(rule, rule.providers, restr, op));
      }
    };
    this.ruleSetIndex.universal.forEach(visitRuleSet);
    for (const l of labels) this.ruleSetIndex.byLabel.get(l)?.forEach(visitRuleSet);

    const visitExtra = (rule: PreparedRule): void => {
      if (this.ruleStamp[rule.index] === stamp) return;
      this.ruleStamp[rule.index] = stamp;
      if (sideSelects(rule.consumers, labels, id)) outbound.push(this.entry(rule, rule.providers, rule.ruleSet.allScopes, op));
    };
    this.extraScopeIndex.universal.forEach(visitExtra);
    for (const l of labels) this.extraScopeIndex.byLabel.get(l)?.forEach(visitExtra);
    if (id !== null) this.extraScopeByName.get(id)?.forEach(visitExtra);

    // enforcement boundaries: org-wide denies (few; every tuple looks at each)
    for (const b of this.policy.boundaries) {
      if (sideSelects(b.providers, labels, id)) inbound.push(this.entry(b, b.consumers, UNRESTRICTED, op));
      if (sideSelects(b.consumers, labels, id)) outbound.push(this.entry(b, b.providers, UNRESTRICTED, op));
    }
    return { inbound, outbound };
  }

  private entry(rule: RuleSource, peers: ActorSide, restriction: Restriction, op: Op | null): Entry {
    const set = this.setFor(peers, restriction, op);
    let compiled = set.rules.get(rule.index);
    if (!compiled) {
      compiled = Object.freeze(rule.deny ? { ruleId: rule.ruleId, peers: set.id, services: rule.services, action: 'deny' as const } : { ruleId: rule.ruleId, peers: set.id, services: rule.services });
      set.rules.set(rule.index, compiled);
    }
    return { rule, compiled };
  }

  private acquire(labels: readonly LabelId[], id: WorkloadId | null, op: Op | null): RuleList {
    const { inbound, outbound } = this.computeRules(labels, id, op);
    inbound.sort(cmpEntry);
    outbound.sort(cmpEntry);
    let canon = '';
    for (const e of inbound) canon += `${e.rule.deny ? 'DI' : 'I'} ${e.compiled.ruleId} ${e.compiled.peers} ${e.rule.servicesCanon}\n`;
    for (const e of outbound) canon += `${e.rule.deny ? 'DO' : 'O'} ${e.compiled.ruleId} ${e.compiled.peers} ${e.rule.servicesCanon}\n`;
    const existing = this.ruleLists.get(canon);
    if (existing) {
      existing.holders++;
      return existing;
    }
    const sets = new Map<IpSetId, SetState>();
    for (const e of inbound) sets.set(e.compiled.peers, this.sets.get(e.compiled.peers) as SetState);
    for (const e of outbound) sets.set(e.compiled.peers, this.sets.get(e.compiled.peers) as SetState);
    const list: RuleList = {
      canon,
      inbound: Object.freeze(inbound.map((e) => e.compiled)),
      outbound: Object.freeze(outbound.map((e) => e.compiled)),
      ipSetIds: Object.freeze([...sets.keys()].sort()),
      sets: [...sets.values()],
      holders: 1,
      text: null,
      hashes: new Map(),
    };
    for (const s of list.sets) s.refs++;
    this.ruleLists.set(canon, list);
    return list;
  }

  private release(list: RuleList, op: Op): void {
    list.holders--;
    if (list.holders > 0) return;
    this.ruleLists.delete(list.canon);
    for (const s of list.sets) {
      s.refs--;
      if (s.refs === 0) op.released.add(s);
    }
  }

  private rulesHashOf(w: WorkloadState): string {
    const mode = w.facts.enforcementMode;
    if (mode === 'idle') return IDLE_RULES_HASH;
    const list = (w.named ? w.own : w.group.shared) as RuleList;
    let h = list.hashes.get(mode);
    if (h === undefined) {
      // = rulesHashOf(toVenRules(policy)), from one stringify of the list shared by every mode
      list.text ??= ruleListText(list.inbound, list.outbound);
      h = rulesHashOfListText(mode, list.text);
      list.hashes.set(mode, h);
    }
    return h;
  }

  private policyOf(w: WorkloadState): CompiledPolicy {
    const mode = w.facts.enforcementMode;
    const idle = mode === 'idle';
    const list = (w.named ? w.own : w.group.shared) as RuleList;
    return Object.freeze({
      workloadId: w.id,
      policyVersion: this.policyVersion,
      enforcementMode: mode,
      enforced: mode === 'selective' || mode === 'full',
      defaultDeny: mode === 'full',
      inbound: idle ? EMPTY : list.inbound,
      outbound: idle ? EMPTY : list.outbound,
      ipSetIds: idle ? EMPTY : list.ipSetIds,
      rulesHash: this.rulesHashOf(w),
    });
  }

  // ---------------------------------------------------------------- sets

  private setFor(side: ActorSide, restriction: Restriction, op: Op | null): SetState {
    const r = side.hasWorkloadPart ? restriction : UNRESTRICTED;
    const canon = `${side.workloadCanon}#${r.canon}#${side.ipListCanon}`;
    const existing = this.setsByCanon.get(canon);
    if (existing) return existing;
    const s = new SetState(`ls:${sha256(canon).slice(0, 32)}`, canon, side.ams, side.expr, side.named, r.scopes, side.ipRanges, side.ams || side.expr !== null, side.subnets);
    this.sets.set(s.id, s);
    this.setsByCanon.set(canon, s);
    if (s.byTuple) {
      const options: { labels: readonly LabelId[]; cost: number }[] = [];
      if (s.expr) {
        const b = this.bestClause(s.expr);
        if (b) options.push(b);
      }
      if (s.restriction) {
        const k = this.scopesKey(s.restriction);
        if (k) options.push(k);
      }
      options.sort((a, b) => a.cost - b.cost);
      s.indexLabels = options[0]?.labels ?? null;
      this.setIndex.add(s, s.indexLabels);
    }
    for (const id of s.named) {
      const list = this.setsByName.get(id);
      if (list) list.push(s);
      else this.setsByName.set(id, [s]);
    }
    this.populate(s);
    op?.created.add(s);
    return s;
  }

  /** Fills a new set from the current workloads and records it in its tuples' / named workloads' lists. */
  private populate(s: SetState): void {
    const t0 = performance.now();
    const v4: number[] = [];
    const v6: bigint[] = [];
    const n4: Range<number>[] = [];
    const n6: Range<bigint>[] = [];
    const take = s.subnets
      ? (w: WorkloadState): void => {
          for (const r of w.n4) n4.push(r);
          for (const r of w.n6) n6.push(r);
        }
      : (w: WorkloadState): void => {
          for (const x of w.v4) v4.push(x);
          for (const x of w.v6) v6.push(x);
        };
    if (s.byTuple) {
      const stamp = ++this.stampCounter;
      const visit = (g: Group): void => {
        if (g.stamp === stamp) return;
        g.stamp = stamp;
        if (!s.matchesTuple(g.labels)) return;
        g.memberSets.push(s);
        for (const w of g.workloads.values()) take(w);
      };
      const keys = s.indexLabels;
      if (keys === null) this.groups.forEach(visit);
      else for (const l of keys) this.groupsByLabel.get(l)?.forEach(visit);
    }
    for (const id of s.named) {
      const w = this.workloads.get(id);
      if (w && s.matchesNamed(w)) {
        w.namedSets.push(s);
        take(w);
      }
    }
    s.v4.load(v4);
    s.v6.load(v6);
    s.n4.load(n4);
    s.n6.load(n6);
    this.populateMs += performance.now() - t0;
  }

  private compactSetIndex(): void {
    if (this.deadSets < 1024) return;
    this.deadSets = 0;
    const keep = (list: SetState[]): void => void live(list);
    keep(this.setIndex.universal);
    this.setIndex.byLabel.forEach(keep);
    this.setsByName.forEach(keep);
  }
  private deadSets = 0;

  private kill(s: SetState): void {
    s.dead = true;
    this.deadSets++;
    this.sets.delete(s.id);
    this.setsByCanon.delete(s.canon);
    s.v4.clear();
    s.v6.clear();
    s.n4.clear();
    s.n6.clear();
    s.rules.clear();
    s.compiled = null;
    s.mat4 = null;
    s.mat6 = null;
  }

  private materialise(s: SetState): CompiledIpSet {
    if (!s.mat4) s.mat4 = new MemberList(unionRanges(s.subnets ? s.n4.toRanges() : s.v4.toRanges(), s.staticRanges.v4), formatIpv4, succ4, pred4);
    if (!s.mat6) s.mat6 = new MemberList(unionRanges(s.subnets ? s.n6.toRanges() : s.v6.toRanges(), s.staticRanges.v6), formatIpv6, succ6, pred6);
    const members = s.mat6.strings.length === 0 ? [...s.mat4.strings] : s.mat4.strings.concat(s.mat6.strings);
    return Object.freeze({ id: s.id, members: Object.freeze(members), hash: sha256(members.join('\n')) });
  }

  private toggle(op: Op, s: SetState, x: number | bigint, delta: number): void {
    if (typeof x === 'number' ? rangesContain(s.staticRanges.v4, x) : rangesContain(s.staticRanges.v6, x)) return;
    let m = op.toggles.get(s);
    if (!m) op.toggles.set(s, (m = new Map()));
    m.set(x, (m.get(x) ?? 0) + delta);
  }

  /** The members text of a subnet set (its subnets merged, with its IP-list ranges) as it is now. */
  private subnetMembersText(s: SetState): string {
    if (s.compiled) return s.compiled.members.join('\n');
    const v4 = unionRanges(s.n4.toRanges(), s.staticRanges.v4);
    const v6 = unionRanges(s.n6.toRanges(), s.staticRanges.v6);
    return formatRanges(v6, formatIpv6, formatRanges(v4, formatIpv4)).join('\n');
  }

  /** records a subnet set's contents before its first change in the op */
  private beforeRangeChange(s: SetState, op: Op): void {
    if (!op.rangesBefore.has(s)) op.rangesBefore.set(s, this.subnetMembersText(s));
  }

  /** one occurrence of each range joins (or leaves) a subnet set, its contents recorded before the first distinct change */
  private moveRanges<T extends number | bigint>(s: SetState, counted: CountedRanges<T>, ranges: readonly Range<T>[], join: boolean, op: Op): void {
    for (const r of ranges) {
      if (counted.count(r) === (join ? 0 : 1)) this.beforeRangeChange(s, op);
      if (join) counted.add(r);
      else counted.remove(r);
    }
  }

  private addMembers(s: SetState, m: Members, op: Op): void {
    if (s.subnets) {
      this.moveRanges(s, s.n4, m.n4, true, op);
      this.moveRanges(s, s.n6, m.n6, true, op);
      return;
    }
    for (const x of m.v4) if (s.v4.add(x)) this.toggle(op, s, x, 1);
    for (const x of m.v6) if (s.v6.add(x)) this.toggle(op, s, x, 1);
  }

  private removeMembers(s: SetState, m: Members, op: Op): void {
    if (s.subnets) {
      this.moveRanges(s, s.n4, m.n4, false, op);
      this.moveRanges(s, s.n6, m.n6, false, op);
      return;
    }
    for (const x of m.v4) if (s.v4.remove(x)) this.toggle(op, s, x, -1);
    for (const x of m.v6) if (s.v6.remove(x)) this.toggle(op, s, x, -1);
  }

  private beginOp(): Op {
    return { toggles: new Map(), created: new Set(), released: new Set(), rangesBefore: new Map() };
  }

  private endOp(op: Op): IpSetId[] {
    for (const s of op.released) if (s.refs === 0 && !s.dead) this.kill(s);
    this.compactSetIndex();
    const changed = new Set<IpSetId>();
    for (const s of op.created) if (!s.dead) changed.add(s.id);
    // a subnet set is re-read when its distinct subnets change (subnets nest: a new one may add nothing)
    for (const [s, before] of op.rangesBefore) {
      if (s.dead) continue;
      s.compiled = null;
      s.mat4 = null;
      s.mat6 = null;
      if (this.subnetMembersText(s) !== before) changed.add(s.id);
    }
    for (const [s, m] of op.toggles) {
      if (s.dead) continue;
      for (const [x, d] of m) {
        if (d === 0) continue; // left and came back
        s.compiled = null;
        changed.add(s.id);
        // d is +1 (the address joined the set's contents) or -1 (it left); patch the materialised members
        if (typeof x === 'number') {
          if (s.mat4 && d > 0) s.mat4.add(x);
          else if (s.mat4) s.mat4.remove(x);
        } else if (s.mat6 && d > 0) s.mat6.add(x);
        else if (s.mat6) s.mat6.remove(x);
      }
    }
    return [...changed].sort();
  }
}
