/**
 * The provisioned document in the compiler's normalised model (shared/policy/model.ts).
 * Pure: the same document always gives the same snapshot, sorted by id.
 * Dropped on the way: names, descriptions, external data, rule resolve_labels_as when it is the default (workloads),
 * IP list FQDNs (not resolvable by the compiler) and range descriptions, virtual services' FQDN addresses
 * and IP overrides. A virtual service naming a service takes that service's ports.
 * Illumio's `proto: -1` ("All Services": every protocol) is the model's ANY_PROTOCOL: one entry `{ proto: -1 }`.
 */
import type { IngressService, PolicyRule, PolicySnapshot, PolicyVirtualService, ServicePort } from '../model.ts';
import { withAllTypes } from '../objects/objects.ts';
import type { Rule } from '../objects/rule-set.ts';
import type { ServicePortSpec } from '../objects/service.ts';
import type { ActivePolicyDocument } from './document.ts';

const byId = <T extends { readonly id: number }>(list: readonly T[]): T[] => [...list].sort((a, b) => a.id - b.id);

function servicePort(p: ServicePortSpec): ServicePort {
  return { proto: p.proto, ...(p.port === undefined ? {} : { port: p.port }), ...(p.toPort === undefined ? {} : { toPort: p.toPort }) };
}

function ingressService(s: IngressService): IngressService {
  return s.kind === 'service' ? { kind: 'service', id: s.id } : { kind: 'port', ...servicePort(s) };
}

const onlyWorkloads = (list: readonly string[]): boolean => list.length === 0 || list.every((x) => x === 'workloads');

function rule(r: Rule): PolicyRule {
  return {
    id: r.id,
    enabled: r.enabled,
    providers: r.providers.map((a) => ({ ...a })),
    consumers: r.consumers.map((a) => ({ ...a })),
    ingressServices: r.ingressServices.map(ingressService),
    unscopedConsumers: r.unscopedConsumers,
    ...(r.useWorkloadSubnets === undefined || r.useWorkloadSubnets.length === 0 ? {} : { useWorkloadSubnets: [...new Set(r.useWorkloadSubnets)].sort() }),
    ...(onlyWorkloads(r.resolveLabelsAs.providers) && onlyWorkloads(r.resolveLabelsAs.consumers)
      ? {}
      : { resolveLabelsAs: { providers: [...new Set(r.resolveLabelsAs.providers)].sort(), consumers: [...new Set(r.resolveLabelsAs.consumers)].sort() } }),
  };
}

function virtualServices(document: ActivePolicyDocument): PolicyVirtualService[] {
  const services = new Map(document.objects.services.map((s) => [s.id, s.servicePorts]));
  const bound = new Map<number, string[]>();
  for (const b of document.serviceBindings ?? []) bound.set(b.virtualServiceId, [...(bound.get(b.virtualServiceId) ?? []), b.workloadId]);
  return byId(document.objects.virtual_services).map((vs) => ({
    id: vs.id,
    servicePorts: (vs.serviceId === null ? vs.servicePorts : (services.get(vs.serviceId) ?? [])).map(servicePort),
    ipRanges: vs.serviceAddresses.flatMap((a) => (a.ip === undefined ? [] : [{ fromIp: a.ip, exclusion: false }])),
    workloads: [...new Set(bound.get(vs.id) ?? [])].sort(),
    ...(vs.labels.length === 0 ? {} : { labels: [...new Set(vs.labels)].sort((a, b) => a - b) }),
  }));
}

export function toPolicySnapshot(document: ActivePolicyDocument): PolicySnapshot {
  const objects = withAllTypes(document.objects);
  return {
    version: document.version,
    labels: byId(document.labels).map((l) => ({ id: l.id, key: l.key, value: l.value })),
    labelGroups: byId(objects.label_groups).map((g) => ({ id: g.id, key: g.key, labels: [...g.labels], subGroups: [...g.subGroups] })),
    services: byId(objects.services).map((s) => ({ id: s.id, servicePorts: s.servicePorts.map(servicePort) })),
    ipLists: byId(objects.ip_lists).map((l) => ({
      id: l.id,
      ipRanges: l.ipRanges.map((r) => ({ fromIp: r.fromIp, ...(r.toIp === undefined ? {} : { toIp: r.toIp }), exclusion: r.exclusion })),
    })),
    ruleSets: byId(objects.rule_sets).map((rs) => ({
      id: rs.id,
      enabled: rs.enabled,
      scopes: rs.scopes.map((scope) => scope.map((e) => ({ ...e }))),
      rules: byId(rs.rules).map(rule),
    })),
    virtualServices: virtualServices({ ...document, objects }),
    enforcementBoundaries: byId(objects.enforcement_boundaries).map((b) => ({
      id: b.id,
      providers: b.providers.map((a) => ({ ...a })),
      consumers: b.consumers.map((a) => ({ ...a })),
      ingressServices: b.ingressServices.map(ingressService),
    })),
  };
}
