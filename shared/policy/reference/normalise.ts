/**
 * A normal form of a compiled policy that does not depend on how a compiler names or splits its IP sets:
 * per direction, (ruleId, canonical services, expanded peer members), with entries of the same rule and
 * services merged (allow rules are a union) and everything sorted. Used to compare PolicyCompiler with
 * ReferenceCompiler.
 */
import type { CompiledIpSet, CompiledPolicy, CompiledRule, IpSetId } from '../compiled.ts';
import { IpRangeSet } from '../ip/ranges.ts';
import { ANY_PROTOCOL, type EnforcementMode, type ServicePort, type WorkloadId } from '../model.ts';

export interface NormalisedRule {
  readonly ruleId: number;
  /** "proto" (every port) or "proto:port" / "proto:from-to", merged and sorted */
  readonly services: readonly string[];
  /** the peer set's members */
  readonly peers: readonly string[];
  /** present for deny rules (enforcement boundaries) only */
  readonly action?: 'deny';
}

export interface NormalisedPolicy {
  readonly workloadId: WorkloadId;
  readonly policyVersion: number;
  readonly enforcementMode: EnforcementMode;
  readonly enforced: boolean;
  readonly defaultDeny: boolean;
  readonly inbound: readonly NormalisedRule[];
  readonly outbound: readonly NormalisedRule[];
}

/** Canonical service strings: per protocol, every port (no port, or 0-65535) or merged port ranges; "-1" alone for any protocol. */
export function normaliseServices(ports: readonly ServicePort[]): string[] {
  if (ports.some((p) => p.proto === ANY_PROTOCOL)) return [String(ANY_PROTOCOL)];
  const protos = [...new Set(ports.map((p) => p.proto))].sort((a, b) => a - b);
  const out: string[] = [];
  for (const proto of protos) {
    const mine = ports.filter((p) => p.proto === proto);
    if (mine.some((p) => p.port === undefined)) {
      out.push(String(proto));
      continue;
    }
    const ranges = mine.map((p) => [p.port ?? 0, p.toPort ?? p.port ?? 0] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged: [number, number][] = [];
    for (const [s, e] of ranges) {
      const last = merged[merged.length - 1];
      if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    if (merged.length === 1 && merged[0]?.[0] === 0 && merged[0][1] === 65535) out.push(String(proto));
    else for (const [s, e] of merged) out.push(s === e ? `${proto}:${s}` : `${proto}:${s}-${e}`);
  }
  return out;
}

function normaliseRules(rules: readonly CompiledRule[], ipSet: (id: IpSetId) => CompiledIpSet): NormalisedRule[] {
  const merged = new Map<string, { ruleId: number; services: string[]; peers: IpRangeSet; deny: boolean }>();
  for (const r of rules) {
    const services = normaliseServices(r.services);
    const deny = r.action === 'deny';
    const key = `${deny ? 'D' : 'A'} ${r.ruleId} ${services.join(',')}`;
    const peers = IpRangeSet.parse(ipSet(r.peers).members);
    const cur = merged.get(key);
    if (cur) cur.peers = cur.peers.union(peers);
    else merged.set(key, { ruleId: r.ruleId, services, peers, deny });
  }
  const text = (m: { deny: boolean; services: readonly string[] }): string => `${m.deny ? 'D' : 'A'} ${m.services.join(',')}`;
  return [...merged.values()]
    .sort((a, b) => a.ruleId - b.ruleId || (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0))
    .map((m) => ({ ruleId: m.ruleId, services: m.services, peers: m.peers.toMembers(), ...(m.deny ? { action: 'deny' as const } : {}) }));
}

export function normalisePolicy(policy: CompiledPolicy, ipSet: (id: IpSetId) => CompiledIpSet): NormalisedPolicy {
  return {
    workloadId: policy.workloadId,
    policyVersion: policy.policyVersion,
    enforcementMode: policy.enforcementMode,
    enforced: policy.enforced,
    defaultDeny: policy.defaultDeny,
    inbound: normaliseRules(policy.inbound, ipSet),
    outbound: normaliseRules(policy.outbound, ipSet),
  };
}
