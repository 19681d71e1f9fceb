/**
 * Walks over the label-group graph (a group's sub-groups are its edges), all iterative with an explicit
 * stack or queue and a visited set, so a chain of any length cannot overflow the call stack, and the
 * nesting caps a group must keep (docs/policy-objects-api.md "Label group limits").
 */
import type { LabelId, ObjectId } from '../model.ts';

/** Levels a label group may nest: the group itself, its sub-groups, theirs, ... (a group without sub-groups: 1). */
export const MAX_LABEL_GROUP_DEPTH = 32;
/** Distinct label groups one group may contain, at any level below it. */
export const MAX_NESTED_LABEL_GROUPS = 1_000;

export type SubGroupGraph = ReadonlyMap<ObjectId, { readonly subGroups: readonly ObjectId[] }>;

const subsOf = (graph: SubGroupGraph, id: ObjectId): readonly ObjectId[] => graph.get(id)?.subGroups ?? [];

/**
 * A cycle in the sub-group graph, as a list of ids (first = last), or null. Depth-first from each group
 * in id order, sub-groups in their order: the cycle the recursive walk would find first.
 */
export function findSubGroupCycle(groups: SubGroupGraph): ObjectId[] | null {
  const state = new Map<ObjectId, 'visiting' | 'done'>();
  for (const root of [...groups.keys()].sort((a, b) => a - b)) {
    if (state.has(root)) continue;
    // path[i] is being visited; next[i] is the index of its next sub-group to look at
    const path: ObjectId[] = [root];
    const next: number[] = [0];
    state.set(root, 'visiting');
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top] as ObjectId;
      const subs = subsOf(groups, id);
      const i = next[top] as number;
      if (i >= subs.length) {
        state.set(id, 'done');
        path.pop();
        next.pop();
        continue;
      }
      next[top] = i + 1;
      const sub = subs[i] as ObjectId;
      const s = state.get(sub);
      if (s === 'done') continue;
      if (s === 'visiting') return [...path.slice(path.indexOf(sub)), sub];
      state.set(sub, 'visiting');
      path.push(sub);
      next.push(0);
    }
  }
  return null;
}

/** The groups reachable from `roots` (not counting a root unless reachable from another), breadth-first; stops once more than `limit` are found. */
export function reachableGroups(graph: SubGroupGraph, roots: Iterable<ObjectId>, limit = Number.POSITIVE_INFINITY): Set<ObjectId> {
  const seen = new Set<ObjectId>();
  const queue: ObjectId[] = [];
  for (const r of roots) queue.push(...subsOf(graph, r));
  for (let head = 0; head < queue.length && seen.size <= limit; head++) {
    const id = queue[head] as ObjectId;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...subsOf(graph, id));
  }
  return seen;
}

/** Every label of `root` and of the groups below it; `onMissing` is told of a group the graph lacks (it may throw). */
export function expandGroupLabels(graph: ReadonlyMap<ObjectId, { readonly labels: readonly LabelId[]; readonly subGroups: readonly ObjectId[] }>, root: ObjectId, onMissing: (id: ObjectId) => void = () => undefined): Set<LabelId> {
  const out = new Set<LabelId>();
  const seen = new Set<ObjectId>([root]);
  const stack: ObjectId[] = [root];
  while (stack.length > 0) {
    const id = stack.pop() as ObjectId;
    const g = graph.get(id);
    if (!g) {
      onMissing(id);
      continue;
    }
    for (const l of g.labels) out.add(l);
    for (const sub of g.subGroups) {
      if (seen.has(sub)) continue;
      seen.add(sub);
      stack.push(sub);
    }
  }
  return out;
}

/**
 * Levels of nesting of every group reachable from `roots` (roots included): 1 + the most levels of its
 * sub-groups; a group the graph lacks counts 0, and an edge closing a cycle is not followed.
 */
export function nestingLevels(graph: SubGroupGraph, roots: Iterable<ObjectId>): Map<ObjectId, number> {
  const levels = new Map<ObjectId, number>();
  const onPath = new Set<ObjectId>();
  for (const root of roots) {
    if (levels.has(root)) continue;
    const path: ObjectId[] = [root];
    const next: number[] = [0];
    onPath.add(root);
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top] as ObjectId;
      const subs = subsOf(graph, id);
      const i = next[top] as number;
      if (i < subs.length) {
        next[top] = i + 1;
        const sub = subs[i] as ObjectId;
        if (levels.has(sub) || onPath.has(sub) || !graph.has(sub)) continue;
        onPath.add(sub);
        path.push(sub);
        next.push(0);
        continue;
      }
      let deepest = 0;
      for (const sub of subs) deepest = Math.max(deepest, levels.get(sub) ?? 0);
      levels.set(id, graph.has(id) ? deepest + 1 : 0);
      onPath.delete(id);
      path.pop();
      next.pop();
    }
  }
  return levels;
}

/** The groups that contain `id` at some level (not `id` itself unless it is in a cycle), from the reverse edges. */
export function containingGroups(graph: SubGroupGraph, id: ObjectId): Set<ObjectId> {
  const parents = new Map<ObjectId, ObjectId[]>();
  for (const [gid, g] of graph) {
    for (const sub of g.subGroups) {
      const list = parents.get(sub);
      if (list) list.push(gid);
      else parents.set(sub, [gid]);
    }
  }
  return reachableGroups(new Map([...parents].map(([k, v]) => [k, { subGroups: v }])), [id]);
}

export interface NestingProblem {
  readonly group: ObjectId;
  readonly kind: 'depth' | 'size';
  /** levels (depth) or nested groups (size; when above the cap, counted up to cap + 1) */
  readonly value: number;
}

/**
 * The caps broken by `changed` as it is in `graph`: its own nesting and that of every group containing it,
 * since a changed sub-group list deepens and widens those too. At most one problem of each kind, the
 * changed group's own first.
 */
export function nestingProblems(graph: SubGroupGraph, changed: ObjectId): NestingProblem[] {
  const affected = [changed, ...[...containingGroups(graph, changed)].filter((id) => id !== changed)];
  const levels = nestingLevels(graph, affected);
  const problems: NestingProblem[] = [];
  const deep = affected.find((id) => (levels.get(id) ?? 0) > MAX_LABEL_GROUP_DEPTH);
  if (deep !== undefined) problems.push({ group: deep, kind: 'depth', value: levels.get(deep) ?? 0 });
  for (const id of affected) {
    const size = reachableGroups(graph, [id], MAX_NESTED_LABEL_GROUPS).size;
    if (size > MAX_NESTED_LABEL_GROUPS) {
      problems.push({ group: id, kind: 'size', value: size });
      break;
    }
  }
  return problems;
}
