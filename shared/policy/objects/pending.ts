/**
 * Pending changes (draft vs active) and what a provision makes active. Pure functions: the
 * provisioning use case feeds them the stored drafts and the active version.
 *
 * An object is pending when its draft content differs from its active content (who/when aside):
 * `create` = draft only, `update` = both and different, `delete` = active only (the draft was deleted).
 * A rule set's rules are part of its content, so a rule change makes its rule set pending.
 */
import type { ErrorEntry } from '../../api/errors.ts';
import type { LabelId, PolicyLabel } from '../model.ts';
import { labelHref } from '../../labels/label.ts';
import { POLICY_OBJECT_TYPES, policyObjectHref, type PolicyObjectType } from './common.ts';
import { findSubGroupCycle } from './label-group.ts';
import {
  dependenciesOf,
  indexObjects,
  keyOf,
  labelsOf,
  ruleContentEquals,
  sameContent,
  sortedObjects,
  type ObjectKey,
  type PolicyObjectMap,
  type PolicyObjectRecord,
  type PolicyObjects,
} from './objects.ts';
import type { Rule, RuleSet } from './rule-set.ts';

export type UpdateType = 'create' | 'update' | 'delete';

export interface PendingChange {
  readonly type: PolicyObjectType;
  readonly id: number;
  readonly updateType: UpdateType;
  readonly name: string;
  readonly updatedAt: number;
  readonly updatedBy: number;
}

export function pendingChanges(draft: PolicyObjects, active: PolicyObjects): PendingChange[] {
  const changes: PendingChange[] = [];
  for (const type of POLICY_OBJECT_TYPES) {
    const activeById = new Map<number, PolicyObjectRecord>(active[type].map((o) => [o.id, o]));
    const draftIds = new Set<number>();
    for (const object of draft[type]) {
      draftIds.add(object.id);
      const current = activeById.get(object.id);
      if (current && sameContent(type, current, object)) continue;
      changes.push({ type, id: object.id, updateType: current ? 'update' : 'create', name: object.name, updatedAt: object.updatedAt, updatedBy: object.updatedBy });
    }
    for (const object of active[type]) {
      if (!draftIds.has(object.id)) changes.push({ type, id: object.id, updateType: 'delete', name: object.name, updatedAt: object.updatedAt, updatedBy: object.updatedBy });
    }
  }
  return changes.sort((a, b) => POLICY_OBJECT_TYPES.indexOf(a.type) - POLICY_OBJECT_TYPES.indexOf(b.type) || a.id - b.id);
}

/** How the active policy would change if `draft` were provisioned (null = not pending). */
export function updateTypeOf(type: PolicyObjectType, draft: PolicyObjectRecord, active: ReadonlyMap<string, { object: PolicyObjectRecord }>): UpdateType | null {
  const current = active.get(keyOf(type, draft.id));
  if (!current) return 'create';
  return sameContent(type, current.object, draft) ? null : 'update';
}

export function ruleUpdateType(rule: Rule, activeRuleSet: RuleSet | undefined): UpdateType | null {
  const current = activeRuleSet?.rules.find((r) => r.id === rule.id);
  if (!current) return 'create';
  return ruleContentEquals(current, rule) ? null : 'update';
}

export interface ProvisionPlan {
  /** the complete active policy objects after the provision */
  readonly next: PolicyObjects;
  /** the changes it applies */
  readonly changes: readonly PendingChange[];
}

/** Applies the selected pending changes (all of them for 'all') to the active objects. */
export function planProvision(draft: PolicyObjects, active: PolicyObjects, selection: readonly ObjectKey[] | 'all'): ProvisionPlan {
  const pending = pendingChanges(draft, active);
  const wanted = selection === 'all' ? null : new Set(selection.map((k) => keyOf(k.type, k.id)));
  const changes = wanted ? pending.filter((c) => wanted.has(keyOf(c.type, c.id))) : pending;
  const drafts = indexObjects(draft);
  const next = new Map(indexObjects(active));
  for (const change of changes) {
    const key = keyOf(change.type, change.id);
    const fromDraft = drafts.get(key);
    if (change.updateType === 'delete' || !fromDraft) next.delete(key);
    else next.set(key, fromDraft);
  }
  const collected: { -readonly [K in PolicyObjectType]: PolicyObjectMap[K][] } = { label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] };
  for (const { type, object } of next.values()) (collected[type] as PolicyObjectRecord[]).push(object);
  return { next: sortedObjects(collected), changes };
}

/**
 * Why `next` cannot become the active policy: references to objects it does not contain (a draft
 * never provisioned and not selected, or an object whose deletion is selected), or label group cycles.
 */
export function provisionProblems(orgId: number, next: PolicyObjects, draft: PolicyObjects, active: PolicyObjects): ErrorEntry[] {
  const problems: ErrorEntry[] = [];
  const inNext = indexObjects(next);
  const inDraft = indexObjects(draft);
  const inActive = indexObjects(active);
  for (const { type, object } of inNext.values()) {
    for (const dep of dependenciesOf(type, object)) {
      if (inNext.has(keyOf(dep.type, dep.id))) continue;
      const why = inActive.has(keyOf(dep.type, dep.id))
        ? 'its deletion is part of this provision'
        : inDraft.has(keyOf(dep.type, dep.id))
          ? 'it has never been provisioned; add it to change_subset'
          : 'it does not exist';
      problems.push({
        token: 'unprovisioned_dependency',
        message: `${policyObjectHref(orgId, 'draft', type, object.id)} refers to ${policyObjectHref(orgId, 'draft', dep.type, dep.id)}, which would not be active: ${why}`,
      });
    }
  }
  const cycle = findSubGroupCycle(new Map(next.label_groups.map((g) => [g.id, g])));
  if (cycle) problems.push({ token: 'label_group_cycle', message: `the active label groups would contain each other: ${cycle.map((id) => policyObjectHref(orgId, 'draft', 'label_groups', id)).join(' -> ')}` });
  return problems;
}

/** The labels `objects` name, resolved from the current labels first, then from the previous version. */
export function resolveLabels(orgId: number, objects: PolicyObjects, current: readonly PolicyLabel[], previous: readonly PolicyLabel[]): { labels: PolicyLabel[]; problems: ErrorEntry[] } {
  const wanted = new Set<LabelId>();
  for (const type of POLICY_OBJECT_TYPES) for (const o of objects[type]) labelsOf(type, o).forEach((id) => wanted.add(id));
  const known = new Map<LabelId, PolicyLabel>([...previous, ...current].map((l) => [l.id, { id: l.id, key: l.key, value: l.value }]));
  const labels: PolicyLabel[] = [];
  const problems: ErrorEntry[] = [];
  for (const id of [...wanted].sort((a, b) => a - b)) {
    const label = known.get(id);
    if (label) labels.push(label);
    else problems.push({ token: 'label_not_found', message: `label ${labelHref(orgId, id)} is referred to by the policy but does not exist` });
  }
  return { labels, problems };
}
