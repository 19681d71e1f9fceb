/** The versioned object types as one family: collections, content comparison and references. */
import type { LabelId } from '../model.ts';
import { canonicalJson } from './canonical-json.ts';
import type { ObjectMeta, PolicyObjectType } from './common.ts';
import type { IpList } from './ip-list.ts';
import type { LabelGroup } from './label-group.ts';
import type { Rule, RuleSet } from './rule-set.ts';
import type { EnforcementBoundary } from './enforcement-boundary.ts';
import type { Service } from './service.ts';
import type { VirtualService } from './virtual-service.ts';

export interface PolicyObjectMap {
  readonly label_groups: LabelGroup;
  readonly services: Service;
  readonly ip_lists: IpList;
  readonly rule_sets: RuleSet;
  readonly enforcement_boundaries: EnforcementBoundary;
  readonly virtual_services: VirtualService;
}

export type PolicyObjectRecord = PolicyObjectMap[PolicyObjectType];

/** All objects of one state (draft or active) of an org, per type. */
export type PolicyObjects = { readonly [K in PolicyObjectType]: readonly PolicyObjectMap[K][] };

export const emptyPolicyObjects = (): PolicyObjects => ({ label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] });

/** `objects` with every type present (documents provisioned before a type existed lack its key). */
export const withAllTypes = (objects: Partial<PolicyObjects>): PolicyObjects => ({ ...emptyPolicyObjects(), ...objects });

export interface ObjectKey {
  readonly type: PolicyObjectType;
  readonly id: number;
}

export const keyOf = (type: PolicyObjectType, id: number): string => `${type}/${id}`;

/** Every object by `keyOf(type, id)`. */
export function indexObjects(objects: PolicyObjects): Map<string, { type: PolicyObjectType; object: PolicyObjectRecord }> {
  const index = new Map<string, { type: PolicyObjectType; object: PolicyObjectRecord }>();
  for (const type of Object.keys(objects) as PolicyObjectType[]) for (const object of objects[type]) index.set(keyOf(type, object.id), { type, object });
  return index;
}

function withoutMeta<T extends ObjectMeta>(o: T): Omit<T, 'createdAt' | 'updatedAt' | 'createdBy' | 'updatedBy'> {
  const { createdAt: _createdAt, updatedAt: _updatedAt, createdBy: _createdBy, updatedBy: _updatedBy, ...content } = o;
  return content;
}

/** What a provision would change: the object without who/when (a rule set includes its rules' content). */
export function contentOf(type: PolicyObjectType, object: PolicyObjectRecord): unknown {
  if (type === 'rule_sets') {
    const rs = object as RuleSet;
    return { ...withoutMeta(rs), rules: rs.rules.map((r) => withoutMeta(r)) };
  }
  return withoutMeta(object);
}

export function sameContent(type: PolicyObjectType, a: PolicyObjectRecord, b: PolicyObjectRecord): boolean {
  return canonicalJson(contentOf(type, a)) === canonicalJson(contentOf(type, b));
}

export function ruleContentEquals(a: Rule, b: Rule): boolean {
  return canonicalJson(withoutMeta(a)) === canonicalJson(withoutMeta(b));
}

/** The policy objects `object` refers to (provisioning needs them active too). */
export function dependenciesOf(type: PolicyObjectType, object: PolicyObjectRecord): ObjectKey[] {
  const deps: ObjectKey[] = [];
  if (type === 'label_groups') for (const id of (object as LabelGroup).subGroups) deps.push({ type: 'label_groups', id });
  if (type === 'rule_sets') {
    const rs = object as RuleSet;
    for (const scope of rs.scopes) for (const e of scope) if (e.kind === 'label_group') deps.push({ type: 'label_groups', id: e.id });
    for (const rule of rs.rules) {
      for (const a of [...rule.providers, ...rule.consumers]) {
        if (a.kind === 'label_group') deps.push({ type: 'label_groups', id: a.id });
        if (a.kind === 'ip_list') deps.push({ type: 'ip_lists', id: a.id });
      }
      for (const s of rule.ingressServices) if (s.kind === 'service') deps.push({ type: 'services', id: s.id });
      for (const a of [...rule.providers, ...rule.consumers]) if (a.kind === 'virtual_service') deps.push({ type: 'virtual_services', id: a.id });
    }
  }
  if (type === 'enforcement_boundaries') {
    const b = object as EnforcementBoundary;
    for (const a of [...b.providers, ...b.consumers]) {
      if (a.kind === 'label_group') deps.push({ type: 'label_groups', id: a.id });
      if (a.kind === 'ip_list') deps.push({ type: 'ip_lists', id: a.id });
    }
    for (const s of b.ingressServices) if (s.kind === 'service') deps.push({ type: 'services', id: s.id });
  }
  if (type === 'virtual_services') {
    const vs = object as VirtualService;
    if (vs.serviceId !== null) deps.push({ type: 'services', id: vs.serviceId });
  }
  const seen = new Set<string>();
  return deps.filter((d) => !seen.has(keyOf(d.type, d.id)) && seen.add(keyOf(d.type, d.id)));
}

/** The labels `object` names directly. */
export function labelsOf(type: PolicyObjectType, object: PolicyObjectRecord): LabelId[] {
  const ids = new Set<LabelId>();
  if (type === 'label_groups') (object as LabelGroup).labels.forEach((id) => ids.add(id));
  if (type === 'rule_sets') {
    const rs = object as RuleSet;
    for (const scope of rs.scopes) for (const e of scope) if (e.kind === 'label') ids.add(e.id);
    for (const rule of rs.rules) for (const a of [...rule.providers, ...rule.consumers]) if (a.kind === 'label') ids.add(a.id);
  }
  if (type === 'enforcement_boundaries') for (const a of [...(object as EnforcementBoundary).providers, ...(object as EnforcementBoundary).consumers]) if (a.kind === 'label') ids.add(a.id);
  if (type === 'virtual_services') (object as VirtualService).labels.forEach((id) => ids.add(id));
  return [...ids];
}

/** Objects sorted by id per type: the canonical order of a provisioned version. */
export function sortedObjects(objects: PolicyObjects): PolicyObjects {
  const byId = <T extends { id: number }>(list: readonly T[]): T[] => [...list].sort((a, b) => a.id - b.id);
  return {
    label_groups: byId(objects.label_groups),
    services: byId(objects.services),
    ip_lists: byId(objects.ip_lists),
    rule_sets: byId(objects.rule_sets),
    enforcement_boundaries: byId(objects.enforcement_boundaries),
    virtual_services: byId(objects.virtual_services),
  };
}

export function objectCounts(objects: PolicyObjects): Record<PolicyObjectType, number> {
  return {
    label_groups: objects.label_groups.length,
    services: objects.services.length,
    ip_lists: objects.ip_lists.length,
    rule_sets: objects.rule_sets.length,
    enforcement_boundaries: objects.enforcement_boundaries.length,
    virtual_services: objects.virtual_services.length,
  };
}
