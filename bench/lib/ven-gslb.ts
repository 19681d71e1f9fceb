/**
 * How simulated VENs find their PCE: the supercluster FQDN resolved through the local GSLB (the state
 * file's `gslb.dns`) from an address in their PCE's client subnet (`gslb.client_subnets`), as a VEN's
 * resolver would query Route 53 from its continent. One resolver per client subnet, shared by the VENs
 * of that subnet (a site's caching resolver): an answer is kept for its TTL and asked again after, so the
 * VENs honour the TTL; concurrent asks share one query.
 */
import type { LocalSuperclusterState } from '../../infra/local/supercluster.ts';
import { resolveA } from '../../infra/local/gslb-dns.ts';
import type { PceEndpoint } from './ven-client.ts';

/** The address queries of client subnet `cidr` are sent from (127.N.0.0/16 -> 127.N.0.2). */
export function sourceAddressIn(cidr: string): string {
  const [base] = cidr.split('/');
  const octets = (base ?? '').split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o))) throw new Error(`${cidr} is not an IPv4 subnet`);
  return `${octets[0]}.${octets[1]}.${octets[2]}.${(octets[3] ?? 0) + 2}`;
}

interface Cached {
  readonly pce: PceEndpoint | null;
  readonly expiresAt: number;
}

export class GslbResolver {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<PceEndpoint | null>>();
  queries = 0;
  errors = 0;

  private constructor(
    private readonly dns: string,
    private readonly name: string,
    private readonly subnets: ReadonlyMap<string, string>,
    private readonly byAddress: ReadonlyMap<string, PceEndpoint>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The resolver of a state file with a local GSLB; null when it has none (VENs then reach their PCE's URL directly). */
  static of(state: Pick<LocalSuperclusterState, 'gslb' | 'supercluster_fqdn'>, pces: readonly PceEndpoint[]): GslbResolver | null {
    if (!state.gslb?.dns) return null;
    const subnets = new Map(Object.entries(state.gslb.client_subnets ?? {}));
    const byAddress = new Map(pces.map((p) => [new URL(p.url).hostname, p]));
    return new GslbResolver(state.gslb.dns, state.supercluster_fqdn, subnets, byAddress);
  }

  /** Where the GSLB sends a client of `home`'s subnet now (cached for the answer's TTL); null: no answer. */
  async resolve(home: PceEndpoint): Promise<PceEndpoint | null> {
    const hit = this.cache.get(home.fqdn);
    if (hit && hit.expiresAt > this.now()) return hit.pce;
    let pending = this.inFlight.get(home.fqdn);
    if (!pending) {
      pending = this.query(home).finally(() => this.inFlight.delete(home.fqdn));
      this.inFlight.set(home.fqdn, pending);
    }
    return pending;
  }

  /** Forgets the cached answers (a test's or an operator's "flush the resolver"). */
  flush(): void {
    this.cache.clear();
  }

  private async query(home: PceEndpoint): Promise<PceEndpoint | null> {
    const subnet = this.subnets.get(home.fqdn);
    if (!subnet) return home;
    this.queries++;
    try {
      const answer = await resolveA(this.dns, this.name, sourceAddressIn(subnet));
      const pce = answer.addresses.map((a) => this.byAddress.get(a)).find((p) => p !== undefined) ?? null;
      this.cache.set(home.fqdn, { pce, expiresAt: this.now() + Math.max(1, answer.ttl ?? 1) * 1000 });
      return pce;
    } catch {
      this.errors++;
      return null;
    }
  }
}
