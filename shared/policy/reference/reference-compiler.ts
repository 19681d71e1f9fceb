/**
 * The reference compiler: the rule semantics of shared/policy/model.ts evaluated literally and slowly,
 * to check PolicyCompiler against. For one workload it loops over every rule set, every rule, every scope
 * and every workload; no index, no sharing, no caching. Its IP set ids are its own (one set per compiled
 * rule); compare outputs with normalisePolicy (./normalise.ts).
 *
 * Scopes: a rule set with several scopes applies within each scope separately: for scope S,
 *   providers_S = workloads selected by the providers and in S,
 *   consumers_S = workloads selected by the consumers, and in S unless the rule is extra-scope;
 * a workload W gets, per rule, one inbound rule from the union over { S : W in providers_S } of consumers_S,
 * and one outbound rule to the union over { S : W in consumers_S } of providers_S, plus (either way) the
 * other side's IP-list ranges. An empty scope list is the single scope "all workloads".
 * Services: any protocol (proto -1) subsumes every other entry of the rule, which is then `[{ proto: -1 }]`;
 * a rule without ingress services takes its virtual-service providers' ports.
 * Virtual services: an actor selects the workloads bound to it, plus its service addresses' ranges.
 * Resolve labels as: a side's label actors select the workloads matching them when its resolveLabelsAs
 * list has `workloads` (absent: it does), and the virtual services whose labels match them when it has
 * `virtual_services`, each then like a virtual_service actor (bound workloads, addresses, ports).
 * Workload subnets: when the rule's useWorkloadSubnets names the peers' side, a peer workload contributes
 * its `subnets` (each a CIDR or an address; absent: its `ips`) instead of its `ips`.
 * Enforcement boundaries: after the rules, per boundary, W gets an inbound deny (action 'deny') from the
 * boundary's consumers when its providers select W, and an outbound deny to its providers when its
 * consumers select W (no scopes).
 */
import { createHash } from 'node:crypto';
import { rulesHashOf, toVenRule, type CompiledIpSet, type CompiledPolicy, type CompiledRule, type IpSetId } from '../compiled.ts';
import { parseIp } from '../ip/address.ts';
import { IpRangeSet, parseIpRangeSpec } from '../ip/ranges.ts';
import { ANY_PROTOCOL, type Actor, type IngressService, type LabelId, type ObjectId, type PolicyRule, type ResolveAs, type PolicySnapshot, type PolicyVirtualService, type ScopeEntry, type ServicePort, type WorkloadFacts, type WorkloadId } from '../model.ts';
import { expandGroupLabels } from '../objects/label-group-graph.ts';

export interface ReferenceResult {
  readonly policy: CompiledPolicy;
  readonly ipSets: ReadonlyMap<IpSetId, CompiledIpSet>;
}

export class ReferenceCompiler {
  constructor(
    private readonly snapshot: PolicySnapshot,
    private readonly workloads: readonly WorkloadFacts[],
  ) {}

  compile(workloadId: WorkloadId): ReferenceResult | null {
    const w = this.workloads.find((x) => x.id === workloadId);
    if (!w) return null;
    const mode = w.enforcementMode;
    const inbound: CompiledRule[] = [];
    const outbound: CompiledRule[] = [];
    const ipSets = new Map<IpSetId, CompiledIpSet>();
    if (mode !== 'idle') {
      for (const rs of this.snapshot.ruleSets) {
        if (!rs.enabled) continue;
        const scopes: readonly (readonly ScopeEntry[])[] = rs.scopes.length === 0 ? [[]] : rs.scopes;
        for (const rule of rs.rules) {
          if (!rule.enabled) continue;
          // inbound: w as a provider
          let applies = false;
          let peers: WorkloadFacts[] = [];
          for (const scope of scopes) {
            if (this.selects(rule.providers, w, rule.resolveLabelsAs?.providers) && this.inScope(w, scope)) {
              applies = true;
              for (const v of this.workloads) {
                if (this.selects(rule.consumers, v, rule.resolveLabelsAs?.consumers) && (rule.unscopedConsumers || this.inScope(v, scope))) peers.push(v);
              }
            }
          }
          if (applies) inbound.push(this.emit(rule, `in:${rs.id}:${rule.id}`, peers, rule.consumers, ipSets, rule.useWorkloadSubnets?.includes('consumers') === true, rule.resolveLabelsAs?.consumers));
          // outbound: w as a consumer
          applies = false;
          peers = [];
          for (const scope of scopes) {
            if (this.selects(rule.consumers, w, rule.resolveLabelsAs?.consumers) && (rule.unscopedConsumers || this.inScope(w, scope))) {
              applies = true;
              for (const v of this.workloads) {
                if (this.selects(rule.providers, v, rule.resolveLabelsAs?.providers) && this.inScope(v, scope)) peers.push(v);
              }
            }
          }
          if (applies) outbound.push(this.emit(rule, `out:${rs.id}:${rule.id}`, peers, rule.providers, ipSets, rule.useWorkloadSubnets?.includes('providers') === true, rule.resolveLabelsAs?.providers));
        }
      }
      for (const b of this.snapshot.enforcementBoundaries ?? []) {
        const deny = (setId: string, peerActors: readonly Actor[]): CompiledRule => ({
          ...this.emit({ id: b.id, ingressServices: b.ingressServices, providers: b.providers }, setId, this.workloads.filter((v) => this.selects(peerActors, v)), peerActors, ipSets, false),
          action: 'deny',
        });
        if (this.selects(b.providers, w)) inbound.push(deny(`deny-in:${b.id}`, b.consumers));
        if (this.selects(b.consumers, w)) outbound.push(deny(`deny-out:${b.id}`, b.providers));
      }
    }
    const policy: CompiledPolicy = {
      workloadId,
      policyVersion: this.snapshot.version,
      enforcementMode: mode,
      enforced: mode === 'selective' || mode === 'full',
      defaultDeny: mode === 'full',
      inbound,
      outbound,
      ipSetIds: [...ipSets.keys()],
      rulesHash: rulesHashOf({ enforcement_mode: mode, inbound: inbound.map(toVenRule), outbound: outbound.map(toVenRule) }),
    };
    return { policy, ipSets };
  }

  private emit(
    rule: Pick<PolicyRule, 'id' | 'ingressServices' | 'providers' | 'resolveLabelsAs'>,
    setId: string,
    peers: readonly WorkloadFacts[],
    actors: readonly Actor[],
    ipSets: Map<IpSetId, CompiledIpSet>,
    subnets: boolean,
    resolve: readonly ResolveAs[] = ['workloads'],
  ): CompiledRule {
    let members = subnets ? IpRangeSet.fromRanges(peers.flatMap((v) => (v.subnets ?? v.ips).map((net) => parseIpRangeSpec(net)))) : IpRangeSet.fromIps(peers.flatMap((v) => v.ips.map((ip) => parseIp(ip))));
    for (const a of actors) {
      if (a.kind === 'ip_list') {
        const list = this.snapshot.ipLists.find((l) => l.id === a.id);
        if (!list) throw new Error(`unknown IP list ${a.id}`);
        members = members.union(IpRangeSet.fromIpList(list.ipRanges));
      } else if (a.kind === 'virtual_service') {
        members = members.union(IpRangeSet.fromIpList(this.virtualService(a.id).ipRanges));
      }
    }
    for (const vs of this.labelledVirtualServices(actors, resolve)) members = members.union(IpRangeSet.fromIpList(vs.ipRanges));
    const m = members.toMembers();
    ipSets.set(`ref:${setId}`, { id: `ref:${setId}`, members: m, hash: createHash('sha256').update(m.join('\n')).digest('hex') });
    return { ruleId: rule.id, peers: `ref:${setId}`, services: this.servicesOf(rule.ingressServices, rule.providers, rule.resolveLabelsAs?.providers) };
  }

  /** the virtual services the label actors select when they resolve as virtual services */
  private labelledVirtualServices(actors: readonly Actor[], resolve: readonly ResolveAs[] = ['workloads']): PolicyVirtualService[] {
    if (!resolve.includes('virtual_services')) return [];
    const labelEntries: ScopeEntry[] = [];
    for (const a of actors) if (a.kind === 'label' || a.kind === 'label_group') labelEntries.push(a);
    if (labelEntries.length === 0) return [];
    return (this.snapshot.virtualServices ?? []).filter((vs) => this.matchesLabels(labelEntries, vs.labels ?? []));
  }

  private virtualService(id: ObjectId): PolicyVirtualService {
    const vs = (this.snapshot.virtualServices ?? []).find((x) => x.id === id);
    if (!vs) throw new Error(`unknown virtual service ${id}`);
    return vs;
  }

  private servicesOf(ingress: readonly IngressService[], providers: readonly Actor[], resolve?: readonly ResolveAs[]): ServicePort[] {
    const out: ServicePort[] = [];
    if (ingress.length === 0) for (const a of providers) if (a.kind === 'virtual_service') out.push(...this.virtualService(a.id).servicePorts);
    if (ingress.length === 0) for (const vs of this.labelledVirtualServices(providers, resolve)) out.push(...vs.servicePorts);
    for (const s of ingress) {
      if (s.kind === 'service') {
        const svc = this.snapshot.services.find((x) => x.id === s.id);
        if (!svc) throw new Error(`unknown service ${s.id}`);
        out.push(...svc.servicePorts);
      } else {
        out.push({ proto: s.proto, port: s.port, toPort: s.toPort });
      }
    }
    return out.some((p) => p.proto === ANY_PROTOCOL) ? [{ proto: ANY_PROTOCOL }] : out;
  }

  /**
   * an actor list selects v: ams, or v listed, or bound to a listed virtual service, or (label actors resolved
   * as workloads) v matching the label expression of the label actors, or (resolved as virtual services) v
   * bound to a virtual service matching it
   */
  private selects(actors: readonly Actor[], v: WorkloadFacts, resolve: readonly ResolveAs[] = ['workloads']): boolean {
    for (const a of actors) {
      if (a.kind === 'ams') return true;
      if (a.kind === 'workload' && a.id === v.id) return true;
      if (a.kind === 'virtual_service' && this.virtualService(a.id).workloads.includes(v.id)) return true;
    }
    if (this.labelledVirtualServices(actors, resolve).some((vs) => vs.workloads.includes(v.id))) return true;
    const labelEntries: ScopeEntry[] = [];
    for (const a of actors) if (a.kind === 'label' || a.kind === 'label_group') labelEntries.push(a);
    if (labelEntries.length === 0 || !resolve.includes('workloads')) return false;
    return this.matchesLabels(labelEntries, v.labels);
  }

  private inScope(v: WorkloadFacts, scope: readonly ScopeEntry[]): boolean {
    if (scope.length === 0) return true;
    return this.matchesLabels(scope, v.labels);
  }

  /** labels of the same key OR'ed, different keys AND'ed; a label group stands for its labels (recursively) */
  private matchesLabels(entries: readonly ScopeEntry[], labels: readonly LabelId[]): boolean {
    const allowedByKey = new Map<string, Set<LabelId>>();
    for (const e of entries) {
      let key: string;
      let labels: LabelId[];
      if (e.kind === 'label') {
        const label = this.snapshot.labels.find((l) => l.id === e.id);
        if (!label) throw new Error(`unknown label ${e.id}`);
        key = label.key;
        labels = [e.id];
      } else {
        const group = this.snapshot.labelGroups.find((g) => g.id === e.id);
        if (!group) throw new Error(`unknown label group ${e.id}`);
        key = group.key;
        labels = this.groupLabels(e.id);
      }
      const allowed = allowedByKey.get(key) ?? new Set<LabelId>();
      labels.forEach((l) => allowed.add(l));
      allowedByKey.set(key, allowed);
    }
    for (const allowed of allowedByKey.values()) {
      if (!labels.some((l) => allowed.has(l))) return false;
    }
    return true;
  }

  private groupsById: ReadonlyMap<ObjectId, PolicySnapshot['labelGroups'][number]> | null = null;

  private groupLabels(id: ObjectId): LabelId[] {
    this.groupsById ??= new Map(this.snapshot.labelGroups.map((g) => [g.id, g]));
    return [
      ...expandGroupLabels(this.groupsById, id, (missing) => {
        throw new Error(`unknown label group ${missing}`);
      }),
    ];
  }
}
