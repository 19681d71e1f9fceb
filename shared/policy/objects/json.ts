/** The public (Illumio) JSON shapes of policy objects, rules, pending changes and policy versions. */
import { labelHref } from '../../labels/label.ts';
import type { Actor, IngressService, LabelId, ObjectId, PolicyLabel, ScopeEntry } from '../model.ts';
import type { PolicyVersion } from '../snapshot/document.ts';
import {
  POLICY_OBJECT_TYPES,
  policyObjectHref,
  policyVersionHref,
  ruleHref,
  userHref,
  workloadHref,
  type ExternalRefs,
  type ObjectMeta,
  type PolicyObjectType,
  type PolicyState,
} from './common.ts';
import { ipRangeToJson, type IpList } from './ip-list.ts';
import type { LabelGroup } from './label-group.ts';
import type { PolicyObjectMap, PolicyObjectRecord } from './objects.ts';
import type { PendingChange, UpdateType } from './pending.ts';
import type { EnforcementBoundary } from './enforcement-boundary.ts';
import type { Rule, RuleSet } from './rule-set.ts';
import type { VirtualService } from './virtual-service.ts';
import { servicePortToJson, type Service } from './service.ts';

export interface ObjectView<K extends PolicyObjectType = PolicyObjectType> {
  readonly type: K;
  readonly state: PolicyState;
  readonly object: PolicyObjectMap[K];
  /** drafts only: how provisioning this draft would change the active policy */
  readonly updateType: UpdateType | null;
  /** draft rule sets only: the same per rule */
  readonly ruleUpdateTypes?: ReadonlyMap<number, UpdateType | null>;
  /** label groups only: what Illumio shows next to the hrefs (labels with key and value, sub-groups with name) */
  readonly names?: ReferenceNames;
}

export interface ReferenceNames {
  readonly labels: ReadonlyMap<LabelId, Pick<PolicyLabel, 'key' | 'value'>>;
  readonly groups: ReadonlyMap<ObjectId, string>;
}

export interface RuleView {
  readonly state: PolicyState;
  readonly ruleSetId: number;
  readonly rule: Rule;
  readonly updateType: UpdateType | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function metaJson(href: string, meta: ObjectMeta, state: PolicyState, updateType: UpdateType | null) {
  return {
    href,
    created_at: iso(meta.createdAt),
    updated_at: iso(meta.updatedAt),
    deleted_at: null,
    created_by: userHref(meta.createdBy),
    updated_by: userHref(meta.updatedBy),
    deleted_by: null,
    ...(state === 'draft' ? { update_type: updateType } : {}),
  };
}

// `?? null`: rules stored before they carried external data have neither field
const externalJson = (o: ExternalRefs) => ({ external_data_set: o.externalDataSet ?? null, external_data_reference: o.externalDataReference ?? null });

function scopeEntryToJson(orgId: number, state: PolicyState, e: ScopeEntry) {
  return e.kind === 'label' ? { label: { href: labelHref(orgId, e.id) } } : { label_group: { href: policyObjectHref(orgId, state, 'label_groups', e.id) } };
}

export function actorToJson(orgId: number, state: PolicyState, a: Actor) {
  switch (a.kind) {
    case 'label':
      return { label: { href: labelHref(orgId, a.id) } };
    case 'label_group':
      return { label_group: { href: policyObjectHref(orgId, state, 'label_groups', a.id) } };
    case 'ip_list':
      return { ip_list: { href: policyObjectHref(orgId, state, 'ip_lists', a.id) } };
    case 'workload':
      return { workload: { href: workloadHref(orgId, a.id) } };
    case 'ams':
      return { actors: 'ams' };
    case 'virtual_service':
      return { virtual_service: { href: policyObjectHref(orgId, state, 'virtual_services', a.id) } };
  }
}

function ingressToJson(orgId: number, state: PolicyState, s: IngressService) {
  if (s.kind === 'service') return { href: policyObjectHref(orgId, state, 'services', s.id) };
  return servicePortToJson(s);
}

export function ruleToJson(orgId: number, view: RuleView) {
  const { rule, state } = view;
  return {
    ...metaJson(ruleHref(orgId, state, view.ruleSetId, rule.id), rule, state, view.updateType),
    enabled: rule.enabled,
    description: rule.description,
    providers: rule.providers.map((a) => actorToJson(orgId, state, a)),
    consumers: rule.consumers.map((a) => actorToJson(orgId, state, a)),
    consuming_security_principals: [],
    sec_connect: false,
    stateless: false,
    machine_auth: false,
    unscoped_consumers: rule.unscopedConsumers,
    network_type: 'brn',
    ingress_services: rule.ingressServices.map((s) => ingressToJson(orgId, state, s)),
    resolve_labels_as: { providers: [...rule.resolveLabelsAs.providers], consumers: [...rule.resolveLabelsAs.consumers] },
    use_workload_subnets: [...(rule.useWorkloadSubnets ?? [])],
    ...externalJson(rule),
  };
}

function fields(orgId: number, state: PolicyState, type: PolicyObjectType, object: PolicyObjectRecord, view: ObjectView) {
  switch (type) {
    case 'label_groups': {
      const g = object as LabelGroup;
      // undefined members (a name that did not resolve) are left out of the JSON
      const label = (id: LabelId) => view.names?.labels.get(id);
      return {
        key: g.key,
        labels: g.labels.map((id) => ({ href: labelHref(orgId, id), key: label(id)?.key, value: label(id)?.value })),
        sub_groups: g.subGroups.map((id) => ({ href: policyObjectHref(orgId, state, 'label_groups', id), name: view.names?.groups.get(id) })),
      };
    }
    case 'services':
      return { service_ports: (object as Service).servicePorts.map(servicePortToJson) };
    case 'ip_lists': {
      const l = object as IpList;
      return { ip_ranges: l.ipRanges.map(ipRangeToJson), fqdns: l.fqdns.map((f) => ({ fqdn: f.fqdn, ...(f.description === undefined ? {} : { description: f.description }) })) };
    }
    case 'rule_sets': {
      const rs = object as RuleSet;
      return {
        enabled: rs.enabled,
        scopes: rs.scopes.map((scope) => scope.map((e) => scopeEntryToJson(orgId, state, e))),
        rules: rs.rules.map((rule) => ruleToJson(orgId, { state, ruleSetId: rs.id, rule, updateType: view.ruleUpdateTypes?.get(rule.id) ?? null })),
        ip_tables_rules: [],
      };
    }
    case 'enforcement_boundaries': {
      const b = object as EnforcementBoundary;
      return {
        providers: b.providers.map((a) => actorToJson(orgId, state, a)),
        consumers: b.consumers.map((a) => actorToJson(orgId, state, a)),
        ingress_services: b.ingressServices.map((s) => ingressToJson(orgId, state, s)),
        caps: state === 'draft' ? ['write', 'provision'] : [],
      };
    }
    case 'virtual_services': {
      const vs = object as VirtualService;
      return {
        pce_fqdn: null,
        service_ports: vs.servicePorts.map(servicePortToJson),
        ...(vs.serviceId === null ? {} : { service: { href: policyObjectHref(orgId, state, 'services', vs.serviceId) } }),
        service_addresses: vs.serviceAddresses.map((a) => ({ ...a })),
        labels: vs.labels.map((id) => ({ href: labelHref(orgId, id), key: view.names?.labels.get(id)?.key, value: view.names?.labels.get(id)?.value })),
        ip_overrides: [...vs.ipOverrides],
        apply_to: vs.applyTo,
        caps: state === 'draft' ? ['write', 'provision', 'delete'] : [],
      };
    }
  }
}

export function objectToJson(orgId: number, view: ObjectView) {
  const { type, state, object } = view;
  return {
    ...metaJson(policyObjectHref(orgId, state, type, object.id), object, state, view.updateType),
    name: object.name,
    description: object.description,
    ...fields(orgId, state, type, object, view),
    ...externalJson(object),
  };
}

/**
 * `GET /sec_policy/pending`: one list per object type (always every key), each entry
 * `{href (draft), name, update_type: create|update|delete, updated_at, updated_by}`.
 */
export function pendingToJson(orgId: number, changes: readonly PendingChange[]) {
  const out: Record<PolicyObjectType, unknown[]> = { label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [] };
  for (const type of POLICY_OBJECT_TYPES) {
    out[type] = changes
      .filter((c) => c.type === type)
      .map((c) => ({ href: policyObjectHref(orgId, 'draft', c.type, c.id), name: c.name, update_type: c.updateType, updated_at: iso(c.updatedAt), updated_by: userHref(c.updatedBy) }));
  }
  return out;
}

export function policyVersionToJson(v: PolicyVersion) {
  return {
    href: policyVersionHref(v.orgId, v.version),
    version: v.version,
    commit_message: v.commitMessage,
    created_at: iso(v.createdAt),
    created_by: userHref(v.createdBy),
    object_counts: { ...v.objectCounts },
    workloads_affected: v.workloadsAffected,
  };
}
