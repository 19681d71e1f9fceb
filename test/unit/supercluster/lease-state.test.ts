/**
 * The leader lease read: leaseState (live, held by the leader record's leader or not, the skew-adjusted bounds),
 * SuperclusterService.leaderLease over the lease store, and GET /api/v2/supercluster/leader_lease through the API
 * handler (authenticated; 503 leader_lease_unavailable when the authority does not answer; read on a member too).
 */
import { describe, expect, it } from 'vitest';
import { leaseTimings } from '../../../shared/supercluster/lease-config.ts';
import { leaseState, LeaseUnavailableError, type LeaderLease } from '../../../shared/supercluster/lease.ts';
import { leaseLine } from '../../../console/src/lease-model.ts';
import { testConfig } from '../../helpers/config.ts';
import { readOnlySuperclusterApi } from '../../helpers/api-deps.ts';
import { FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakeLeaseStore } from '../../helpers/lease-fakes.ts';

const config = testConfig();
const [us, eu] = config.pces as [(typeof config.pces)[number], (typeof config.pces)[number]];
const timings = leaseTimings({ duration_seconds: 15, clock_skew_seconds: 2 });
const now = 1_800_000_000_000;
const record = { leaderRegion: us.region, leaderFqdn: us.fqdn, epoch: 3, assignedAt: 0, previousLeaderFqdn: null };
const lease = (over: Partial<LeaderLease> = {}): LeaderLease => ({ holderRegion: us.region, holderFqdn: us.fqdn, epoch: 3, renewedAt: now - 4_000, expiresAt: now + 11_000, ...over });
const iso = (ms: number) => new Date(ms).toISOString();

describe('leaseState', () => {
  it('a live lease of the leader record’s region and epoch is held by the leader, with its bounds', () => {
    expect(leaseState(lease(), record, timings, now)).toEqual({
      lease: { holder_fqdn: us.fqdn, holder_region: us.region, epoch: 3, renewed_at: iso(now - 4_000), expires_at: iso(now + 11_000), holder_writes_until: iso(now + 9_000), over_at: iso(now + 13_000), live: true },
      leader: { fqdn: us.fqdn, region: us.region, epoch: 3 },
      held_by_leader: true,
      duration_seconds: 15,
      clock_skew_seconds: 2,
      checked_at: iso(now),
    });
  });

  it('is not held by the leader when expired, of an older epoch, of another region, or never taken', () => {
    expect(leaseState(lease({ expiresAt: now - 1 }), record, timings, now)).toMatchObject({ held_by_leader: false, lease: { live: false } });
    expect(leaseState(lease({ epoch: 2 }), record, timings, now)).toMatchObject({ held_by_leader: false, lease: { live: true } });
    expect(leaseState(lease({ holderRegion: eu.region, holderFqdn: eu.fqdn }), record, timings, now).held_by_leader).toBe(false);
    expect(leaseState(null, record, timings, now)).toMatchObject({ lease: null, held_by_leader: false });
    expect(leaseState(lease(), null, timings, now)).toMatchObject({ leader: null, held_by_leader: false });
  });

  it('reads in words on the Supercluster page', () => {
    expect(leaseLine(leaseState(lease(), record, timings, now))).toBe(`held by the leader ${us.fqdn} (epoch 3, renewed 4 s ago, expires in 11 s): its writes are fenced by it`);
    expect(leaseLine(leaseState(lease({ epoch: 2 }), record, timings, now))).toContain(`not the leader record's leader ${us.fqdn} (epoch 3): writes wait until it is over`);
    expect(leaseLine(leaseState(lease({ expiresAt: now - 5_000 }), record, timings, now))).toMatch(/^expired: last held by/);
    expect(leaseLine(leaseState(null, record, timings, now))).toMatch(/^never taken/);
  });
});

describe('GET /api/v2/supercluster/leader_lease', () => {
  async function setup(withLease = true) {
    const store = new FakeLeaseStore();
    const api = await readOnlySuperclusterApi({ config, region: eu.region, leaderStore: new FakeLeaderStore(record), supercluster: { ...(withLease ? { lease: { store, timings } } : {}), now: () => now } });
    return { store, supercluster: api.supercluster, get: (withAuth = true) => api.get('/api/v2/supercluster/leader_lease', withAuth) };
  }

  it('answers a read_only key the lease as the authority holds it, on a member too; 401 without a key', async () => {
    const { store, get } = await setup();
    store.stored = lease();
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? '')).toEqual(leaseState(lease(), record, timings, now));
    expect((await get(false)).statusCode).toBe(401);
  });

  it('503 leader_lease_unavailable when the authority does not answer this PCE, or it has no lease table', async () => {
    const { store, get, supercluster } = await setup();
    store.unreachable = new Error('connect ETIMEDOUT');
    await expect(supercluster.leaderLease()).rejects.toBeInstanceOf(LeaseUnavailableError);
    const res = await get();
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body ?? '')).toEqual([{ token: 'leader_lease_unavailable', message: expect.stringContaining('ETIMEDOUT') }]);
    const without = await setup(false);
    expect((await without.get()).statusCode).toBe(503);
  });
});
