import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  changesSince,
  CompiledIndex,
  compiledPolicyOf,
  EMPTY_HEAD,
  groupKeyOf,
  HEAD_LOG_ENTRIES,
  HEAD_LOG_LIMIT,
  indexEntryOf,
  nextHead,
  planIndexChanges,
  policyAvailableAt,
  type IndexChanges,
  type IndexEntry,
  type RuleListRecord,
} from '../../../shared/compute/compiled-index.ts';
import { IDLE_RULES_HASH, rulesHashOf, toVenRules } from '../../../shared/policy/compiled.ts';
import { PolicyCompiler } from '../../../shared/policy/compiler/index.ts';
import type { WorkloadFacts, WorkloadId } from '../../../shared/policy/model.ts';
import { factsFor, scenarioArb, snapshotArb, WORKLOAD_IDS } from '../policy/arbitraries.ts';

function entriesOf(compiler: PolicyCompiler, facts: readonly WorkloadFacts[]): Map<WorkloadId, IndexEntry> {
  const named = compiler.namedWorkloads();
  const out = new Map<WorkloadId, IndexEntry>();
  for (const f of facts) {
    const p = compiler.compile(f.id);
    if (p) out.set(f.id, indexEntryOf(p, f.labels, named.has(f.id)));
  }
  return out;
}

/** applies a plan to an index and to a store of rule lists, checking that a written group's list is stored */
function applyChecked(index: CompiledIndex, lists: Map<string, RuleListRecord>, changes: IndexChanges): void {
  for (const l of changes.lists) lists.set(l.id, l);
  for (const g of changes.groups.values()) if (g) expect(lists.has(g.list)).toBe(true);
  index.apply(changes);
}

const contents = (index: CompiledIndex) => ({ pointers: Object.fromEntries([...index.pointers()].sort()), groups: Object.fromEntries([...index.groups()].sort()) });

describe('compiled index layout', () => {
  it('a plan takes any stored index to the compiled one exactly, and then has nothing left to write', () => {
    fc.assert(
      fc.property(scenarioArb, snapshotArb, fc.array(fc.constantFrom(...WORKLOAD_IDS).chain(factsFor), { maxLength: 8 }), ({ snapshot, workloads }, snapshot2, changedFacts) => {
        const lists = new Map<string, RuleListRecord>();
        const a = new PolicyCompiler(snapshot, workloads);
        const stored = new CompiledIndex({ trackMembers: true });
        applyChecked(stored, lists, planIndexChanges(stored, entriesOf(a, workloads)));
        // another version, and facts changed, added and removed
        const facts2 = new Map(workloads.map((w) => [w.id, w]));
        changedFacts.forEach((f, i) => (i % 3 === 2 ? facts2.delete(f.id) : facts2.set(f.id, f)));
        const b = new PolicyCompiler({ ...snapshot2, version: snapshot.version + 1 }, [...facts2.values()]);
        const desired = entriesOf(b, [...facts2.values()]);
        const removed = workloads.map((w) => w.id).filter((id) => !facts2.has(id));
        const plan = planIndexChanges(stored, desired, removed);
        // only what differs: a workload whose labels, mode and named-ness stayed keeps its pointer
        for (const w of workloads) {
          const now = facts2.get(w.id);
          if (now && now.enforcementMode === w.enforcementMode && JSON.stringify([...now.labels].sort()) === JSON.stringify([...w.labels].sort()) && a.namedWorkloads().has(w.id) === b.namedWorkloads().has(w.id)) {
            expect(plan.pointers.has(w.id)).toBe(false);
          }
        }
        applyChecked(stored, lists, plan);
        const fresh = new CompiledIndex({ trackMembers: true });
        applyChecked(fresh, lists, planIndexChanges(fresh, desired));
        expect(contents(stored)).toEqual(contents(fresh));
        const again = planIndexChanges(stored, desired, removed);
        expect([again.pointers.size, again.groups.size, again.lists.length]).toEqual([0, 0, 0]);
        // what the stored items stand for is what the compiler says, rules hash included
        for (const f of facts2.values()) {
          const pointer = stored.pointer(f.id);
          if (!pointer) throw new Error(`no pointer for ${f.id}`);
          const group = pointer.group === null ? undefined : stored.group(pointer.group);
          const policy = compiledPolicyOf(f.id, b.policyVersion, pointer, group, group ? lists.get(group.list) : undefined);
          expect(policy).toEqual(b.compile(f.id));
          expect(stored.rulesHashOf(f.id)).toBe(b.compile(f.id)?.rulesHash);
          if (policy) expect(rulesHashOf(toVenRules(policy))).toBe(policy.rulesHash);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('groups by all of a workload\'s labels (sorted, distinct), a named workload alone, long label lists by hash', () => {
    expect(groupKeyOf('w', [3, 1, 2, 1], false)).toBe('L#1,2,3');
    expect(groupKeyOf('w', [], false)).toBe('L#');
    expect(groupKeyOf('w', [1], true)).toBe('W#w');
    const many = Array.from({ length: 200 }, (_, i) => 100000 + i);
    expect(groupKeyOf('w', many, false)).toMatch(/^H#[0-9a-f]{64}$/);
    expect(groupKeyOf('w', [...many].reverse(), false)).toBe(groupKeyOf('w', many, false));
  });

  it('idle workloads point to no group and have the idle hash', () => {
    const compiler = new PolicyCompiler({ version: 1, labels: [], labelGroups: [], services: [], ipLists: [], ruleSets: [] }, [{ id: 'w', labels: [], ips: [], enforcementMode: 'idle' }]);
    const p = compiler.compile('w');
    if (!p) throw new Error('not compiled');
    expect(indexEntryOf(p, [], false)).toEqual({ pointer: { group: null, mode: 'idle' } });
    expect(p.rulesHash).toBe(IDLE_RULES_HASH);
    expect(IDLE_RULES_HASH).toBe(rulesHashOf({ enforcement_mode: 'idle', inbound: [], outbound: [] }));
  });

  it('deletes a group when its last workload leaves, not while one stays or joins', () => {
    const index = new CompiledIndex({ trackMembers: true });
    const record = { list: 'l', hashes: { visibility_only: 'a', selective: 'b', full: 'c' } };
    index.setGroup('L#1', record);
    index.setPointer('a', { group: 'L#1', mode: 'full' });
    index.setPointer('b', { group: 'L#1', mode: 'full' });
    const entry = (group: string | null, mode: 'full' | 'idle' = 'full'): IndexEntry => ({ pointer: { group, mode }, ...(group ? { group: { key: group, record, list: { id: 'l', inbound: [], outbound: [], ipSetIds: [] } } } : {}) });
    expect(planIndexChanges(index, new Map([['a', entry(null, 'idle')]])).groups.size).toBe(0);
    expect(planIndexChanges(index, new Map([['a', entry(null, 'idle')]]), ['b']).groups.get('L#1')).toBeNull();
    expect(planIndexChanges(index, new Map([['a', entry(null, 'idle')], ['c', entry('L#1')]]), ['b']).groups.has('L#1')).toBe(false);
    // a sweep finds groups nobody points to
    index.setGroup('L#9', record);
    expect(planIndexChanges(index, new Map()).groups.size).toBe(0);
    expect(planIndexChanges(index, new Map(), [], { sweep: true }).groups.get('L#9')).toBeNull();
  });
});

describe('compiled head', () => {
  const changes = (workloads: string[], groups: string[] = []): IndexChanges => ({ pointers: new Map(workloads.map((w) => [w, null])), groups: new Map(groups.map((g) => [g, null])), lists: [] });
  const run = (c: IndexChanges, extra: Partial<Parameters<typeof nextHead>[1]> = {}) => ({ changes: c, policyVersion: 1, sha256: 'x', reloadAll: false, at: 5, ...extra });

  it('keeps when its version became current: moved by a run that changes the version or its document, not by other runs', () => {
    const h1 = nextHead(EMPTY_HEAD, run(changes(['a'])));
    expect(h1.versionAt).toBe(5);
    const h2 = nextHead(h1, run(changes(['b']), { at: 9 }));
    expect(h2).toMatchObject({ computedAt: 9, versionAt: 5 });
    expect(nextHead(h2, run(changes([]), { at: 12, policyVersion: 2 })).versionAt).toBe(12);
    expect(nextHead(h2, run(changes([]), { at: 12, sha256: 'y' })).versionAt).toBe(12);
    // a head written before the field existed stays unknown until its version changes
    const legacy = { seq: 2, policyVersion: 1, sha256: 'x', rev: 2, epoch: 0, log: [], computedAt: 9 };
    expect(nextHead(legacy, run(changes(['c']), { at: 14 })).versionAt).toBeNull();
  });

  it("a workload's policy is available from the later of its head's version and its pointer's and group's writes", () => {
    const head = { ...EMPTY_HEAD, policyVersion: 3, versionAt: 100 };
    const group = { list: 'l', hashes: { visibility_only: 'v', selective: 's', full: 'f' }, computedAt: 150 };
    expect(policyAvailableAt(head, { group: 'L#1', mode: 'full', computedAt: 50 }, group)).toBe(150);
    expect(policyAvailableAt(head, { group: 'L#1', mode: 'full', computedAt: 170 }, group)).toBe(170);
    expect(policyAvailableAt({ ...head, versionAt: 200 }, { group: 'L#1', mode: 'full', computedAt: 50 }, group)).toBe(200);
    expect(policyAvailableAt(head, { group: null, mode: 'idle', computedAt: 50 }, undefined)).toBe(100);
    // unknown: no version time, no pointer, a missing group, items without times
    expect(policyAvailableAt(EMPTY_HEAD, { group: null, mode: 'idle', computedAt: 50 }, undefined)).toBeNull();
    expect(policyAvailableAt(head, undefined, group)).toBeNull();
    expect(policyAvailableAt(head, { group: 'L#1', mode: 'full', computedAt: 50 }, undefined)).toBeNull();
    expect(policyAvailableAt(head, { group: 'L#1', mode: 'full' }, group)).toBeNull();
    expect(policyAvailableAt(head, { group: 'L#1', mode: 'full', computedAt: 50 }, { list: 'l', hashes: group.hashes })).toBeNull();
  });

  it('advances the sequence every run and the rev only when the index changed; logs what changed', () => {
    const h1 = nextHead(EMPTY_HEAD, run(changes(['a'], ['L#1'])));
    expect(h1).toMatchObject({ seq: 1, rev: 1, epoch: 0, policyVersion: 1, sha256: 'x', computedAt: 5, log: [{ rev: 1, workloads: ['a'], groups: ['L#1'] }] });
    const h2 = nextHead(h1, run(changes([]), { at: 9 }));
    expect(h2).toMatchObject({ seq: 2, rev: 1, computedAt: 5 });
    const h3 = nextHead(h2, run(changes(['b'])));
    expect(changesSince(h3, 0)).toEqual({ workloads: new Set(['a', 'b']), groups: new Set(['L#1']) });
    expect(changesSince(h3, 1)).toEqual({ workloads: new Set(['b']), groups: new Set() });
    expect(changesSince(h3, 2)).toEqual({ workloads: new Set(), groups: new Set() });
    expect(changesSince(h3, 3)).toBeNull();
  });

  it('keeps the log bounded, and starts a new epoch when a run changed too much to log or readers must reload', () => {
    let h = EMPTY_HEAD;
    for (let i = 0; i < HEAD_LOG_ENTRIES + 3; i++) h = nextHead(h, run(changes([`w${i}`])));
    expect(h.log).toHaveLength(HEAD_LOG_ENTRIES);
    expect(changesSince(h, h.rev - HEAD_LOG_ENTRIES)).not.toBeNull();
    expect(changesSince(h, h.rev - HEAD_LOG_ENTRIES - 1)).toBeNull();
    const big = nextHead(h, run(changes(Array.from({ length: HEAD_LOG_LIMIT + 1 }, (_, i) => `x${i}`))));
    expect(big).toMatchObject({ epoch: h.epoch + 1, log: [], rev: h.rev + 1 });
    const reload = nextHead(h, run(changes([]), { reloadAll: true }));
    expect(reload).toMatchObject({ epoch: h.epoch + 1, log: [], rev: h.rev });
    const half = Array.from({ length: HEAD_LOG_LIMIT / 2 + 1 }, (_, i) => `y${i}`);
    const two = nextHead(nextHead(h, run(changes(half))), run(changes(half.map((x) => `${x}z`))));
    expect(two.log).toHaveLength(1);
    expect(two.epoch).toBe(h.epoch);
  });
});
