/** Small hand-written fakes of the domain ports, for unit tests of use cases and the API handler. */
import type { ApiKeyRecord, ApiKeyStore } from '../../shared/auth/api-keys.ts';
import type { RateWindow, RequestCounterStore } from '../../shared/auth/rate-limit.ts';
import { DuplicateLabelError, type Label, type LabelStore } from '../../shared/labels/label.ts';
import { WorkloadSettingsChangedError, type StoredWorkloadSettings, type WorkloadSettingsStore } from '../../shared/settings/workload-settings.ts';
import type { PceStatusReport, PceStatusStore, PeerLag, ReplicationLagStore } from '../../shared/supercluster/health.ts';
import type { LagHistoryStore, LagSample } from '../../shared/supercluster/lag-history.ts';
import { FenceFailedError, LeaderChangedError, type LeaderRecord, type LeaderRecordStore, type WriteFence } from '../../shared/supercluster/leader.ts';
import type { DirectoryStore, Org, User } from '../../shared/supercluster/membership.ts';
import type { PceRuntimeState, RuntimeStateStore } from '../../shared/supercluster/runtime-state.ts';

export class FakeLeaderStore implements LeaderRecordStore {
  constructor(public record: LeaderRecord | null = null) {}
  async get() {
    return this.record;
  }
  async createIfAbsent(record: LeaderRecord) {
    this.record ??= record;
    return this.record;
  }
  async replace(current: LeaderRecord, next: LeaderRecord) {
    if (this.record?.epoch !== current.epoch || this.record.leaderRegion !== current.leaderRegion) throw new LeaderChangedError();
    this.record = next;
  }
  checkFence(fence: WriteFence) {
    if (this.record?.leaderRegion !== fence.region || this.record.epoch !== fence.epoch) throw new FenceFailedError('fence');
  }
}

export class FakeLabelStore implements LabelStore {
  readonly labels = new Map<number, Label>();
  private next = 0;
  constructor(private readonly leader: FakeLeaderStore) {}
  async list(orgId: number) {
    return [...this.labels.values()].filter((l) => l.orgId === orgId);
  }
  async get(orgId: number, id: number) {
    const l = this.labels.get(id);
    return l && l.orgId === orgId ? l : null;
  }
  async getMany(orgId: number, ids: readonly number[], _options?: { consistent?: boolean }) {
    return [...new Set(ids)].map((id) => this.labels.get(id)).filter((l): l is Label => l !== undefined && l.orgId === orgId);
  }
  async create(input: Parameters<LabelStore['create']>[0], fence: WriteFence) {
    this.leader.checkFence(fence);
    if ([...this.labels.values()].some((l) => l.key === input.key && l.value.toLowerCase() === input.value.toLowerCase())) throw new DuplicateLabelError('duplicate');
    const label: Label = { ...input, id: ++this.next, createdAt: input.now, updatedAt: input.now, createdBy: input.userId, updatedBy: input.userId };
    this.labels.set(label.id, label);
    return label;
  }
  async update(_current: Label, next: Label, fence: WriteFence) {
    this.leader.checkFence(fence);
    this.labels.set(next.id, next);
  }
  async delete(label: Label, fence: WriteFence) {
    this.leader.checkFence(fence);
    this.labels.delete(label.id);
  }
}

export class FakeApiKeyStore implements ApiKeyStore {
  readonly keys = new Map<string, ApiKeyRecord>();
  bootstrapped = false;
  async putBootstrap(r: ApiKeyRecord) {
    if (this.bootstrapped) return false;
    this.bootstrapped = true;
    return this.put(r);
  }
  async get(u: string) {
    return this.keys.get(u) ?? null;
  }
  async put(r: ApiKeyRecord) {
    if (this.keys.has(r.authUsername)) return false;
    this.keys.set(r.authUsername, r);
    return true;
  }
}

export class FakeDirectory implements DirectoryStore {
  orgs = new Map<number, Org>();
  users = new Map<number, User>();
  async getOrg(id: number) {
    return this.orgs.get(id) ?? null;
  }
  async putOrgIfAbsent(org: Org) {
    if (!this.orgs.has(org.id)) this.orgs.set(org.id, org);
  }
  async getUser(id: number) {
    return this.users.get(id) ?? null;
  }
}

export class FakeStatusStore implements PceStatusStore {
  reports = new Map<string, PceStatusReport>();
  async put(r: PceStatusReport) {
    this.reports.set(r.region, r);
  }
  async list() {
    return [...this.reports.values()];
  }
}

export class FakeLagStore implements ReplicationLagStore {
  lags = new Map<string, PeerLag & { peerWrittenAt: number }>();
  async record(lag: PeerLag & { peerWrittenAt: number }) {
    const cur = this.lags.get(lag.peerRegion);
    if (!cur || cur.peerWrittenAt < lag.peerWrittenAt) this.lags.set(lag.peerRegion, lag);
  }
  async list() {
    return [...this.lags.values()].map(({ peerRegion, lagMs, receivedAt }) => ({ peerRegion, lagMs, receivedAt }));
  }
}

/** A PCE's replication lag samples in memory: what the DynamoDB adapter keeps (test/integration/storage/dynamodb-lag-history.test.ts). */
export class FakeLagHistoryStore implements LagHistoryStore {
  readonly samples: { sample: LagSample; expiresAt: number }[] = [];
  async append(sample: LagSample, expiresAt: number) {
    this.samples.push({ sample, expiresAt });
  }
  async since(from: number) {
    return this.samples.map((s) => s.sample).filter((s) => s.at >= from).sort((a, b) => a.at - b.at);
  }
}

export class FakeRuntimeState implements RuntimeStateStore {
  state: PceRuntimeState | null = null;
  async getOrCreate(initial: PceRuntimeState) {
    this.state ??= initial;
    return this.state;
  }
  async setRunlevel(runlevel: number) {
    if (this.state) this.state = { ...this.state, runlevel };
  }
}

export class FakeWorkloadSettingsStore implements WorkloadSettingsStore {
  readonly items = new Map<number, StoredWorkloadSettings>();
  /** puts seen, including refused ones */
  puts = 0;
  constructor(private readonly leader: FakeLeaderStore) {}
  async get(orgId: number) {
    return this.items.get(orgId) ?? null;
  }
  async put(next: StoredWorkloadSettings, seenUpdatedAt: number | null, fence: WriteFence) {
    this.puts++;
    this.leader.checkFence(fence);
    if ((this.items.get(next.orgId)?.updatedAt ?? null) !== seenUpdatedAt) throw new WorkloadSettingsChangedError('changed');
    this.items.set(next.orgId, next);
  }
}

export class FakeRequestCounterStore implements RequestCounterStore {
  /** count per `<key>@<window minute>` */
  readonly counts = new Map<string, number>();
  /** increments seen, including failed ones */
  calls = 0;
  /** when set, increment throws it (a throttled or unreachable table) */
  failWith: Error | null = null;
  async increment(key: string, window: RateWindow) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    const id = `${key}@${window.minute}`;
    const count = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, count);
    return count;
  }
}
