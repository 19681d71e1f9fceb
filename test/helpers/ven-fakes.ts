/** In-memory fakes of the VEN side's ports (same outcomes as the DynamoDB adapters). */
import type { AgentCountStore, AgentCredential, AgentCredentialStore, ExpectedPolicy, FlowSummaryStore, HeartbeatRecord, HeartbeatStore, ManagedWorkloadStore, VenPolicyView } from '../../shared/ven/ports.ts';
import type { PolicyRequestV1, PolicyResponseV1 } from '../../shared/ven/protocol.ts';
import type { ManagedAgent, Workload } from '../../shared/workloads/workload.ts';

export class FakeCredentials implements AgentCredentialStore {
  readonly items = new Map<string, AgentCredential>();
  gets = 0;
  async get(agentId: string) {
    this.gets++;
    return this.items.get(agentId) ?? null;
  }
  async put(c: AgentCredential) {
    this.items.set(c.agentId, c);
  }
  async delete(agentId: string) {
    this.items.delete(agentId);
  }
}

/** Managed workloads: every region's agent items, merged like mergeWorkloadItems (the newest `since` manages). */
export class FakeManagedWorkloads implements ManagedWorkloadStore {
  /** workload id -> region -> agent item */
  readonly agents = new Map<string, Map<string, ManagedAgent>>();
  readonly orgs = new Map<string, number>();
  readonly unpaired = new Set<string>();
  targets = new Map<string, string>();
  writes = 0;

  constructor(
    private readonly region: string,
    private readonly credentials: FakeCredentials,
  ) {}

  /** the same store as another region's PCE sees it (shared items) */
  as(region: string): FakeManagedWorkloads {
    const other = new FakeManagedWorkloads(region, this.credentials);
    (other as { agents: Map<string, Map<string, ManagedAgent>> }).agents = this.agents;
    (other as { orgs: Map<string, number> }).orgs = this.orgs;
    (other as { unpaired: Set<string> }).unpaired = this.unpaired;
    other.targets = this.targets;
    return other;
  }

  workload(workloadId: string): Workload | null {
    const byRegion = this.agents.get(workloadId);
    const orgId = this.orgs.get(workloadId);
    if (!byRegion || orgId === undefined || this.unpaired.has(workloadId)) return null;
    const agent = [...byRegion.values()].sort((a, b) => b.since - a.since)[0] as ManagedAgent;
    return {
      orgId,
      id: workloadId,
      meta: { name: null, hostname: agent.hostname, description: null, labels: agent.labels, enforcementMode: agent.enforcementMode, osId: agent.osId, osDetail: agent.osDetail, externalDataSet: null, externalDataReference: null, managingPceFqdn: agent.pceFqdn, createdAt: agent.pairedAt, updatedAt: 0, createdBy: 0, updatedBy: 0 },
      context: { interfaces: agent.interfaces, publicIp: null, online: agent.online, updatedAt: agent.updatedAt },
      agent,
      metaStored: false,
      targetPceFqdn: this.targets.get(workloadId) ?? null,
    };
  }

  all(): Workload[] {
    return [...this.agents.keys()].flatMap((id) => {
      const w = this.workload(id);
      return w ? [w] : [];
    });
  }

  async get(orgId: number, workloadId: string) {
    const w = this.workload(workloadId);
    return w && w.orgId === orgId ? w : null;
  }

  async pair(c: AgentCredential, orgId: number, workloadId: string, agent: ManagedAgent) {
    if (this.credentials.items.has(c.agentId) || this.agents.has(workloadId)) throw new Error('exists');
    await this.credentials.put(c);
    this.orgs.set(workloadId, orgId);
    this.agents.set(workloadId, new Map([[this.region, agent]]));
    this.writes++;
  }

  async putAgent(orgId: number, workloadId: string, agent: ManagedAgent, expected?: number | null) {
    const byRegion = this.agents.get(workloadId) ?? new Map<string, ManagedAgent>();
    const mine = byRegion.get(this.region);
    if (expected !== undefined && (expected === null ? mine !== undefined : mine?.updatedAt !== expected)) return false;
    byRegion.set(this.region, { ...agent, region: this.region });
    this.agents.set(workloadId, byRegion);
    this.orgs.set(workloadId, orgId);
    this.writes++;
    return true;
  }

  async ownAgent(_orgId: number, workloadId: string) {
    return this.agents.get(workloadId)?.get(this.region) ?? null;
  }

  async deleteAgent(_orgId: number, workloadId: string) {
    this.agents.get(workloadId)?.delete(this.region);
  }
}

export class FakeHeartbeats implements HeartbeatStore {
  readonly items = new Map<string, HeartbeatRecord>();
  puts = 0;
  async put(_orgId: number, r: HeartbeatRecord) {
    this.puts++;
    this.items.set(r.agentId, r);
  }
  async get(_orgId: number, agentId: string) {
    return this.items.get(agentId) ?? null;
  }
  async list() {
    return [...this.items.values()];
  }
  async delete(_orgId: number, agentId: string) {
    this.items.delete(agentId);
  }
}

export class FakeAgentCount implements AgentCountStore {
  count = 0;
  async reserve(limit: number | null) {
    if (limit !== null && this.count >= limit) return false;
    this.count++;
    return true;
  }
  async release() {
    if (this.count > 0) this.count--;
  }
  async set(n: number) {
    this.count = n;
  }
  async get() {
    return this.count;
  }
}

export class FakeFlows implements FlowSummaryStore {
  readonly uploads: { agentId: string; count: number }[] = [];
  async put(_orgId: number, agentId: string, flows: readonly unknown[]) {
    this.uploads.push({ agentId, count: flows.length });
  }
}

/** listen-only mode: the channel's fake serves both */
export { FakeListenOnlyStore as FakeListenOnly } from './ven-channel-fakes.ts';

/** A policy view that answers what the test set per workload. */
export class FakePolicyView implements VenPolicyView {
  readonly policies = new Map<string, ExpectedPolicy>();
  readonly fetches: { workloadId: string; have: PolicyRequestV1['have'] }[] = [];
  async current(_orgId: number, workloadId: string) {
    return this.policies.get(workloadId) ?? null;
  }
  async fetch(_orgId: number, workloadId: string, have: PolicyRequestV1['have']): Promise<PolicyResponseV1 | null> {
    this.fetches.push({ workloadId, have });
    const p = this.policies.get(workloadId);
    return p ? { policy_version: p.policyVersion, rules_hash: p.rulesHash, ip_sets: [], removed_ip_sets: [] } : null;
  }
}
