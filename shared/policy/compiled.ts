/**
 * The compiled policy format (documented in docs/compiled-policy.md): what one workload enforces.
 * Rules refer to IP sets by id; set contents are kept apart so that a workload's IP change updates
 * set contents, not rules.
 *
 * The VEN receives the rules in the wire form of the VEN protocol (`toVenRules`, shared/ven/protocol.ts),
 * and `rulesHash` is the SHA-256 of that form (`rulesHashOf`): a VEN recomputes it to verify what it
 * applied. It covers the enforcement mode and the rules, not the policy version nor set contents, so a
 * provision that leaves a workload's rules as they were leaves its hash (and what it must fetch) as it was.
 */
import { createHash } from 'node:crypto';
import type { VenRuleV1, VenRulesV1 } from '../ven/protocol.ts';
import type { EnforcementMode, ServicePort, WorkloadId } from './model.ts';

/** Stable id of an IP set, derived from what selects its members (e.g. `ls:<hash>` for an actor expression). */
export type IpSetId = string;

export interface CompiledRule {
  /** the policy rule this came from */
  readonly ruleId: number;
  /** inbound: peers allowed to connect in; outbound: peers this workload may connect to */
  readonly peers: IpSetId;
  /** `{ proto: -1 }` (any protocol) is one entry and then the only one */
  readonly services: readonly ServicePort[];
  /** absent: allow; 'deny': an enforcement boundary (ruleId is the boundary's id), applied after every allow rule */
  readonly action?: 'deny';
}

export interface CompiledPolicy {
  readonly workloadId: WorkloadId;
  readonly policyVersion: number;
  readonly enforcementMode: EnforcementMode;
  /** idle: none; visibility_only: computed, not enforced; selective/full: enforced (full = default deny) */
  readonly enforced: boolean;
  readonly defaultDeny: boolean;
  readonly inbound: readonly CompiledRule[];
  readonly outbound: readonly CompiledRule[];
  /** ids of the IP sets the rules refer to (their contents: CompiledIpSet) */
  readonly ipSetIds: readonly IpSetId[];
  /** rulesHashOf(toVenRules(this)): sha256 over mode and rules (not the version, not set contents) */
  readonly rulesHash: string;
}

export interface CompiledIpSet {
  readonly id: IpSetId;
  /** sorted, merged, disjoint ranges as "a.b.c.d-e.f.g.h" or single "a.b.c.d" strings (IPv6 likewise) */
  readonly members: readonly string[];
  readonly hash: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

type VenService = VenRuleV1['services'][number];

/** A service in wire form: `{proto}`, `{proto, port}` or `{proto, port, to_port}` (key order fixed: it is hashed). */
function toVenService(s: ServicePort): VenService {
  if (s.port === undefined) return { proto: s.proto };
  return s.toPort === undefined ? { proto: s.proto, port: s.port } : { proto: s.proto, port: s.port, to_port: s.toPort };
}

/** A compiled rule in the VEN protocol's wire form (key order fixed: it is hashed). */
export function toVenRule(rule: CompiledRule): VenRuleV1 {
  const wire = { rule_id: rule.ruleId, peers: rule.peers, services: rule.services.map(toVenService) };
  // allow rules keep their wire form (and hash) as before boundaries existed
  return rule.action === 'deny' ? { ...wire, action: 'deny' } : wire;
}

/** A compiled rule from its wire form. */
export function fromVenRule(r: VenRuleV1): CompiledRule {
  const services = r.services.map((s) => ({ proto: s.proto, ...(s.port === undefined ? {} : { port: s.port }), ...(s.to_port === undefined ? {} : { toPort: s.to_port }) }));
  return r.action === 'deny' ? { ruleId: r.rule_id, peers: r.peers, services, action: 'deny' } : { ruleId: r.rule_id, peers: r.peers, services };
}

/** What a VEN receives for a workload: its mode and rules in wire form (snake_case). */
export function toVenRules(policy: CompiledPolicy): VenRulesV1 {
  return {
    enforcement_mode: policy.enforcementMode,
    enforced: policy.enforced,
    default_deny: policy.defaultDeny,
    inbound: policy.inbound.map(toVenRule),
    outbound: policy.outbound.map(toVenRule),
    ip_set_ids: [...policy.ipSetIds],
  };
}

/** The rules hash: sha256 (hex) of `JSON.stringify([enforcement_mode, inbound, outbound])`, the rules as sent. */
export function rulesHashOf(rules: Pick<VenRulesV1, 'enforcement_mode' | 'inbound' | 'outbound'>): string {
  return sha256(JSON.stringify([rules.enforcement_mode, rules.inbound, rules.outbound]));
}

/** The hash of every idle workload (no rules). */
export const IDLE_RULES_HASH = rulesHashOf({ enforcement_mode: 'idle', inbound: [], outbound: [] });

/**
 * `JSON.stringify([inbound, outbound])` in wire form: the text of a rule list independent of the mode.
 * One stringify serves the hash of every mode (rulesHashOfListText) and the list's content address.
 */
export function ruleListText(inbound: readonly CompiledRule[], outbound: readonly CompiledRule[]): string {
  return JSON.stringify([inbound.map(toVenRule), outbound.map(toVenRule)]);
}

/** rulesHashOf for `mode` over a list given as ruleListText: `[mode,inbound,outbound]` is that text with the mode put in front. */
export function rulesHashOfListText(mode: EnforcementMode, listText: string): string {
  return sha256(`[${JSON.stringify(mode)},${listText.slice(1)}`);
}

/** The content address of a rule list (sha256 of its ruleListText). */
export function ruleListIdOf(listText: string): string {
  return sha256(listText);
}
