/**
 * fast-check arbitraries for random policies and workloads, over small universes so that labels, groups,
 * ports and addresses collide often: 4 label keys x 3 values, 4 label groups (nested, possibly cyclic),
 * 3 services, 3 IP lists over 10.0.0.0/28 and 2001:db8::/125 (with exclusions), up to 4 rule sets,
 * 2 virtual services (labelled) bound to some of the workloads, up to 3 enforcement boundaries. Rules resolve
 * their label actors as workloads, virtual services or both, and sometimes use
 * workload subnets (either side or both); a workload's interfaces have prefixes /28-/32 (IPv6 /125-/128)
 * or none, so subnets overlap each other, other workloads' addresses and the IP lists.
 */
import fc from 'fast-check';
import { ENFORCEMENT_MODES, type ResolveAs, type RuleSide, type Actor, type IngressService, type IpRange, type PolicyLabel, type PolicyLabelGroup, type PolicyRule, type PolicyEnforcementBoundary, type PolicyRuleSet, type PolicySnapshot, type PolicyVirtualService, type ScopeEntry, type ServicePort, type WorkloadFacts } from '../../../shared/policy/model.ts';

export const KEYS = ['role', 'app', 'env', 'loc'] as const;
export const LABELS: PolicyLabel[] = KEYS.flatMap((key, k) => [0, 1, 2].map((v) => ({ id: 1 + k * 3 + v, key, value: `${key}-${v}` })));
export const labelsOfKey = (k: number): number[] => [1 + k * 3, 2 + k * 3, 3 + k * 3];
export const GROUP_IDS = [101, 102, 103, 104];
export const SERVICE_IDS = [201, 202, 203];
export const IP_LIST_IDS = [301, 302, 303];
export const VIRTUAL_SERVICE_IDS = [601, 602];
export const WORKLOAD_IDS = Array.from({ length: 10 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

export const v4Address = fc.integer({ min: 0, max: 15 }).map((x) => `10.0.0.${x}`);
export const v6Address = fc.integer({ min: 0, max: 7 }).map((x) => `2001:db8::${x.toString(16)}`);
export const workloadIp = fc.oneof({ weight: 3, arbitrary: v4Address }, { weight: 1, arbitrary: v6Address });

/** an interface: its address and its network (a CIDR over the address, or the address when it has no prefix) */
const workloadInterface: fc.Arbitrary<{ ip: string; net: string }> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(v4Address, fc.option(fc.integer({ min: 28, max: 32 }))) },
  { weight: 1, arbitrary: fc.tuple(v6Address, fc.option(fc.integer({ min: 125, max: 128 }))) },
).map(([ip, prefix]) => ({ ip, net: prefix === null ? ip : `${ip}/${prefix}` }));

/** a workload's addresses and interface networks (sometimes no `subnets`: the addresses stand for them) */
export const workloadAddressing: fc.Arbitrary<Pick<WorkloadFacts, 'ips' | 'subnets'>> = fc
  .tuple(fc.array(workloadInterface, { maxLength: 3 }), fc.nat({ max: 4 }))
  .map(([interfaces, x]) => ({ ips: interfaces.map((i) => i.ip), ...(x === 0 ? {} : { subnets: interfaces.map((i) => i.net) }) }));

const labelGroup = (id: number): fc.Arbitrary<PolicyLabelGroup> =>
  fc.integer({ min: 0, max: 3 }).chain((k) =>
    fc.record({
      id: fc.constant(id),
      key: fc.constant(KEYS[k] as string),
      labels: fc.subarray(labelsOfKey(k)),
      subGroups: fc.subarray(GROUP_IDS.filter((g) => g !== id), { maxLength: 2 }),
    }),
  );

export const servicePort: fc.Arbitrary<ServicePort> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(6, 17, 1).map((proto) => ({ proto })) },
  { weight: 4, arbitrary: fc.record({ proto: fc.constantFrom(6, 17), port: fc.integer({ min: 0, max: 12 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({ proto: fc.constantFrom(6, 17), port: fc.integer({ min: 0, max: 12 }), len: fc.integer({ min: 0, max: 5 }) }).map(({ proto, port, len }) => ({ proto, port, toPort: port + len })),
  },
  { weight: 1, arbitrary: fc.constant({ proto: 6, port: 0, toPort: 65535 }) },
  // any protocol (All Services): subsumes the rule's other entries
  { weight: 1, arbitrary: fc.constant({ proto: -1 }) },
);

const ipRange: fc.Arbitrary<IpRange> = fc
  .tuple(
    fc.oneof(
      v4Address.map((fromIp) => ({ fromIp })),
      fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 6 })).map(([a, d]) => ({ fromIp: `10.0.0.${a}`, toIp: `10.0.0.${Math.min(15, a + d)}` })),
      fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 29, max: 32 })).map(([a, p]) => ({ fromIp: `10.0.0.${a}/${p}` })),
      v6Address.map((fromIp) => ({ fromIp })),
      fc.integer({ min: 0, max: 7 }).map((a) => ({ fromIp: `2001:db8::${a.toString(16)}/126` })),
    ),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(([r, x]) => ({ ...r, exclusion: x < 3 }));

const scopeEntry: fc.Arbitrary<ScopeEntry> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 12 }).map((id) => ({ kind: 'label' as const, id })) },
  { weight: 1, arbitrary: fc.constantFrom(...GROUP_IDS).map((id) => ({ kind: 'label_group' as const, id })) },
);

const actor: fc.Arbitrary<Actor> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }).map((id) => ({ kind: 'label' as const, id })) },
  { weight: 2, arbitrary: fc.constantFrom(...GROUP_IDS).map((id) => ({ kind: 'label_group' as const, id })) },
  { weight: 2, arbitrary: fc.constantFrom(...IP_LIST_IDS).map((id) => ({ kind: 'ip_list' as const, id })) },
  { weight: 2, arbitrary: fc.constantFrom(...WORKLOAD_IDS).map((id) => ({ kind: 'workload' as const, id })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ams' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(...VIRTUAL_SERVICE_IDS).map((id) => ({ kind: 'virtual_service' as const, id })) },
);

/** what an enforcement boundary may name: labels, label groups, IP lists, ams */
const boundaryActor: fc.Arbitrary<Actor> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }).map((id) => ({ kind: 'label' as const, id })) },
  { weight: 2, arbitrary: fc.constantFrom(...GROUP_IDS).map((id) => ({ kind: 'label_group' as const, id })) },
  { weight: 2, arbitrary: fc.constantFrom(...IP_LIST_IDS).map((id) => ({ kind: 'ip_list' as const, id })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ams' as const }) },
);

const ingress: fc.Arbitrary<IngressService> = fc.oneof(
  fc.constantFrom(...SERVICE_IDS).map((id) => ({ kind: 'service' as const, id })),
  servicePort.map((p) => ({ kind: 'port' as const, ...p })),
);

const resolveAsArb: fc.Arbitrary<ResolveAs[]> = fc.subarray<ResolveAs>(['workloads', 'virtual_services'], { minLength: 1 });

const rule = (id: number): fc.Arbitrary<PolicyRule> =>
  fc.record({
    id: fc.constant(id),
    enabled: fc.oneof({ weight: 7, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    providers: fc.array(actor, { maxLength: 3 }),
    consumers: fc.array(actor, { maxLength: 3 }),
    // empty: the rule takes its virtual-service providers' ports
    ingressServices: fc.oneof({ weight: 6, arbitrary: fc.array(ingress, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.constant([]) }),
    unscopedConsumers: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    subnetSides: fc.oneof({ weight: 2, arbitrary: fc.constant([] as RuleSide[]) }, { weight: 1, arbitrary: fc.subarray<RuleSide>(['providers', 'consumers'], { minLength: 1 }) }),
    // label actors resolved as workloads (the default), virtual services, or both
    resolve: fc.option(fc.record({ providers: resolveAsArb, consumers: resolveAsArb }), { freq: 3 }),
  }).map(({ subnetSides, resolve, ...r }) => ({ ...r, ...(subnetSides.length === 0 ? {} : { useWorkloadSubnets: subnetSides }), ...(resolve === null ? {} : { resolveLabelsAs: resolve }) }));

const ruleSet = (index: number): fc.Arbitrary<PolicyRuleSet> =>
  fc.integer({ min: 1, max: 5 }).chain((n) =>
    fc.record({
      id: fc.constant(401 + index),
      enabled: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      scopes: fc.array(fc.array(scopeEntry, { maxLength: 3 }), { maxLength: 3 }),
      rules: fc.tuple(...Array.from({ length: n }, (_, i) => rule(1000 + index * 10 + i))),
    }),
  );

const virtualService = (id: number): fc.Arbitrary<PolicyVirtualService> =>
  fc.record({
    id: fc.constant(id),
    servicePorts: fc.array(servicePort, { minLength: 1, maxLength: 2 }),
    ipRanges: fc.array(ipRange.map((r) => ({ ...r, exclusion: false })), { maxLength: 1 }),
    workloads: fc.subarray(WORKLOAD_IDS, { maxLength: 3 }),
    labels: fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
  });

const boundary = (id: number): fc.Arbitrary<PolicyEnforcementBoundary> =>
  fc.record({
    id: fc.constant(id),
    providers: fc.array(boundaryActor, { minLength: 1, maxLength: 2 }),
    consumers: fc.array(boundaryActor, { minLength: 1, maxLength: 2 }),
    ingressServices: fc.array(ingress, { minLength: 1, maxLength: 2 }),
  });

export const snapshotArb: fc.Arbitrary<PolicySnapshot> = fc.integer({ min: 1, max: 4 }).chain((nRuleSets) =>
  fc.record({
    virtualServices: fc.tuple(...VIRTUAL_SERVICE_IDS.map(virtualService)),
    enforcementBoundaries: fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => boundary(501 + i)))),
    version: fc.integer({ min: 1, max: 1000 }),
    labels: fc.constant(LABELS),
    labelGroups: fc.tuple(...GROUP_IDS.map(labelGroup)),
    services: fc.tuple(...SERVICE_IDS.map((id) => fc.record({ id: fc.constant(id), servicePorts: fc.array(servicePort, { minLength: 1, maxLength: 3 }) }))),
    ipLists: fc.tuple(...IP_LIST_IDS.map((id) => fc.record({ id: fc.constant(id), ipRanges: fc.array(ipRange, { minLength: 1, maxLength: 4 }) }))),
    ruleSets: fc.tuple(...Array.from({ length: nRuleSets }, (_, i) => ruleSet(i))),
  }),
);

/** 0..1 label per key, sometimes 2 of the same key */
export const workloadLabels: fc.Arbitrary<number[]> = fc
  .tuple(...KEYS.map((_, k) => fc.oneof({ weight: 2, arbitrary: fc.constant([] as number[]) }, { weight: 6, arbitrary: fc.subarray(labelsOfKey(k), { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.subarray(labelsOfKey(k), { minLength: 2, maxLength: 2 }) })))
  .map((xs) => xs.flat());

export const workloadIps = fc.array(workloadIp, { maxLength: 3 });
export const modeArb = fc.constantFrom(...ENFORCEMENT_MODES);

export const factsFor = (id: string): fc.Arbitrary<WorkloadFacts> =>
  fc.record({ id: fc.constant(id), labels: workloadLabels, addressing: workloadAddressing, enforcementMode: modeArb }).map(({ addressing, ...f }) => ({ ...f, ...addressing }));

export const workloadsArb: fc.Arbitrary<WorkloadFacts[]> = fc
  .uniqueArray(fc.constantFrom(...WORKLOAD_IDS), { minLength: 2, maxLength: 8 })
  .chain((ids) => fc.tuple(...ids.map(factsFor)));

export const scenarioArb = fc.record({ snapshot: snapshotArb, workloads: workloadsArb });
