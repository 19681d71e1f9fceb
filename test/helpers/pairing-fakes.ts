/** Hand-written fakes of the pairing ports: profiles (fenced like the leader's store), use counters, and keys in several regions. */
import { PairingProfileChangedError, RegionUnreachableError } from '../../shared/pairing/errors.ts';
import { isExpired, type ConsumeResult, type PairingKey } from '../../shared/pairing/pairing-key.ts';
import type { PairingProfile, PairingUseRecord } from '../../shared/pairing/pairing-profile.ts';
import type { NewPairingProfile, PairingKeyStore, PairingProfileStore, PairingUseStore } from '../../shared/pairing/ports.ts';
import type { WriteFence } from '../../shared/supercluster/leader.ts';
import type { FakeLeaderStore } from './fakes.ts';

export class FakePairingProfileStore implements PairingProfileStore {
  readonly profiles = new Map<number, PairingProfile>();
  /** writes seen, including refused ones */
  writes = 0;
  private next = 0;
  constructor(private readonly leader: FakeLeaderStore) {}
  async list(orgId: number) {
    return [...this.profiles.values()].filter((p) => p.orgId === orgId);
  }
  async get(orgId: number, id: number) {
    const p = this.profiles.get(id);
    return p && p.orgId === orgId ? p : null;
  }
  async create(input: NewPairingProfile, fence: WriteFence) {
    this.writes++;
    this.leader.checkFence(fence);
    const profile: PairingProfile = { ...input, id: ++this.next };
    this.profiles.set(profile.id, profile);
    return profile;
  }
  async update(current: PairingProfile, next: PairingProfile, fence: WriteFence) {
    this.writes++;
    this.leader.checkFence(fence);
    if (this.profiles.get(current.id)?.updatedAt !== current.updatedAt) throw new PairingProfileChangedError('changed');
    this.profiles.set(next.id, next);
  }
  async delete(profile: PairingProfile, fence: WriteFence) {
    this.writes++;
    this.leader.checkFence(fence);
    if (!this.profiles.delete(profile.id)) throw new PairingProfileChangedError('gone');
  }
}

/** Every region's use counters in one place (they replicate instantly here). */
export class FakePairingUses {
  readonly records = new Map<string, PairingUseRecord & { orgId: number }>();
  failWith: Error | null = null;
  store(region: string): PairingUseStore {
    return {
      record: async (orgId, profileId, at) => {
        if (this.failWith) throw this.failWith;
        const id = `${orgId}/${profileId}/${region}`;
        const cur = this.records.get(id);
        this.records.set(id, { orgId, profileId, region, uses: (cur?.uses ?? 0) + 1, lastPairingAt: Math.max(cur?.lastPairingAt ?? at, at) });
      },
      list: async (orgId, profileId) => [...this.records.values()].filter((r) => r.orgId === orgId && (profileId === undefined || r.profileId === profileId)),
    };
  }
}

/**
 * The key replicas of every region. Writes land in their region and replicate to the others at once,
 * unless `replicate` is off (a replication backlog); regions in `unreachable` answer no other region.
 */
export class FakeKeyReplicas {
  readonly replicas = new Map<string, Map<string, PairingKey>>();
  readonly unreachable = new Set<string>();
  replicate = true;
  /** consume calls per region */
  readonly consumes = new Map<string, number>();

  constructor(readonly regions: readonly string[]) {
    for (const r of regions) this.replicas.set(r, new Map());
  }

  write(region: string, key: PairingKey): void {
    for (const r of this.replicate ? this.regions : [region]) this.replicas.get(r)?.set(key.codeHash, key);
  }

  read(region: string, codeHash: string): PairingKey | null {
    return this.replicas.get(region)?.get(codeHash) ?? null;
  }

  /** The store of the PCE in `home`. */
  store(home: string): PairingKeyStore {
    const reach = (region: string) => {
      if (region !== home && (this.unreachable.has(region) || this.unreachable.has(home))) throw new RegionUnreachableError(region);
    };
    return {
      create: async (key) => this.write(home, key),
      get: async (codeHash, region) => {
        reach(region);
        return this.read(region, codeHash);
      },
      consume: async (codeHash, originRegion, now): Promise<ConsumeResult> => {
        reach(originRegion);
        this.consumes.set(originRegion, (this.consumes.get(originRegion) ?? 0) + 1);
        const key = this.read(originRegion, codeHash);
        if (!key) return { status: 'unknown' };
        if (isExpired(key, now)) return { status: 'expired', key };
        if (key.remainingUses === null) return { status: 'consumed', key };
        if (key.remainingUses < 1) return { status: 'used_up', key };
        const next = { ...key, remainingUses: key.remainingUses - 1 };
        this.write(originRegion, next);
        return { status: 'consumed', key: next };
      },
    };
  }
}
