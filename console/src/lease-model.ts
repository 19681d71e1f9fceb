/** The Supercluster page's lease line, pure: GET /api/v2/supercluster/leader_lease in words. */

/** GET /api/v2/supercluster/leader_lease */
export interface LeaseState {
  lease: { holder_fqdn: string; holder_region: string; epoch: number; renewed_at: string; expires_at: string; holder_writes_until: string; over_at: string; live: boolean } | null;
  leader: { fqdn: string; region: string; epoch: number } | null;
  held_by_leader: boolean;
  duration_seconds: number;
  clock_skew_seconds: number;
  checked_at: string;
}

const inSeconds = (iso: string, from: string): string => {
  const s = Math.round((Date.parse(iso) - Date.parse(from)) / 1000);
  return s >= 0 ? `in ${s} s` : `${-s} s ago`;
};

/** One line about the lease, as the lease authority holds it. */
export function leaseLine(state: LeaseState): string {
  const { lease } = state;
  if (!lease) return 'never taken: no leader has written yet';
  const term = `epoch ${lease.epoch}, renewed ${inSeconds(lease.renewed_at, state.checked_at)}, expires ${inSeconds(lease.expires_at, state.checked_at)}`;
  if (state.held_by_leader) return `held by the leader ${lease.holder_fqdn} (${term}): its writes are fenced by it`;
  if (lease.live) return `held by ${lease.holder_fqdn} (${term}), not the leader record's leader${state.leader ? ` ${state.leader.fqdn} (epoch ${state.leader.epoch})` : ''}: writes wait until it is over`;
  return `expired: last held by ${lease.holder_fqdn} (${term}); the leader takes it again at its next write or renewal`;
}
