/**
 * Where the leader lease lives and how long it holds (docs/adr/0012-leader-lease.md), from the config's
 * `leader_lease` field. The lease table has multi-Region strong consistency (MRSC), which AWS offers only
 * inside one region set, with exactly three replicas or two replicas and a witness. PCEs can sit in any
 * region, so the table cannot have a replica per PCE: it lives in one set (by default the initial leader's)
 * and every PCE reaches it in the replica region nearest to it, over the network. A PCE region cut off from
 * that set can neither renew nor take the lease: that is the fence.
 */
import type { SuperclusterConfig } from './config.ts';
import type { LeaseTimings } from './lease.ts';

/** The MRSC region sets (AWS DynamoDB global tables, multi-Region strong consistency). */
export const MRSC_REGION_SETS = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
} as const satisfies Record<string, readonly string[]>;

export type MrscRegionSet = keyof typeof MRSC_REGION_SETS;

export const LEASE_DEFAULTS = { duration_seconds: 15, clock_skew_seconds: 2 } as const;

/** The config's `leader_lease` as it is written (after defaults). */
export interface LeaderLeaseSettings {
  readonly duration_seconds: number;
  readonly clock_skew_seconds: number;
  readonly regions?: readonly string[] | undefined;
  readonly witness_region?: string | undefined;
}

/** The lease table's placement. */
export interface LeasePlacement {
  readonly set: MrscRegionSet;
  /** the replica regions; the first is the home (where the CDK stack creates the table) */
  readonly replicas: readonly string[];
  readonly witness: string | null;
}

export function mrscSetOf(region: string): MrscRegionSet | null {
  for (const [name, regions] of Object.entries(MRSC_REGION_SETS) as [MrscRegionSet, readonly string[]][]) if (regions.includes(region)) return name;
  return null;
}

const describeSets = (): string =>
  Object.entries(MRSC_REGION_SETS)
    .map(([name, regions]) => `${name}: ${regions.join(', ')}`)
    .join('; ');

/** The default replicas in `set`: `first` (when it is in the set) and the set's next regions, without `witness`. */
function derivedReplicas(set: MrscRegionSet, first: string | null, count: number, witness: string | null): string[] {
  const others = MRSC_REGION_SETS[set].filter((r) => r !== first && r !== witness);
  return [...(first ? [first] : []), ...others].slice(0, count);
}

/** Problems of `leader_lease` (each naming its field); `leaderRegion` is the initial leader's region. */
export function leaseIssues(settings: LeaderLeaseSettings, leaderRegion: string | undefined): string[] {
  const issues: string[] = [];
  if (settings.clock_skew_seconds * 3 >= settings.duration_seconds) {
    issues.push(`leader_lease.clock_skew_seconds: must be less than a third of duration_seconds (${settings.duration_seconds}), or a renewed lease could not be used before it is renewed again`);
  }
  const witness = settings.witness_region ?? null;
  if (settings.regions === undefined) {
    const anchor = witness ?? leaderRegion;
    if (anchor === undefined) return issues;
    if (mrscSetOf(anchor) === null) {
      issues.push(
        witness
          ? `leader_lease.witness_region: ${witness} is in no multi-Region strong consistency region set (${describeSets()})`
          : `leader_lease.regions: the leader's region ${anchor} is in no multi-Region strong consistency region set (${describeSets()}); list the lease table's regions`,
      );
    }
    return issues;
  }
  const regions = settings.regions;
  const wanted = witness ? 2 : 3;
  if (regions.length !== wanted) {
    issues.push(`leader_lease.regions: a strongly consistent table has exactly ${witness ? '2 replica regions with a witness' : '3 replica regions (or 2 and a witness_region)'}, got ${regions.length}`);
  }
  if (new Set(regions).size !== regions.length) issues.push('leader_lease.regions: a region is listed twice');
  if (witness && regions.includes(witness)) issues.push(`leader_lease.witness_region: ${witness} is also a replica region`);
  const all = witness ? [...regions, witness] : [...regions];
  const outside = all.filter((r) => mrscSetOf(r) === null);
  if (outside.length > 0) issues.push(`leader_lease.regions: ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} in no multi-Region strong consistency region set (${describeSets()})`);
  const sets = new Set(all.map(mrscSetOf).filter((s) => s !== null));
  if (sets.size > 1) issues.push(`leader_lease.regions: ${all.join(', ')} span the region sets ${[...sets].join(' and ')}; all must be in one set (${describeSets()})`);
  return issues;
}

/** Where the lease table lives, for a config whose `leader_lease` passed leaseIssues. */
export function leasePlacement(settings: LeaderLeaseSettings, leaderRegion: string): LeasePlacement {
  const witness = settings.witness_region ?? null;
  if (settings.regions !== undefined) {
    const set = mrscSetOf(settings.regions[0] ?? '');
    if (!set) throw new Error(`leader_lease.regions: ${settings.regions.join(', ')} form no region set`);
    return { set, replicas: [...settings.regions], witness };
  }
  const set = mrscSetOf(witness ?? leaderRegion);
  if (!set) throw new Error(`leader_lease: the leader's region ${leaderRegion} is in no region set`);
  const first = mrscSetOf(leaderRegion) === set && leaderRegion !== witness ? leaderRegion : null;
  return { set, replicas: derivedReplicas(set, first, witness ? 2 : 3, witness), witness };
}

/**
 * The replica region a PCE in `pceRegion` reaches the lease table in: its own region when it holds a
 * replica, else a replica on the same continent prefix (`eu-`, `us-`, `ap-`), else the home region.
 */
export function leaseRegionFor(placement: LeasePlacement, pceRegion: string): string {
  if (placement.replicas.includes(pceRegion)) return pceRegion;
  const prefix = pceRegion.split('-')[0];
  return placement.replicas.find((r) => r.split('-')[0] === prefix) ?? placement.replicas[0] ?? pceRegion;
}

/** The timings of `settings`: the holder renews every third of the duration. */
export function leaseTimings(settings: Pick<LeaderLeaseSettings, 'duration_seconds' | 'clock_skew_seconds'>): LeaseTimings {
  const durationMs = settings.duration_seconds * 1000;
  return { durationMs, renewEveryMs: Math.floor(durationMs / 3), clockSkewMs: settings.clock_skew_seconds * 1000 };
}

/** The placement for a validated config (its initial leader's region anchors the default). */
export function leasePlacementOf(config: Pick<SuperclusterConfig, 'leader_lease' | 'leader' | 'pces'>): LeasePlacement {
  const leaderRegion = config.pces.find((p) => p.fqdn === config.leader)?.region;
  if (leaderRegion === undefined) throw new Error(`leader: ${config.leader} is not a PCE of this supercluster`);
  return leasePlacement(config.leader_lease, leaderRegion);
}
