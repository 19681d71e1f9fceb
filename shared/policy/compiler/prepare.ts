/**
 * Snapshot preparation: validates references, expands label groups, turns scopes and actor lists into
 * canonical label expressions, services into canonical port lists and IP lists into range sets.
 * Disabled rule sets and rules are dropped here (they contribute nothing).
 */
import { IpRangeSet } from '../ip/ranges.ts';
import type { Actor, IngressService, LabelId, ObjectId, PolicyIpList, PolicyLabelGroup, PolicySnapshot, ResolveAs, ScopeEntry, ServicePort, WorkloadId } from '../model.ts';
import { expandGroupLabels, reachableGroups } from '../objects/label-group-graph.ts';
import { PolicyValidationError } from './errors.ts';
import { MATCH_ALL, makeExpr, matchExpr, type LabelExpr } from './expr.ts';
import { canonicalServices, validateServicePort } from './services.ts';

/** One side of a rule (providers or consumers), normalised. */
export interface ActorSide {
  /** the AND/OR label expression of the label and label-group actors; null when there are none */
  readonly expr: LabelExpr | null;
  /** `ams`: every workload */
  readonly ams: boolean;
  /** workloads listed by id (empty when `ams`) */
  readonly named: ReadonlySet<WorkloadId>;
  readonly ipListIds: readonly ObjectId[];
  /** the virtual services the side selects (listed, or matched by its labels when they resolve as virtual services), sorted */
  readonly virtualServiceIds: readonly ObjectId[];
  /** the listed IP lists' contents (ranges minus exclusions) */
  readonly ipRanges: IpRangeSet;
  /** whether the side can select any workload at all */
  readonly hasWorkloadPart: boolean;
  /** whether the side's workloads stand for their interfaces' subnets, not their addresses (`use_workload_subnets`; only with a workload part) */
  readonly subnets: boolean;
  /** canonical text of the workload-selecting part ('' when none) */
  readonly workloadCanon: string;
  /** canonical text of the IP-list part */
  readonly ipListCanon: string;
}

/** An OR of scopes restricting the workloads of a side; `scopes: null` = no restriction. */
export interface Restriction {
  readonly scopes: readonly LabelExpr[] | null;
  readonly canon: string;
}

export const UNRESTRICTED: Restriction = Object.freeze({ scopes: null, canon: '*' });

export interface PreparedRule {
  /** position in PreparedPolicy.rules */
  readonly index: number;
  readonly ruleId: number;
  readonly ruleSet: PreparedRuleSet;
  readonly providers: ActorSide;
  readonly consumers: ActorSide;
  readonly services: readonly ServicePort[];
  readonly servicesCanon: string;
  readonly unscopedConsumers: boolean;
}

/** An enforcement boundary, prepared like a rule (no scope); its compiled rules are denies. */
export interface PreparedBoundary {
  /** PreparedPolicy.rules.length + position in PreparedPolicy.boundaries (unique among rules and boundaries) */
  readonly index: number;
  readonly ruleId: number;
  readonly providers: ActorSide;
  readonly consumers: ActorSide;
  readonly services: readonly ServicePort[];
  readonly servicesCanon: string;
  readonly deny: true;
}

export interface PreparedRuleSet {
  /** position in PreparedPolicy.ruleSets */
  readonly index: number;
  readonly id: ObjectId;
  /** at least one; MATCH_ALL for an unscoped rule set */
  readonly scopes: readonly LabelExpr[];
  readonly rules: PreparedRule[];
  /** the OR of all scopes (what extra-scope consumers may reach) */
  readonly allScopes: Restriction;
  /** restriction per matched-scope subset, keyed by the matched indices */
  readonly restrictionCache: Map<string, Restriction>;
}

export interface PreparedPolicy {
  readonly version: number;
  readonly ruleSets: readonly PreparedRuleSet[];
  readonly rules: readonly PreparedRule[];
  readonly boundaries: readonly PreparedBoundary[];
  /** every label some scope or actor expression mentions: only these matter for matching */
  readonly referencedLabels: ReadonlySet<LabelId>;
  /** workloads listed by id in some actor */
  readonly namedWorkloads: ReadonlySet<WorkloadId>;
  /** whether some rule side uses workload subnets (only then does the compiler read WorkloadFacts.subnets) */
  readonly usesSubnets: boolean;
}

/** The restriction "in one of these scopes" (canonical: sorted, de-duplicated; match-all absorbs the rest). */
export function restrictionOf(scopes: readonly LabelExpr[]): Restriction {
  if (scopes.length === 0) throw new Error('restrictionOf: no scope');
  if (scopes.some((s) => s.clauses.length === 0)) return UNRESTRICTED;
  const unique = new Map<string, LabelExpr>();
  for (const s of scopes) unique.set(s.canon, s);
  const sorted = [...unique.keys()].sort();
  return { scopes: sorted.map((k) => unique.get(k) as LabelExpr), canon: sorted.map((k) => `[${k}]`).join('|') };
}

export function preparePolicy(snapshot: PolicySnapshot): PreparedPolicy {
  if (!Number.isInteger(snapshot.version)) throw new PolicyValidationError(`policy version must be an integer, got ${String(snapshot.version)}`);
  const labelKey = new Map<LabelId, string>();
  for (const l of snapshot.labels) labelKey.set(l.id, l.key);
  const groups = new Map<ObjectId, PolicyLabelGroup>();
  for (const g of snapshot.labelGroups) groups.set(g.id, g);
  const services = new Map<ObjectId, readonly ServicePort[]>();
  for (const s of snapshot.services) {
    s.servicePorts.forEach((p, i) => validateServicePort(p, `service ${s.id} port ${i}`));
    services.set(s.id, s.servicePorts);
  }
  const ipListById = new Map<ObjectId, PolicyIpList>();
  for (const l of snapshot.ipLists) ipListById.set(l.id, l);
  const ipListRanges = new Map<ObjectId, IpRangeSet>();
  const ipListSet = (id: ObjectId, where: string): IpRangeSet => {
    let set = ipListRanges.get(id);
    if (set) return set;
    const list = ipListById.get(id);
    if (!list) throw new PolicyValidationError(`${where}: unknown IP list ${id}`);
    set = IpRangeSet.fromIpList(list.ipRanges);
    ipListRanges.set(id, set);
    return set;
  };

  const virtualServices = new Map<ObjectId, { ports: readonly ServicePort[]; ranges: IpRangeSet; workloads: readonly WorkloadId[]; labels: readonly LabelId[] }>();
  for (const vs of snapshot.virtualServices ?? []) {
    vs.servicePorts.forEach((p, i) => validateServicePort(p, `virtual service ${vs.id} port ${i}`));
    virtualServices.set(vs.id, { ports: vs.servicePorts, ranges: IpRangeSet.fromIpList(vs.ipRanges), workloads: vs.workloads, labels: vs.labels ?? [] });
  }
  const virtualService = (id: ObjectId, where: string) => {
    const vs = virtualServices.get(id);
    if (!vs) throw new PolicyValidationError(`${where}: unknown virtual service ${id}`);
    return vs;
  };

  const groupLabels = new Map<ObjectId, ReadonlySet<LabelId>>();
  const expandGroup = (id: ObjectId, where: string): ReadonlySet<LabelId> => {
    const done = groupLabels.get(id);
    if (done) return done;
    const out = expandGroupLabels(groups, id, (gid) => {
      throw new PolicyValidationError(`${where}: unknown label group ${gid}`);
    });
    const unknown = [...out].find((l) => !labelKey.has(l));
    if (unknown !== undefined) {
      // the group that names it, for the message
      const holder = [id, ...reachableGroups(groups, [id])].find((gid) => groups.get(gid)?.labels.includes(unknown)) ?? id;
      throw new PolicyValidationError(`label group ${holder}: unknown label ${unknown}`);
    }
    groupLabels.set(id, out);
    return out;
  };

  const referenced = new Set<LabelId>();
  /** label and label-group entries -> expression (same key OR'ed, keys AND'ed) */
  const exprOf = (entries: readonly ScopeEntry[], where: string): LabelExpr => {
    const byKey = new Map<string, Set<LabelId>>();
    for (const e of entries) {
      let key: string;
      let labels: Iterable<LabelId>;
      if (e.kind === 'label') {
        const k = labelKey.get(e.id);
        if (k === undefined) throw new PolicyValidationError(`${where}: unknown label ${e.id}`);
        key = k;
        labels = [e.id];
      } else {
        const g = groups.get(e.id);
        if (!g) throw new PolicyValidationError(`${where}: unknown label group ${e.id}`);
        key = g.key;
        labels = expandGroup(e.id, where);
      }
      let set = byKey.get(key);
      if (!set) byKey.set(key, (set = new Set()));
      for (const l of labels) {
        set.add(l);
        referenced.add(l);
      }
    }
    return byKey.size === 0 ? MATCH_ALL : makeExpr(byKey);
  };

  const namedWorkloads = new Set<WorkloadId>();
  const sideOf = (actors: readonly Actor[], where: string, useSubnets = false, resolveAs: readonly ResolveAs[] = ['workloads']): ActorSide => {
    if (!Array.isArray(resolveAs) || resolveAs.some((r) => r !== 'workloads' && r !== 'virtual_services')) throw new PolicyValidationError(`${where}: resolveLabelsAs lists values other than workloads and virtual_services`);
    const labelEntries: ScopeEntry[] = [];
    const named = new Set<WorkloadId>();
    const ipLists = new Set<ObjectId>();
    const vsIds = new Set<ObjectId>();
    let ams = false;
    for (const a of actors) {
      switch (a.kind) {
        case 'label':
        case 'label_group':
          labelEntries.push(a);
          break;
        case 'ams':
          ams = true;
          break;
        case 'workload':
          if (typeof a.id !== 'string' || a.id === '') throw new PolicyValidationError(`${where}: bad workload id`);
          named.add(a.id);
          break;
        case 'ip_list':
          ipListSet(a.id, where);
          ipLists.add(a.id);
          break;
        case 'virtual_service':
          // its bound workloads, by id, and its service addresses, like an IP list
          for (const w of virtualService(a.id, where).workloads) named.add(w);
          vsIds.add(a.id);
          break;
        default:
          throw new PolicyValidationError(`${where}: unknown actor kind ${JSON.stringify((a as { kind: unknown }).kind)}`);
      }
    }
    let expr = labelEntries.length > 0 ? exprOf(labelEntries, where) : null;
    // label actors resolved as virtual services: the virtual services with matching labels, each like a virtual_service actor
    if (expr && resolveAs.includes('virtual_services')) {
      for (const [id, vs] of virtualServices) {
        if (!matchExpr(expr, vs.labels)) continue;
        for (const w of vs.workloads) named.add(w);
        vsIds.add(id);
      }
    }
    if (!resolveAs.includes('workloads')) expr = null;
    if (ams) named.clear();
    named.forEach((w) => namedWorkloads.add(w));
    const ipListIds = [...ipLists].sort((a, b) => a - b);
    const vsList = [...vsIds].sort((a, b) => a - b);
    let ipRanges = ipListIds.reduce((acc, id) => acc.union(ipListSet(id, where)), IpRangeSet.EMPTY);
    for (const id of vsList) ipRanges = ipRanges.union(virtualService(id, where).ranges);
    const hasWorkloadPart = ams || expr !== null || named.size > 0;
    const subnets = useSubnets && hasWorkloadPart;
    const selected = ams ? 'ams' : hasWorkloadPart ? `e=${expr ? `{${expr.canon}}` : '-'};w=${[...named].sort().join(',')}` : '';
    const workloadCanon = subnets ? `${selected};subnets` : selected;
    const ipListCanon = vsList.length === 0 ? ipListIds.join(',') : `${ipListIds.join(',')};vs=${vsList.join(',')}`;
    return { expr: ams ? null : expr, ams, named, ipListIds, virtualServiceIds: vsList, ipRanges, hasWorkloadPart, subnets, workloadCanon, ipListCanon };
  };

  const servicesOf = (ingress: readonly IngressService[], where: string, providerVirtualServices: readonly ObjectId[] = []): ServicePort[] => {
    const out: ServicePort[] = [];
    // a rule without ingress services takes its virtual-service providers' ports
    if (ingress.length === 0) for (const id of providerVirtualServices) out.push(...virtualService(id, where).ports);
    for (const s of ingress) {
      if (s.kind === 'service') {
        const ports = services.get(s.id);
        if (!ports) throw new PolicyValidationError(`${where}: unknown service ${s.id}`);
        out.push(...ports);
      } else if (s.kind === 'port') {
        const p: ServicePort = { proto: s.proto, ...(s.port !== undefined ? { port: s.port } : {}), ...(s.toPort !== undefined ? { toPort: s.toPort } : {}) };
        validateServicePort(p, where);
        out.push(p);
      } else {
        throw new PolicyValidationError(`${where}: unknown ingress service kind`);
      }
    }
    return out;
  };

  const ruleSets: PreparedRuleSet[] = [];
  const rules: PreparedRule[] = [];
  for (const rs of snapshot.ruleSets) {
    if (!rs.enabled) continue;
    const where = `rule set ${rs.id}`;
    const scopes = rs.scopes.length === 0 ? [MATCH_ALL] : rs.scopes.map((s, i) => exprOf(s, `${where} scope ${i}`));
    const prepared: PreparedRuleSet = { index: ruleSets.length, id: rs.id, scopes, rules: [], allScopes: restrictionOf(scopes), restrictionCache: new Map() };
    ruleSets.push(prepared);
    for (const r of rs.rules) {
      if (!r.enabled) continue;
      const rw = `${where} rule ${r.id}`;
      const subnetSides = r.useWorkloadSubnets ?? [];
      if (!Array.isArray(subnetSides) || subnetSides.some((side) => side !== 'providers' && side !== 'consumers')) throw new PolicyValidationError(`${rw}: useWorkloadSubnets lists sides other than providers and consumers`);
      const providers = sideOf(r.providers, `${rw} providers`, subnetSides.includes('providers'), r.resolveLabelsAs?.providers);
      const consumers = sideOf(r.consumers, `${rw} consumers`, subnetSides.includes('consumers'), r.resolveLabelsAs?.consumers);
      const svc = canonicalServices(servicesOf(r.ingressServices, rw, providers.virtualServiceIds));
      const rule: PreparedRule = {
        index: rules.length,
        ruleId: r.id,
        ruleSet: prepared,
        providers,
        consumers,
        services: svc.ports,
        servicesCanon: svc.canon,
        unscopedConsumers: r.unscopedConsumers,
      };
      prepared.rules.push(rule);
      rules.push(rule);
    }
  }
  const boundaries: PreparedBoundary[] = (snapshot.enforcementBoundaries ?? []).map((b, i) => {
    const where = `enforcement boundary ${b.id}`;
    const svc = canonicalServices(servicesOf(b.ingressServices, where));
    return {
      index: rules.length + i,
      ruleId: b.id,
      providers: sideOf(b.providers, `${where} providers`),
      consumers: sideOf(b.consumers, `${where} consumers`),
      services: svc.ports,
      servicesCanon: svc.canon,
      deny: true,
    };
  });
  const usesSubnets = rules.some((r) => r.providers.subnets || r.consumers.subnets);
  return { version: snapshot.version, ruleSets, rules, boundaries, referencedLabels: referenced, namedWorkloads, usesSubnets };
}
