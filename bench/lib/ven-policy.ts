/**
 * What a simulated VEN holds of its policy, and how it takes in what the PCE sends (docs/ven-protocol.md):
 * a full or delta answer of `POST /api/v2/ven/v1/policy`, or a `policy` push of the VEN channel. Pure:
 * every function returns a new HeldPolicy (or says why it cannot), nothing is mutated, so the simulator's
 * unit tests drive it without a PCE.
 *
 * What is verified before anything is applied (a VEN must never enforce rules it cannot check):
 * - `rules_hash` = SHA-256 (hex) of `JSON.stringify([enforcement_mode, inbound, outbound])` with the rules
 *   as received (shared/policy/compiled.ts rulesHashOf, the PCE's own function);
 * - every IP set received has `hash` = SHA-256 of its members joined by `\n`;
 * - every set the rules use (`ip_set_ids` and every rule's `peers`) is held afterwards.
 */
import { createHash } from 'node:crypto';
import { rulesHashOf } from '../../shared/policy/compiled.ts';
import type { PolicyRequestV1, PolicyResponseV1, VenIpSetV1, VenPushV1, VenRulesV1 } from '../../shared/ven/protocol.ts';

export interface HeldIpSet {
  readonly members: readonly string[];
  readonly hash: string;
}

export interface HeldPolicy {
  readonly version: number;
  readonly rulesHash: string;
  readonly rules: VenRulesV1;
  /** set id -> contents: exactly the sets the rules use */
  readonly ipSets: ReadonlyMap<string, HeldIpSet>;
}

export type PolicyPush = Extract<VenPushV1, { type: 'policy' }>;

/** The answer or push could not be applied: what was wrong (the VEN keeps what it held). */
export class PolicyVerificationError extends Error {
  override readonly name = 'PolicyVerificationError';
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The VEN protocol's rules hash: SHA-256 (hex) of `JSON.stringify([enforcement_mode, inbound, outbound])`,
 * the rules as received: the PCE's own function (shared/policy/compiled.ts), so both sides hash alike.
 */
export const venRulesHash: (rules: Pick<VenRulesV1, 'enforcement_mode' | 'inbound' | 'outbound'>) => string = rulesHashOf;

/** An IP set's hash: SHA-256 (hex) of its members joined by `\n`. */
export function ipSetHash(members: readonly string[]): string {
  return sha256(members.join('\n'));
}

/** Every set id the rules refer to: `ip_set_ids` and each rule's `peers` (they should be the same). */
export function setsUsedBy(rules: VenRulesV1): Set<string> {
  const ids = new Set(rules.ip_set_ids);
  for (const r of rules.inbound) ids.add(r.peers);
  for (const r of rules.outbound) ids.add(r.peers);
  return ids;
}

function verifiedSets(sets: readonly VenIpSetV1[] | undefined): Map<string, HeldIpSet> {
  const out = new Map<string, HeldIpSet>();
  for (const s of sets ?? []) {
    const actual = ipSetHash(s.members);
    if (actual !== s.hash) throw new PolicyVerificationError(`IP set ${s.id}: hash ${s.hash} but its ${s.members.length} members hash to ${actual}`);
    out.set(s.id, { members: s.members, hash: s.hash });
  }
  return out;
}

function verifiedRules(rules: VenRulesV1, expectedHash: string): VenRulesV1 {
  const actual = venRulesHash(rules);
  if (actual !== expectedHash) throw new PolicyVerificationError(`rules_hash ${expectedHash} but the rules received hash to ${actual}`);
  const declared = new Set(rules.ip_set_ids);
  const missing = [...setsUsedBy(rules)].filter((id) => !declared.has(id));
  if (missing.length > 0) throw new PolicyVerificationError(`rules use sets not in ip_set_ids: ${missing.join(', ')}`);
  return rules;
}

/** The sets `rules` use taken from `available`; throws naming the ones missing. */
function completeSets(rules: VenRulesV1, available: ReadonlyMap<string, HeldIpSet>, what: string): Map<string, HeldIpSet> {
  const out = new Map<string, HeldIpSet>();
  const missing: string[] = [];
  for (const id of setsUsedBy(rules)) {
    const s = available.get(id);
    if (s) out.set(id, s);
    else missing.push(id);
  }
  if (missing.length > 0) throw new PolicyVerificationError(`${what}: the rules use IP sets neither held nor sent: ${missing.join(', ')}`);
  return out;
}

/** `have` of a policy request: what the VEN holds (undefined before its first policy: a full fetch). */
export function haveOf(held: HeldPolicy | null): PolicyRequestV1['have'] {
  if (!held) return undefined;
  return { rules_hash: held.rulesHash, ip_sets: Object.fromEntries([...held.ipSets].map(([id, s]) => [id, s.hash])) };
}

export interface AppliedAnswer {
  readonly held: HeldPolicy;
  /** discrepancies with the protocol that did not prevent applying (e.g. a held unused set the answer did not remove) */
  readonly notes: readonly string[];
}

/**
 * Applies a policy answer (full when `held` is null or the request had no `have`, else a delta against
 * `held`): rules when sent (else the held rules, whose hash must then be the answer's), the sets sent over
 * the held ones, minus `removed_ip_sets`. Throws PolicyVerificationError when the result cannot be verified.
 */
export function applyPolicyAnswer(held: HeldPolicy | null, answer: PolicyResponseV1): AppliedAnswer {
  const notes: string[] = [];
  let rules: VenRulesV1;
  if (answer.rules) rules = verifiedRules(answer.rules, answer.rules_hash);
  else if (held && held.rulesHash === answer.rules_hash) rules = held.rules;
  else throw new PolicyVerificationError(`the answer has no rules, and the VEN does not hold rules_hash ${answer.rules_hash} (it holds ${held?.rulesHash ?? 'nothing'})`);

  const sent = verifiedSets(answer.ip_sets);
  const available = new Map(held?.ipSets ?? []);
  for (const id of answer.removed_ip_sets) {
    if (!available.has(id)) notes.push(`removed_ip_sets names ${id}, which the VEN did not hold`);
    available.delete(id);
  }
  for (const [id, s] of sent) available.set(id, s);
  const ipSets = completeSets(rules, available, 'policy answer');
  const used = setsUsedBy(rules);
  for (const id of available.keys()) if (!used.has(id)) notes.push(`held set ${id} is no longer used but the answer did not remove it`);
  for (const [id, s] of sent) {
    if (!used.has(id)) notes.push(`the answer sent set ${id}, which the rules do not use`);
    const before = held?.ipSets.get(id);
    if (before && before.hash === s.hash) notes.push(`the answer sent set ${id}, which the VEN held with the same hash`);
  }
  return { held: { version: answer.policy_version, rulesHash: answer.rules_hash, rules, ipSets }, notes };
}

export type PushOutcome =
  | { readonly kind: 'applied'; readonly held: HeldPolicy }
  /** the push does not carry what is needed: fetch the delta */
  | { readonly kind: 'fetch'; readonly reason: string }
  /** the push is older than (or the same as) what the VEN holds */
  | { readonly kind: 'stale' };

/**
 * A `policy` push: applied at once when it carries the rules (or the VEN holds `rules_hash`) and every set
 * the rules use is held or sent; otherwise the VEN must fetch. Throws PolicyVerificationError when the
 * push's rules or sets do not match their hashes (the VEN then fetches in full).
 */
export function applyPolicyPush(held: HeldPolicy | null, push: PolicyPush): PushOutcome {
  if (held && push.policy_version < held.version) return { kind: 'stale' };
  let rules: VenRulesV1;
  if (push.rules) rules = verifiedRules(push.rules, push.rules_hash);
  else if (held && held.rulesHash === push.rules_hash) rules = held.rules;
  else return { kind: 'fetch', reason: held ? 'new rules_hash without rules' : 'no policy held yet' };
  const sent = verifiedSets(push.ip_sets);
  const available = new Map(held?.ipSets ?? []);
  for (const [id, s] of sent) available.set(id, s);
  const missing = [...setsUsedBy(rules)].filter((id) => !available.has(id));
  if (missing.length > 0) return { kind: 'fetch', reason: `${missing.length} IP set(s) neither held nor sent` };
  const ipSets = completeSets(rules, available, 'policy push');
  return { kind: 'applied', held: { version: push.policy_version, rulesHash: push.rules_hash, rules, ipSets } };
}

/** True when the VEN holds what the PCE says it should (heartbeat answer or push): same rules hash, version at least as new. */
export function holds(held: HeldPolicy | null, expected: { readonly policyVersion: number | null; readonly rulesHash: string | null }): boolean {
  if (expected.policyVersion === null || expected.rulesHash === null) return false;
  return held !== null && held.rulesHash === expected.rulesHash && held.version >= expected.policyVersion;
}
