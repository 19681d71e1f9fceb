/**
 * Reference checks: every label, label group, IP list and service an object names must exist
 * (drafts refer to drafts), label groups hold labels and groups of their own key, sub-groups form
 * no cycle, and a rule set scope names each label key at most once. Workload actors are checked
 * for their href shape only (workloads belong to another module).
 */
import { labelHref } from '../../labels/label.ts';
import type { LabelId, ObjectId, PolicyLabel } from '../model.ts';
import { OBJECT_NOUNS, policyObjectHref, type Issues, type PolicyObjectType, type PolicyState } from './common.ts';
import type { LabelGroup } from './label-group.ts';
import { MAX_LABEL_GROUP_DEPTH, MAX_NESTED_LABEL_GROUPS, findSubGroupCycle, nestingProblems } from './label-group-graph.ts';
import type { PolicyObjectRecord, PolicyObjects } from './objects.ts';
import type { EnforcementBoundary } from './enforcement-boundary.ts';
import type { Rule, RuleSet } from './rule-set.ts';
import type { VirtualService } from './virtual-service.ts';

/** The objects and labels references resolve against. */
export class ReferenceIndex {
  readonly labels: ReadonlyMap<LabelId, PolicyLabel>;
  readonly groups: ReadonlyMap<ObjectId, LabelGroup>;
  private readonly ids: Readonly<Record<PolicyObjectType, ReadonlySet<ObjectId>>>;

  constructor(
    readonly orgId: number,
    readonly state: PolicyState,
    objects: PolicyObjects,
    labels: readonly PolicyLabel[],
  ) {
    this.labels = new Map(labels.map((l) => [l.id, l]));
    this.groups = new Map(objects.label_groups.map((g) => [g.id, g]));
    this.ids = {
      label_groups: new Set(objects.label_groups.map((o) => o.id)),
      services: new Set(objects.services.map((o) => o.id)),
      ip_lists: new Set(objects.ip_lists.map((o) => o.id)),
      rule_sets: new Set(objects.rule_sets.map((o) => o.id)),
      enforcement_boundaries: new Set(objects.enforcement_boundaries.map((o) => o.id)),
      virtual_services: new Set(objects.virtual_services.map((o) => o.id)),
    };
  }

  has(type: PolicyObjectType, id: ObjectId): boolean {
    return this.ids[type].has(id);
  }

  href(type: PolicyObjectType, id: ObjectId): string {
    return policyObjectHref(this.orgId, this.state, type, id);
  }
}

const NOT_FOUND_TOKEN: Readonly<Record<PolicyObjectType, string>> = {
  label_groups: 'label_group_not_found',
  services: 'service_not_found',
  ip_lists: 'ip_list_not_found',
  rule_sets: 'rule_set_not_found',
  enforcement_boundaries: 'enforcement_boundary_not_found',
  virtual_services: 'virtual_service_not_found',
};

function requireObject(index: ReferenceIndex, type: PolicyObjectType, id: ObjectId, field: string, issues: Issues): boolean {
  if (index.has(type, id)) return true;
  issues.add(NOT_FOUND_TOKEN[type], `${field}: ${OBJECT_NOUNS[type]} ${index.href(type, id)} does not exist${index.state === 'draft' ? ' (or is deleted in the draft policy)' : ' in the active policy'}`);
  return false;
}

function requireLabel(index: ReferenceIndex, id: LabelId, field: string, issues: Issues): PolicyLabel | null {
  const label = index.labels.get(id);
  if (!label) issues.add('label_not_found', `${field}: label ${labelHref(index.orgId, id)} does not exist`);
  return label ?? null;
}

function checkLabelGroup(group: LabelGroup, index: ReferenceIndex, issues: Issues): void {
  group.labels.forEach((id, i) => {
    const label = requireLabel(index, id, `labels[${i}].href`, issues);
    if (label && label.key !== group.key) issues.add('label_key_mismatch', `labels[${i}].href: ${labelHref(index.orgId, id)} is a ${label.key} label; this group holds ${group.key} labels`);
  });
  group.subGroups.forEach((id, i) => {
    const field = `sub_groups[${i}].href`;
    if (id === group.id) {
      issues.add('label_group_cycle', `${field}: a label group cannot contain itself`);
      return;
    }
    if (!requireObject(index, 'label_groups', id, field, issues)) return;
    const sub = index.groups.get(id);
    if (sub && sub.key !== group.key) issues.add('label_key_mismatch', `${field}: ${index.href('label_groups', id)} is a ${sub.key} group; this group holds ${group.key} labels`);
  });
  // the group as it would be stored (a reference to itself is reported above), with every other group as the index holds it
  const graph = new Map<ObjectId, Pick<LabelGroup, 'subGroups'>>(index.groups);
  graph.set(group.id, { subGroups: group.subGroups.filter((id) => id !== group.id) });
  const cycle = findSubGroupCycle(graph);
  if (cycle && cycle.includes(group.id)) {
    issues.add('label_group_cycle', `sub_groups: the groups would contain each other (${cycle.map((id) => index.href('label_groups', id)).join(' -> ')})`);
    return;
  }
  for (const p of nestingProblems(graph, group.id)) {
    const who = p.group === group.id ? 'this group' : `${index.href('label_groups', p.group)}, which contains this group,`;
    if (p.kind === 'depth') issues.add('label_group_too_deep', `sub_groups: ${who} would nest ${p.value} levels of label groups; at most ${MAX_LABEL_GROUP_DEPTH} are allowed`);
    else issues.add('label_group_too_large', `sub_groups: ${who} would contain more than ${MAX_NESTED_LABEL_GROUPS} label groups at all levels; at most ${MAX_NESTED_LABEL_GROUPS} are allowed`);
  }
}

/** The label key a scope entry or actor stands for, when it resolves. */
function keyOfEntry(entry: { kind: 'label' | 'label_group'; id: number }, index: ReferenceIndex): string | null {
  return entry.kind === 'label' ? (index.labels.get(entry.id)?.key ?? null) : (index.groups.get(entry.id)?.key ?? null);
}

function checkRuleSetScopes(ruleSet: RuleSet, index: ReferenceIndex, issues: Issues): void {
  ruleSet.scopes.forEach((scope, i) => {
    const keys = new Map<string, number>();
    scope.forEach((entry, j) => {
      const field = `scopes[${i}][${j}]`;
      const ok = entry.kind === 'label' ? requireLabel(index, entry.id, `${field}.label.href`, issues) !== null : requireObject(index, 'label_groups', entry.id, `${field}.label_group.href`, issues);
      const key = ok ? keyOfEntry(entry, index) : null;
      if (key === null) return;
      const first = keys.get(key);
      if (first !== undefined) issues.add('scope_key_conflict', `${field}: scope ${i} already names a ${key} label or group (entry ${first}); a scope has at most one per key`);
      else keys.set(key, j);
    });
  });
}

/** Checks one rule; `field` prefixes the messages (e.g. `rules[2].`). */
export function checkRule(rule: Pick<Rule, 'providers' | 'consumers' | 'ingressServices'>, index: ReferenceIndex, issues: Issues, field = ''): void {
  for (const side of ['providers', 'consumers'] as const) {
    rule[side].forEach((actor, i) => {
      const f = `${field}${side}[${i}]`;
      if (actor.kind === 'label') requireLabel(index, actor.id, `${f}.label.href`, issues);
      if (actor.kind === 'label_group') requireObject(index, 'label_groups', actor.id, `${f}.label_group.href`, issues);
      if (actor.kind === 'ip_list') requireObject(index, 'ip_lists', actor.id, `${f}.ip_list.href`, issues);
      if (actor.kind === 'virtual_service') requireObject(index, 'virtual_services', actor.id, `${f}.virtual_service.href`, issues);
    });
  }
  rule.ingressServices.forEach((service, i) => {
    if (service.kind === 'service') requireObject(index, 'services', service.id, `${field}ingress_services[${i}].href`, issues);
  });
}

function checkVirtualService(vs: VirtualService, index: ReferenceIndex, issues: Issues): void {
  vs.labels.forEach((id, i) => requireLabel(index, id, `labels[${i}].href`, issues));
  if (vs.serviceId !== null) requireObject(index, 'services', vs.serviceId, 'service.href', issues);
}

/** Adds an issue for each reference of `object` that does not resolve in `index`. */
export function checkReferences(type: PolicyObjectType, object: PolicyObjectRecord, index: ReferenceIndex, issues: Issues): void {
  if (type === 'label_groups') checkLabelGroup(object as LabelGroup, index, issues);
  if (type === 'enforcement_boundaries') checkRule(object as EnforcementBoundary, index, issues);
  if (type === 'virtual_services') checkVirtualService(object as VirtualService, index, issues);
  if (type === 'rule_sets') {
    const ruleSet = object as RuleSet;
    checkRuleSetScopes(ruleSet, index, issues);
    ruleSet.rules.forEach((rule, i) => checkRule(rule, index, issues, `rules[${i}].`));
  }
}
