/** The label-group walks are iterative: they agree with simple recursive walks on small graphs and take chains of any length. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandGroupLabels, findSubGroupCycle, nestingLevels, nestingProblems, reachableGroups, MAX_LABEL_GROUP_DEPTH, MAX_NESTED_LABEL_GROUPS } from '../../../shared/policy/objects/label-group-graph.ts';

interface Node {
  labels: number[];
  subGroups: number[];
}
type Graph = Map<number, Node>;

// ---- the recursive reference walks (what the code did before) ----

function recursiveCycle(groups: Graph): number[] | null {
  const state = new Map<number, 'visiting' | 'done'>();
  const path: number[] = [];
  const visit = (id: number): number[] | null => {
    const s = state.get(id);
    if (s === 'done') return null;
    if (s === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const sub of groups.get(id)?.subGroups ?? []) {
      const cycle = visit(sub);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const id of [...groups.keys()].sort((a, b) => a - b)) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return null;
}

function recursiveLabels(groups: Graph, id: number, seen = new Set<number>()): Set<number> {
  const out = new Set<number>();
  if (seen.has(id)) return out;
  seen.add(id);
  const g = groups.get(id);
  if (!g) return out;
  g.labels.forEach((l) => out.add(l));
  for (const sub of g.subGroups) recursiveLabels(groups, sub, seen).forEach((l) => out.add(l));
  return out;
}

function recursiveReachable(groups: Graph, id: number, seen = new Set<number>()): Set<number> {
  for (const sub of groups.get(id)?.subGroups ?? []) {
    if (seen.has(sub)) continue;
    seen.add(sub);
    recursiveReachable(groups, sub, seen);
  }
  return seen;
}

/** levels on a DAG: 1 + the deepest sub-group (missing groups: 0) */
function recursiveLevels(groups: Graph, id: number): number {
  const g = groups.get(id);
  if (!g) return 0;
  return 1 + Math.max(0, ...g.subGroups.map((s) => recursiveLevels(groups, s)));
}

// ---- arbitraries ----

/** any graph over ids 1..n (cycles, self-loops, missing targets allowed) */
const anyGraph = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc
    .array(fc.record({ labels: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 4 }), subGroups: fc.uniqueArray(fc.integer({ min: 1, max: n + 2 }), { maxLength: 4 }) }), { minLength: n, maxLength: n })
    .map((nodes) => new Map(nodes.map((node, i) => [i + 1, node])) as Graph),
);

/** a DAG: a group only contains groups of higher ids */
const dag = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc
    .array(fc.record({ labels: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 4 }), subs: fc.uniqueArray(fc.nat({ max: 100 }), { maxLength: 4 }) }), { minLength: n, maxLength: n })
    .map((nodes) => new Map(nodes.map((node, i) => [i + 1, { labels: node.labels, subGroups: [...new Set(node.subs.filter(() => i + 1 < n).map((s) => i + 2 + (s % (n - i - 1 || 1))))].filter((s) => s <= n) }])) as Graph),
);

const chain = (n: number): Graph => new Map(Array.from({ length: n }, (_, i) => [i + 1, { labels: [i + 1], subGroups: i + 1 < n ? [i + 2] : [] }]));

describe('label-group walks (iterative)', () => {
  it('find the same cycle as the recursive walk on random graphs', () => {
    fc.assert(fc.property(anyGraph, (g) => {
        expect(findSubGroupCycle(g)).toEqual(recursiveCycle(g));
      }), { numRuns: 500 });
  });

  it('find no cycle in a DAG', () => {
    fc.assert(fc.property(dag, (g) => {
        expect(findSubGroupCycle(g)).toBeNull();
      }), { numRuns: 300 });
  });

  it('expand the same labels and reach the same groups as the recursive walks, cycles included', () => {
    fc.assert(
      fc.property(anyGraph, (g) => {
        for (const id of g.keys()) {
          expect(expandGroupLabels(g, id)).toEqual(recursiveLabels(g, id));
          expect(reachableGroups(g, [id])).toEqual(recursiveReachable(g, id));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('count the same nesting levels as the recursive walk on DAGs', () => {
    fc.assert(
      fc.property(dag, (g) => {
        const levels = nestingLevels(g, g.keys());
        for (const id of g.keys()) expect(levels.get(id)).toBe(recursiveLevels(g, id));
      }),
      { numRuns: 300 },
    );
  });

  it('report a missing group while expanding', () => {
    const g: Graph = new Map([[1, { labels: [7], subGroups: [2, 3] }], [2, { labels: [8], subGroups: [] }]]);
    const missing: number[] = [];
    expect(expandGroupLabels(g, 1, (id) => missing.push(id))).toEqual(new Set([7, 8]));
    expect(missing).toEqual([3]);
  });

  it('walk a 10,000-deep chain (and a 200,000-deep one) without overflowing the stack', () => {
    const deep = chain(10_000);
    expect(() => recursiveCycle(chain(100_000))).toThrow(RangeError); // what the code did before
    expect(findSubGroupCycle(deep)).toBeNull();
    expect(expandGroupLabels(deep, 1).size).toBe(10_000);
    expect(reachableGroups(deep, [1]).size).toBe(9_999);
    expect(nestingLevels(deep, [1]).get(1)).toBe(10_000);
    const closed = chain(200_000);
    (closed.get(200_000) as Node).subGroups = [1];
    expect(findSubGroupCycle(closed)?.length).toBe(200_001);
    expect(expandGroupLabels(closed, 5).size).toBe(200_000);
  });

  it('nestingProblems: the changed group and every group containing it keep the caps', () => {
    expect(nestingProblems(chain(MAX_LABEL_GROUP_DEPTH), 1)).toEqual([]);
    expect(nestingProblems(chain(MAX_LABEL_GROUP_DEPTH + 1), 1)).toEqual([{ group: 1, kind: 'depth', value: MAX_LABEL_GROUP_DEPTH + 1 }]);
    // changing the bottom of a too-deep chain reports the top, which contains it
    expect(nestingProblems(chain(MAX_LABEL_GROUP_DEPTH + 1), MAX_LABEL_GROUP_DEPTH + 1)).toEqual([{ group: 1, kind: 'depth', value: MAX_LABEL_GROUP_DEPTH + 1 }]);
    const wide: Graph = new Map([[0, { labels: [], subGroups: Array.from({ length: MAX_NESTED_LABEL_GROUPS + 1 }, (_, i) => i + 1) }], ...Array.from({ length: MAX_NESTED_LABEL_GROUPS + 1 }, (_, i): [number, Node] => [i + 1, { labels: [], subGroups: [] }])]);
    expect(nestingProblems(wide, 0)).toEqual([{ group: 0, kind: 'size', value: MAX_NESTED_LABEL_GROUPS + 1 }]);
    (wide.get(0) as Node).subGroups.pop();
    expect(nestingProblems(wide, 0)).toEqual([]);
  });
});
