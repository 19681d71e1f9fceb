/** What the VEN side needs from the rest of the system, by role (adapters: shared/storage). */
import type { CompiledIpSet, CompiledPolicy } from '../policy/compiled.ts';
import type { WorkloadId } from '../policy/model.ts';
import type { ManagedAgent, Workload } from '../workloads/workload.ts';
import type { FlowSummaryRequestV1, PolicyRequestV1, PolicyResponseV1, VenPushV1 } from './protocol.ts';

/** An authenticated VEN (the principal of the VEN protocol; API keys are another principal type). */
export interface VenPrincipal {
  readonly agentId: string;
  readonly orgId: number;
  readonly workloadId: WorkloadId;
}

/** A VEN's stored credential (global table, written by the PCE that paired it). */
export interface AgentCredential extends VenPrincipal {
  readonly tokenHash: string;
  readonly originRegion: string;
  readonly createdAt: number;
}

export interface AgentCredentialStore {
  get(agentId: string): Promise<AgentCredential | null>;
  put(credential: AgentCredential): Promise<void>;
  delete(agentId: string): Promise<void>;
}

/** One open VEN channel on this PCE (local table). */
export interface VenConnection {
  readonly connectionId: string;
  readonly agentId: string;
  readonly orgId: number;
  readonly workloadId: WorkloadId;
  readonly connectedAt: number;
}

export interface VenConnectionStore {
  put(connection: VenConnection): Promise<void>;
  /** removes the connection (a no-op when it is gone or the agent reconnected under another id) */
  remove(connectionId: string): Promise<void>;
  /** every open connection of this PCE (one Query) */
  list(): Promise<VenConnection[]>;
  byAgent(agentId: string): Promise<VenConnection | null>;
}

/** Sends to one open channel: API Gateway's management API (PostToConnection) in AWS and locally. */
export interface VenPushChannel {
  /** 'gone' when the connection no longer exists (410): the caller forgets it */
  send(connectionId: string, message: VenPushV1): Promise<'sent' | 'gone'>;
}

/** What one compute run changed, for the VENs connected to this PCE. */
export interface PolicyPublication {
  readonly orgId: number;
  readonly policyVersion: number;
  /** the workload's compiled policy as the run's compiler has it (null: not managed here) */
  readonly policyOf: (workloadId: WorkloadId) => CompiledPolicy | null;
  /** workloads whose rules changed in this run (their pushes carry the rules) */
  readonly rulesChanged: ReadonlySet<WorkloadId>;
  /** sets whose members changed in this run */
  readonly changedIpSets: ReadonlyMap<string, CompiledIpSet>;
  /** true for a reconcile: every connected VEN is sent its rules */
  readonly everything: boolean;
  /** the head names another version (or document) than before the run: every connected VEN is told; otherwise only those whose rules or sets changed */
  readonly versionChanged?: boolean;
}

/** Listen-only mode of this PCE (local table: `PCE/LISTEN_ONLY`): while enabled, no policy is pushed to its VENs. */
export interface ListenOnlyStore {
  /** null when the PCE is not in listen-only mode */
  get(): Promise<{ readonly enabledAt: number } | null>;
  enable(at: number): Promise<void>;
  disable(): Promise<void>;
}

/** Told by the compute pipeline after a run stored its output (never before: a VEN must find what it is told of). */
export interface PolicyPublisher {
  published(publication: PolicyPublication): Promise<void>;
}

/** What a workload's VEN should hold, as this PCE computed it. */
export interface ExpectedPolicy {
  readonly policyVersion: number;
  readonly rulesHash: string;
  /** when this PCE had stored this version and these rules for the workload (null or absent: unknown) */
  readonly availableAt?: number | null;
}

/** What the VEN protocol serves from the compiled policy of this PCE (shared/compute: reads the local table). */
export interface VenPolicyView {
  /**
   * the version and rules hash the workload should hold, and since when this PCE has had them stored
   * (`availableAt`: null when unknown); cached (one read per second or so, not per call)
   */
  current(orgId: number, workloadId: WorkloadId): Promise<ExpectedPolicy | null>;
  /** full or delta (what differs from `have`); null while no policy is computed for the workload here */
  fetch(orgId: number, workloadId: WorkloadId, have: PolicyRequestV1['have']): Promise<PolicyResponseV1 | null>;
}

/**
 * The member-written part of managed workloads (ADR 0008): this PCE writes only its own agent items (and
 * the credentials of VENs it paired); its fence is "this PCE manages the workload", not the leader record.
 */
export interface ManagedWorkloadStore {
  /** the workload as this replica has it (null: unknown or unpaired) */
  get(orgId: number, workloadId: WorkloadId, options?: { consistent?: boolean }): Promise<Workload | null>;
  /** pairing: the VEN's credential and this PCE's agent item, together (one transaction) */
  pair(credential: AgentCredential, orgId: number, workloadId: WorkloadId, agent: ManagedAgent): Promise<void>;
  /**
   * writes this PCE's agent item; with `expectedUpdatedAt`, only if this PCE's item still has it (null: absent).
   * An update of the item (a number) keeps its labels: an agent item's labels are what pairing chose.
   */
  putAgent(orgId: number, workloadId: WorkloadId, agent: ManagedAgent, expectedUpdatedAt?: number | null): Promise<boolean>;
  /** this PCE's own agent item of the workload, whether it manages the workload now or not (unpaired too) */
  ownAgent(orgId: number, workloadId: WorkloadId): Promise<ManagedAgent | null>;
  /** removes this PCE's agent item (the VEN moved away or was unpaired) */
  deleteAgent(orgId: number, workloadId: WorkloadId): Promise<void>;
}

/** A VEN's last heartbeat on this PCE (local table: not replicated). */
export interface HeartbeatRecord {
  readonly agentId: string;
  readonly workloadId: WorkloadId;
  readonly lastHeartbeatAt: number;
  readonly uptimeSeconds: number;
  readonly appliedVersion: number | null;
  readonly appliedRulesHash: string | null;
  readonly appliedAt: number | null;
  readonly goodbyeAt: number | null;
}

export interface HeartbeatStore {
  /** one durable write per heartbeat */
  put(orgId: number, record: HeartbeatRecord): Promise<void>;
  get(orgId: number, agentId: string): Promise<HeartbeatRecord | null>;
  /** every VEN's heartbeat on this PCE (one Query) */
  list(orgId: number): Promise<HeartbeatRecord[]>;
  delete(orgId: number, agentId: string): Promise<void>;
}

/** How many VENs this PCE manages, against `active_agents_per_pce` (local table, one item). */
export interface AgentCountStore {
  /** +1 when under `limit` (null: no limit: failover arrivals); false when the PCE is full */
  reserve(limit: number | null): Promise<boolean>;
  release(): Promise<void>;
  /** the recount of the offline sweep */
  set(count: number): Promise<void>;
  get(): Promise<number>;
}

export interface FlowSummaryStore {
  put(orgId: number, agentId: string, flows: readonly FlowSummaryRequestV1['flows'][number][], receivedAt: number): Promise<void>;
}

