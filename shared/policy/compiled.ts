/**
 * The compiled policy format (documented in docs/compiled-policy.md): what one workload enforces.
 * Rules refer to IP sets by id; set contents are kept apart so that a workload's IP change updates
 * set contents, not rules.
 */
import type { EnforcementMode, ServicePort, WorkloadId } from './model.ts';

/** Stable id of an IP set, derived from what selects its members (e.g. `ls:<hash>` for an actor expression). */
export type IpSetId = string;

export interface CompiledRule {
  /** the policy rule this came from */
  readonly ruleId: number;
  /** inbound: peers allowed to connect in; outbound: peers this workload may connect to */
  readonly peers: IpSetId;
  readonly services: readonly ServicePort[];
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
  /** sha256 over mode, version and rules (not set contents) */
  readonly rulesHash: string;
}

export interface CompiledIpSet {
  readonly id: IpSetId;
  /** sorted, merged, disjoint ranges as "a.b.c.d-e.f.g.h" or single "a.b.c.d" strings (IPv6 likewise) */
  readonly members: readonly string[];
  readonly hash: string;
}
