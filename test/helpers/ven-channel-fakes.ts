/** Small hand-written fakes of the VEN channel's ports (same outcomes as the DynamoDB and API Gateway adapters). */
import { rulesHashOf, toVenRules, type CompiledIpSet, type CompiledPolicy } from '../../shared/policy/compiled.ts';
import type { AgentCredential, AgentCredentialStore, ListenOnlyStore, VenConnection, VenConnectionStore, VenPushChannel } from '../../shared/ven/ports.ts';
import type { VenPushV1 } from '../../shared/ven/protocol.ts';

/** Like DynamoDbVenConnectionStore: one current connection per agent, a reconnect replaces it. */
export class FakeVenConnections implements VenConnectionStore {
  readonly byConnection = new Map<string, VenConnection>();
  lists = 0;
  failList = false;
  async put(c: VenConnection) {
    for (const [id, old] of this.byConnection) if (old.agentId === c.agentId && id !== c.connectionId) this.byConnection.delete(id);
    this.byConnection.set(c.connectionId, c);
  }
  async remove(connectionId: string) {
    this.byConnection.delete(connectionId);
  }
  async list() {
    this.lists++;
    if (this.failList) throw new Error('table unavailable');
    return [...this.byConnection.values()];
  }
  async byAgent(agentId: string) {
    return [...this.byConnection.values()].find((c) => c.agentId === agentId) ?? null;
  }
}

/** Records what was sent; connections listed in `gone` answer 'gone', in `failing` throw; optional latency. */
export class FakePushChannel implements VenPushChannel {
  readonly sent: { connectionId: string; message: VenPushV1 }[] = [];
  readonly gone = new Set<string>();
  readonly failing = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly latencyMs = 0) {}
  async send(connectionId: string, message: VenPushV1): Promise<'sent' | 'gone'> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      if (this.failing.has(connectionId)) throw new Error(`post to ${connectionId} failed`);
      if (this.gone.has(connectionId)) return 'gone';
      this.sent.push({ connectionId, message });
      return 'sent';
    } finally {
      this.inFlight--;
    }
  }
  to(connectionId: string): VenPushV1[] {
    return this.sent.filter((s) => s.connectionId === connectionId).map((s) => s.message);
  }
}

export class FakeListenOnlyStore implements ListenOnlyStore {
  enabledAt: number | null = null;
  async get() {
    return this.enabledAt === null ? null : { enabledAt: this.enabledAt };
  }
  async enable(at: number) {
    this.enabledAt ??= at;
  }
  async disable() {
    this.enabledAt = null;
  }
}

export class FakeAgentCredentials implements AgentCredentialStore {
  readonly items = new Map<string, AgentCredential>();
  async get(agentId: string) {
    return this.items.get(agentId) ?? null;
  }
  async put(c: AgentCredential) {
    this.items.set(c.agentId, c);
  }
  async delete(agentId: string) {
    this.items.delete(agentId);
  }
}

export function connection(n: number, overrides: Partial<VenConnection> = {}): VenConnection {
  return { connectionId: `conn-${n}=`, agentId: `agent-${n}`, orgId: 1, workloadId: `w${n}`, connectedAt: 1_000 + n, ...overrides };
}

export function ipSet(id: string, members: readonly string[]): CompiledIpSet {
  return { id, members, hash: `hash-of-${members.join(',')}` };
}

/** A compiled policy: inbound from `peers` on tcp/443, with a consistent rules hash. */
export function compiledPolicy(workloadId: string, version: number, peers: readonly string[] = ['ls:web']): CompiledPolicy {
  const base = {
    workloadId,
    policyVersion: version,
    enforcementMode: 'full' as const,
    enforced: true,
    defaultDeny: true,
    inbound: peers.map((p, i) => ({ ruleId: i + 1, peers: p, services: [{ proto: 6, port: 443 }] })),
    outbound: [],
    ipSetIds: [...peers],
    rulesHash: '',
  };
  return { ...base, rulesHash: rulesHashOf(toVenRules(base)) };
}
