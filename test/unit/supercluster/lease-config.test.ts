/** The config's leader_lease: defaults, derived MRSC placement, and what cannot form a region set (named by field). */
import { describe, expect, it } from 'vitest';
import { leasePlacementOf, leaseRegionFor, leaseTimings } from '../../../shared/supercluster/lease-config.ts';
import { issuesOf, rawConfig, testConfig } from '../../helpers/config.ts';
import { parseSuperclusterConfig } from '../../../shared/supercluster/config.ts';

const withLease = (leaderLease: unknown) => ({ ...rawConfig(), leader_lease: leaderLease });

describe('leader_lease config', () => {
  it('defaults to 15 s, 2 s skew, and the MRSC set of the leader region (us-east-1: the US set)', () => {
    const config = testConfig();
    expect(config.leader_lease).toEqual({ duration_seconds: 15, clock_skew_seconds: 2 });
    expect(leaseTimings(config.leader_lease)).toEqual({ durationMs: 15_000, renewEveryMs: 5_000, clockSkewMs: 2_000 });
    const placement = leasePlacementOf(config);
    expect(placement).toEqual({ set: 'US', replicas: ['us-east-1', 'us-east-2', 'us-west-2'], witness: null });
    // PCEs outside the set reach the home replica (or one on their continent)
    expect(leaseRegionFor(placement, 'us-east-1')).toBe('us-east-1');
    expect(leaseRegionFor(placement, 'eu-west-1')).toBe('us-east-1');
    expect(leaseRegionFor(placement, 'us-west-1')).toBe('us-east-1');
  });

  it('derives 2 replicas around a witness, and takes explicit regions as given', () => {
    expect(leasePlacementOf(parseSuperclusterConfig(withLease({ witness_region: 'us-west-2' })))).toEqual({ set: 'US', replicas: ['us-east-1', 'us-east-2'], witness: 'us-west-2' });
    const eu = leasePlacementOf(parseSuperclusterConfig(withLease({ regions: ['eu-west-1', 'eu-central-1'], witness_region: 'eu-west-2' })));
    expect(eu).toEqual({ set: 'EU', replicas: ['eu-west-1', 'eu-central-1'], witness: 'eu-west-2' });
    expect(leaseRegionFor(eu, 'eu-west-1')).toBe('eu-west-1');
    expect(leaseRegionFor(eu, 'ap-southeast-1')).toBe('eu-west-1');
  });

  it('rejects what cannot form an MRSC table, naming the field', () => {
    expect(issuesOf(withLease({ regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'] }))).toEqual([
      expect.stringMatching(/^leader_lease\.regions: us-east-1, eu-west-1, ap-northeast-1 span the region sets US and EU and AP/) as unknown,
    ]);
    expect(issuesOf(withLease({ regions: ['us-east-1', 'us-east-2'] }))).toEqual([expect.stringMatching(/^leader_lease\.regions: a strongly consistent table has exactly 3 replica regions/) as unknown]);
    expect(issuesOf(withLease({ regions: ['us-east-1', 'us-east-2', 'us-west-2'], witness_region: 'us-west-2' }))[0]).toMatch(/^leader_lease\.regions: a strongly consistent table has exactly 2 replica regions with a witness/);
    expect(issuesOf(withLease({ regions: ['us-east-1', 'us-east-2', 'sa-east-1'] }))).toEqual([expect.stringMatching(/^leader_lease\.regions: sa-east-1 is in no multi-Region strong consistency region set/) as unknown]);
    expect(issuesOf(withLease({ witness_region: 'ap-southeast-1' }))[0]).toMatch(/^leader_lease\.witness_region: ap-southeast-1 is in no/);
    expect(issuesOf(withLease({ duration_seconds: 6, clock_skew_seconds: 2 }))[0]).toMatch(/^leader_lease\.clock_skew_seconds: must be less than a third/);
    expect(issuesOf(withLease({ duration: 15 }))[0]).toMatch(/^leader_lease/);
  });

  it("rejects a default placement when the leader's region is in no region set", () => {
    const raw = rawConfig();
    raw.leader = 'pce-ap.sc.example.com';
    expect(issuesOf(raw)).toEqual([expect.stringMatching(/^leader_lease\.regions: the leader's region ap-southeast-1 is in no multi-Region strong consistency region set/) as unknown]);
    expect(issuesOf({ ...raw, leader_lease: { regions: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'] } })).toEqual([]);
  });
});
