/**
 * The VEN protocol, version 1 (docs/ven-protocol.md): the messages a VEN and its PCE exchange, as
 * versioned contracts validated where they enter (like ComputeJobV1). HTTP requests go to
 * `${VEN_API_BASE}/...` on the PCE the VEN reached; pushes arrive over the VEN channel (a WebSocket:
 * API Gateway WebSocket API in AWS, infra/local/ven-channel-server.ts locally).
 */
import { z } from 'zod';
import { interfaceSchema } from '../workloads/workload.ts';

export const VEN_PROTOCOL_VERSION = 1;
/** Base path of the VEN protocol's HTTP calls. */
export const VEN_API_BASE = '/api/v2/ven/v1';

/** An activation code: 2 hex digits naming the PCE that generated it (index in the config's pces) + 46 random hex digits. */
export const ACTIVATION_CODE = /^[0-9a-f]{48}$/;
/** A VEN's bearer token: `<agent id (uuid)>.<64 hex secret>`; only a SHA-256 of the secret is stored. */
export const AGENT_TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([0-9a-f]{64})$/;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

// ------------------------------------------------------------------------------------------ requests

export const activateRequestV1 = z.strictObject({
  activation_code: z.string().regex(ACTIVATION_CODE, 'must be the 48 hex digit activation code of a pairing key'),
  hostname: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
  interfaces: z.array(interfaceSchema).max(256, 'at most 256 interfaces'),
  os_id: text(255).nullable().optional(),
  os_detail: text(255).nullable().optional(),
  agent_version: text(64).nullable().optional(),
});
export type ActivateRequestV1 = z.infer<typeof activateRequestV1>;

export const heartbeatRequestV1 = z.strictObject({
  uptime_seconds: z.number().int().nonnegative(),
  /** what the VEN holds and enforces now (null before its first policy) */
  policy_version: z.number().int().nonnegative().nullable(),
  rules_hash: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /** when it applied what it holds (ms since the epoch) */
  applied_at: z.number().int().nonnegative().nullable().optional(),
  /** only when they changed since the last heartbeat: the workload context is then rewritten */
  interfaces: z.array(interfaceSchema).max(256, 'at most 256 interfaces').optional(),
});
export type HeartbeatRequestV1 = z.infer<typeof heartbeatRequestV1>;

export const policyRequestV1 = z.strictObject({
  /** what the VEN holds: the answer carries only what differs (empty or absent = full policy) */
  have: z
    .strictObject({
      rules_hash: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
      ip_sets: z.record(z.string().max(64), z.string().max(64)).default({}),
    })
    .optional(),
});
export type PolicyRequestV1 = z.infer<typeof policyRequestV1>;

export const goodbyeRequestV1 = z.strictObject({});

export const FLOW_ACTIONS = ['allowed', 'potentially_blocked', 'blocked'] as const;
export const flowSummaryRequestV1 = z.strictObject({
  flows: z
    .array(
      z.strictObject({
        src_ip: z.string().max(64),
        dst_ip: z.string().max(64),
        dst_port: z.number().int().min(0).max(65535).nullable(),
        proto: z.number().int().min(0).max(255),
        count: z.number().int().positive(),
        action: z.enum(FLOW_ACTIONS),
        first_seen: z.number().int().nonnegative(),
        last_seen: z.number().int().nonnegative(),
      }),
    )
    .min(1, 'send at least one flow')
    .max(5000, 'at most 5000 flows per upload'),
});
export type FlowSummaryRequestV1 = z.infer<typeof flowSummaryRequestV1>;

// ------------------------------------------------------------------------------------------ answers

export interface ActivateResponseV1 {
  readonly agent_id: string;
  /** `Authorization: Bearer <agent_token>` on every later call; shown once */
  readonly agent_token: string;
  readonly workload_href: string;
  readonly ven_href: string;
  readonly pce_fqdn: string;
  readonly heartbeat_interval_seconds: number;
  /** the VEN channel (WebSocket) to keep open for pushes */
  readonly push_url: string;
}

export interface HeartbeatResponseV1 {
  /** the version and rules the VEN should hold (listen-only: what it holds, nothing new) */
  readonly policy_version: number | null;
  readonly rules_hash: string | null;
  readonly active_pce_fqdn: string;
  /** where the VEN belongs; when it differs from active_pce_fqdn and target_available is true the VEN moves there */
  readonly target_pce_fqdn: string;
  /** false while the target PCE is failed over (GSLB switch) or silent: the VEN stays where the GSLB sent it */
  readonly target_available: boolean;
  readonly listen_only: boolean;
  readonly heartbeat_interval_seconds: number;
}

/** A compiled rule as a VEN receives it (shared/policy/compiled.ts CompiledRule). */
export interface VenRuleV1 {
  readonly rule_id: number;
  readonly peers: string;
  readonly services: readonly { readonly proto: number; readonly port?: number; readonly to_port?: number }[];
  /** absent: allow; 'deny': an enforcement boundary, applied after every allow rule (selective mode) */
  readonly action?: 'deny';
}

export interface VenRulesV1 {
  readonly enforcement_mode: string;
  readonly enforced: boolean;
  readonly default_deny: boolean;
  readonly inbound: readonly VenRuleV1[];
  readonly outbound: readonly VenRuleV1[];
  readonly ip_set_ids: readonly string[];
}

export interface VenIpSetV1 {
  readonly id: string;
  readonly members: readonly string[];
  readonly hash: string;
}

export interface PolicyResponseV1 {
  readonly policy_version: number;
  readonly rules_hash: string;
  /** absent when the VEN already holds rules_hash */
  readonly rules?: VenRulesV1;
  /** the sets the rules use that the VEN does not hold with this hash */
  readonly ip_sets: readonly VenIpSetV1[];
  /** sets the VEN holds that the rules no longer use */
  readonly removed_ip_sets: readonly string[];
}

// ------------------------------------------------------------------------------------------ pushes (PCE -> VEN)

export type VenPushV1 =
  /** new policy: `rules` when the VEN's rules changed in this compute run, `ip_sets` = sets of its rules that changed */
  | { readonly v: 1; readonly type: 'policy'; readonly policy_version: number; readonly rules_hash: string; readonly rules?: VenRulesV1; readonly ip_sets?: readonly VenIpSetV1[] }
  /** the VEN is assigned to another PCE: reconnect there (heartbeat, channel, policy) */
  | { readonly v: 1; readonly type: 'reassign'; readonly target_pce_fqdn: string }
  | { readonly v: 1; readonly type: 'listen_only'; readonly enabled: boolean }
  /** the VEN was unpaired: its token is revoked */
  | { readonly v: 1; readonly type: 'unpaired' };
