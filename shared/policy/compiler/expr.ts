/**
 * Label expressions: an AND of clauses, each clause "has one of these labels" (labels of one key OR'ed,
 * label groups expanded). An expression with no clause matches every workload (an empty scope); a clause
 * with no label (an empty label group) matches none. The canonical string depends only on the meaning
 * (sorted, de-duplicated clauses of sorted label ids), not on how the policy spelled it.
 */
import type { LabelId } from '../model.ts';

export interface LabelClause {
  readonly labels: ReadonlySet<LabelId>;
  readonly sorted: readonly LabelId[];
  readonly canon: string;
}

export interface LabelExpr {
  readonly clauses: readonly LabelClause[];
  /** '' for the match-all expression */
  readonly canon: string;
}

export const MATCH_ALL: LabelExpr = Object.freeze({ clauses: Object.freeze([]), canon: '' });

/** `byKey`: for each label key, the labels any of which satisfies that key's clause. */
export function makeExpr(byKey: ReadonlyMap<string, ReadonlySet<LabelId>>): LabelExpr {
  const clauses = new Map<string, LabelClause>();
  for (const labels of byKey.values()) {
    const sorted = [...labels].sort((a, b) => a - b);
    const canon = `(${sorted.join(',')})`;
    if (!clauses.has(canon)) clauses.set(canon, { labels: new Set(sorted), sorted, canon });
  }
  const list = [...clauses.values()].sort((a, b) => (a.canon < b.canon ? -1 : a.canon > b.canon ? 1 : 0));
  if (list.length === 0) return MATCH_ALL;
  return { clauses: list, canon: list.map((c) => c.canon).join('&') };
}

/** Whether a workload with these labels satisfies every clause. */
export function matchExpr(expr: LabelExpr, labels: readonly LabelId[]): boolean {
  const clauses = expr.clauses;
  for (let i = 0; i < clauses.length; i++) {
    const set = (clauses[i] as LabelClause).labels;
    let ok = false;
    for (let j = 0; j < labels.length; j++) {
      if (set.has(labels[j] as LabelId)) {
        ok = true;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}
