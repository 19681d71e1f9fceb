/**
 * The policy model as the compiler sees it: normalised, id-based, no HTTP shapes.
 * The API layer (shared/policy/objects, shared/workloads) converts Illumio JSON to and from these types;
 * a provisioned policy version is an immutable PolicySnapshot.
 *
 * Rule semantics (Illumio):
 * - A rule set applies within its scopes: `scopes` is a list (OR) of scopes; a scope is a set of labels /
 *   label groups (AND across keys). An empty scopes list (`[[]]` or `[]`) means "all workloads".
 * - An actor list (providers or consumers) selects: the workloads matching its label expression
 *   (labels of the same key OR'ed, different keys AND'ed, label groups expand to their labels of one key),
 *   OR the listed workloads, OR all workloads (`ams`), plus the IP ranges of listed IP lists.
 * - Providers are always intersected with the rule set's scope. Consumers are intersected with the scope
 *   unless `unscopedConsumers` is true (extra-scope rule).
 * - A provider workload gets an inbound allow from the consumers' IP set on `ingressServices`;
 *   a consumer workload gets an outbound allow to the providers' IP set on the same services.
 * - `useWorkloadSubnets` (Illumio's `use_workload_subnets`): on the sides it names, a workload stands for
 *   its interfaces' networks (WorkloadFacts.subnets) in the peers' IP set instead of its addresses; which
 *   workloads a side selects does not change.
 * - `resolveLabelsAs` (Illumio's `resolve_labels_as`): a side's label and label-group actors select the
 *   workloads matching them when its list has `workloads` (the default), and the virtual services whose
 *   labels match them when it has `virtual_services` (each then as a virtual service actor). `ams`, IP-list,
 *   workload and virtual-service actors are not affected.
 * - Disabled rules and disabled rule sets contribute nothing.
 * - A virtual service actor selects the workloads bound to it (service bindings, resolved when the version
 *   was provisioned) plus the IP addresses of its service addresses. A rule whose ingress services are empty
 *   takes the service ports of its virtual-service providers.
 *
 * Enforcement boundaries (Illumio's deny boundaries): a boundary's providers get an inbound deny from its
 * consumers on its services, its consumers an outbound deny to its providers, compiled as rules with
 * `action: 'deny'` (no scope: boundaries are org-wide). A VEN evaluates allow rules first, then deny rules,
 * then its mode's default: a workload in selective mode blocks what a boundary covers unless a rule allows
 * it, allows the rest; full mode denies everything not allowed anyway; visibility_only enforces nothing.
 */

export type LabelId = number;
export type ObjectId = number;
/** Workload ids are UUIDs. */
export type WorkloadId = string;

export const ENFORCEMENT_MODES = ['idle', 'visibility_only', 'selective', 'full'] as const;
export type EnforcementMode = (typeof ENFORCEMENT_MODES)[number];

export interface PolicyLabel {
  readonly id: LabelId;
  readonly key: string;
  readonly value: string;
}

export interface PolicyLabelGroup {
  readonly id: ObjectId;
  readonly key: string;
  readonly labels: readonly LabelId[];
  readonly subGroups: readonly ObjectId[];
}

/** `proto` of "any protocol" (Illumio's All Services): one entry, no ports. */
export const ANY_PROTOCOL = -1;

/**
 * proto: IANA protocol number (6 tcp, 17 udp, 1 icmp, ...), or ANY_PROTOCOL (-1, every protocol, no port).
 * No port = every port of the protocol.
 */
export interface ServicePort {
  readonly proto: number;
  readonly port?: number;
  readonly toPort?: number;
}

export interface PolicyService {
  readonly id: ObjectId;
  readonly servicePorts: readonly ServicePort[];
}

/** An inclusive IPv4/IPv6 range; `toIp` absent = a single address or a CIDR in `fromIp`. */
export interface IpRange {
  readonly fromIp: string;
  readonly toIp?: string;
  readonly exclusion: boolean;
}

export interface PolicyIpList {
  readonly id: ObjectId;
  readonly ipRanges: readonly IpRange[];
}

export type ScopeEntry = { readonly kind: 'label'; readonly id: LabelId } | { readonly kind: 'label_group'; readonly id: ObjectId };

export type Actor =
  | { readonly kind: 'label'; readonly id: LabelId }
  | { readonly kind: 'label_group'; readonly id: ObjectId }
  | { readonly kind: 'ip_list'; readonly id: ObjectId }
  | { readonly kind: 'workload'; readonly id: WorkloadId }
  | { readonly kind: 'ams' }
  | { readonly kind: 'virtual_service'; readonly id: ObjectId };

export type IngressService = { readonly kind: 'service'; readonly id: ObjectId } | ({ readonly kind: 'port' } & ServicePort);

/** A side of a rule: its providers or its consumers. */
export type RuleSide = 'providers' | 'consumers';

/** What a rule side's label actors select (Illumio's `resolve_labels_as`): workloads, virtual services, or both. */
export type ResolveAs = 'workloads' | 'virtual_services';

export interface PolicyRule {
  readonly id: ObjectId;
  readonly enabled: boolean;
  readonly providers: readonly Actor[];
  readonly consumers: readonly Actor[];
  readonly ingressServices: readonly IngressService[];
  readonly unscopedConsumers: boolean;
  /** the sides whose workloads stand for their interfaces' subnets (`use_workload_subnets`); absent = none */
  readonly useWorkloadSubnets?: readonly RuleSide[];
  /** what each side's label actors select; absent = workloads on both sides */
  readonly resolveLabelsAs?: { readonly providers: readonly ResolveAs[]; readonly consumers: readonly ResolveAs[] };
}

export interface PolicyRuleSet {
  readonly id: ObjectId;
  readonly enabled: boolean;
  /** OR of scopes; each scope an AND of entries. [] or [[]] = all workloads. */
  readonly scopes: readonly (readonly ScopeEntry[])[];
  readonly rules: readonly PolicyRule[];
}

/** A virtual service with the workloads bound to it when the version was provisioned. */
export interface PolicyVirtualService {
  readonly id: ObjectId;
  readonly servicePorts: readonly ServicePort[];
  /** the IP addresses (or CIDR blocks) of its service addresses */
  readonly ipRanges: readonly IpRange[];
  readonly workloads: readonly WorkloadId[];
  /** its labels (what label actors resolved as virtual services match); absent = none */
  readonly labels?: readonly LabelId[];
}

/** An enforcement boundary: deny `ingressServices` from `consumers` to `providers` (labels, label groups, IP lists, ams). */
export interface PolicyEnforcementBoundary {
  readonly id: ObjectId;
  readonly providers: readonly Actor[];
  readonly consumers: readonly Actor[];
  readonly ingressServices: readonly IngressService[];
}

/** One provisioned (active) policy version: immutable. */
export interface PolicySnapshot {
  readonly version: number;
  readonly labels: readonly PolicyLabel[];
  readonly labelGroups: readonly PolicyLabelGroup[];
  readonly services: readonly PolicyService[];
  readonly ipLists: readonly PolicyIpList[];
  readonly ruleSets: readonly PolicyRuleSet[];
  /** absent: none */
  readonly virtualServices?: readonly PolicyVirtualService[];
  /** absent: none */
  readonly enforcementBoundaries?: readonly PolicyEnforcementBoundary[];
}

/** What the compiler needs of a workload: its labels, addresses, interface networks and mode. */
export interface WorkloadFacts {
  readonly id: WorkloadId;
  readonly labels: readonly LabelId[];
  /** interface addresses (IPv4/IPv6, no prefix) */
  readonly ips: readonly string[];
  /**
   * interface networks, for rules with `useWorkloadSubnets`: per interface its network as a CIDR
   * ("10.1.2.0/24"; host bits are ignored) when the interface has a prefix, else its address.
   * Absent: the addresses (`ips`).
   */
  readonly subnets?: readonly string[];
  readonly enforcementMode: EnforcementMode;
}
