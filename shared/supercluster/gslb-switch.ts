/**
 * The GSLB switch of each PCE: whether the operator has failed its clients over to its buddy
 * (`pce-ctl gslb failover` / `gslb restore`). Every PCE serves every PCE's switch on
 * `GET /api/v2/gslb/switches/<fqdn>` (shared/supercluster/gslb.ts: the switch health checks).
 *
 * One writer region per item (docs/adr/0001-one-writer-region-per-item.md): the switch of PCE X is one
 * global-table item per region that wrote it (`GSLB_SWITCH#<X fqdn>` / `BY#<writer region>`), so the
 * operator can fail X over in any region that is up, X's own region down included. The switch is the
 * newest `changed_at` among X's items (docs/adr/0011-gslb-failover.md; shared/supercluster/writer-marks.ts).
 */
import { newestMark, nextChangedAt } from './writer-marks.ts';

export interface GslbSwitchItem {
  readonly pceFqdn: string;
  readonly failedOver: boolean;
  /** ms since the epoch, the operator's clock */
  readonly changedAt: number;
  /** who changed it (the operator's name as pce-ctl knows it) */
  readonly changedBy: string;
  /** the region whose replica it was written in: its one writer */
  readonly originRegion: string;
}

/** The switch items, in the global table (this region's replica). */
export interface GslbSwitchStore {
  /** every writer region's item of one PCE */
  list(pceFqdn: string): Promise<GslbSwitchItem[]>;
  /** writes the item of the store's own region (its origin region) */
  put(item: Omit<GslbSwitchItem, 'originRegion'>): Promise<void>;
}

/** What a PCE's switch says now. */
export interface GslbSwitchState {
  readonly pceFqdn: string;
  readonly failedOver: boolean;
  /** null: never switched (not failed over) */
  readonly changedAt: number | null;
  readonly changedBy: string | null;
  readonly changedInRegion: string | null;
}

/** A PCE FQDN that is not one of the supercluster's. */
export class UnknownPceError extends Error {
  override readonly name = 'UnknownPceError';
  constructor(
    readonly fqdn: string,
    readonly known: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`${fqdn} is not a PCE of this supercluster (PCEs: ${known.join(', ')})`, options);
  }
}

/** The item that decides: the newest `changed_at`; on a tie, failed over wins, then the lower region name (deterministic everywhere). */
export function newestSwitchItem(items: readonly GslbSwitchItem[]): GslbSwitchItem | null {
  return newestMark(items, (item) => item.failedOver);
}

export function switchState(pceFqdn: string, items: readonly GslbSwitchItem[]): GslbSwitchState {
  const newest = newestSwitchItem(items);
  return {
    pceFqdn,
    failedOver: newest?.failedOver ?? false,
    changedAt: newest?.changedAt ?? null,
    changedBy: newest?.changedBy ?? null,
    changedInRegion: newest?.originRegion ?? null,
  };
}

/** The switch as the API serves it (the body of 200 and 503 alike). */
export interface GslbSwitchJson {
  readonly pce_fqdn: string;
  readonly failed_over: boolean;
  readonly changed_at: string | null;
  readonly changed_by: string | null;
  readonly changed_in_region: string | null;
  /** the PCE that answered, from its region's replica */
  readonly served_by: string;
}

export function switchJson(state: GslbSwitchState, servedBy: string): GslbSwitchJson {
  return {
    pce_fqdn: state.pceFqdn,
    failed_over: state.failedOver,
    changed_at: state.changedAt === null ? null : new Date(state.changedAt).toISOString(),
    changed_by: state.changedBy,
    changed_in_region: state.changedInRegion,
    served_by: servedBy,
  };
}

/** How long a read is served from memory: health checkers probe each switch about every second in all. */
export const SWITCH_CACHE_MS = 3_000;
/** How long a cached read stands in when the replica does not answer (a health check should not flap on one slow read). */
export const SWITCH_STALE_MS = 60_000;

export interface GslbSwitchServiceDeps {
  readonly pceFqdns: readonly string[];
  readonly store: GslbSwitchStore;
  readonly cacheMs?: number;
  readonly staleMs?: number;
  readonly now?: () => number;
}

interface CacheEntry {
  readonly state: GslbSwitchState;
  readonly readAt: number;
}

/** Reads (cached) and changes the switches, in one region's replica. */
export class GslbSwitchService {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<GslbSwitchState>>();
  private readonly now: () => number;
  private readonly cacheMs: number;
  private readonly staleMs: number;

  constructor(private readonly deps: GslbSwitchServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.cacheMs = deps.cacheMs ?? SWITCH_CACHE_MS;
    this.staleMs = deps.staleMs ?? SWITCH_STALE_MS;
  }

  requirePce(fqdn: string): string {
    const wanted = fqdn.toLowerCase().replace(/\.$/, '');
    if (!this.deps.pceFqdns.includes(wanted)) throw new UnknownPceError(fqdn, this.deps.pceFqdns);
    return wanted;
  }

  /** The switch of `fqdn` (at most `cacheMs` old; one read at a time per PCE). */
  async read(fqdn: string): Promise<GslbSwitchState> {
    const pce = this.requirePce(fqdn);
    const now = this.now();
    const cached = this.cache.get(pce);
    if (cached && now - cached.readAt < this.cacheMs) return cached.state;
    let pending = this.inFlight.get(pce);
    if (!pending) {
      pending = this.readThrough(pce, cached).finally(() => this.inFlight.delete(pce));
      this.inFlight.set(pce, pending);
    }
    return pending;
  }

  /** Uncached: what the replica holds now. */
  async readFresh(fqdn: string): Promise<GslbSwitchState> {
    const pce = this.requirePce(fqdn);
    return switchState(pce, await this.deps.store.list(pce));
  }

  /**
   * Sets the switch of `fqdn` in this region. `changed_at` is now, or just after the newest item seen when
   * that one is later (another writer's clock ahead of ours): the change must win.
   */
  async set(fqdn: string, failedOver: boolean, changedBy: string): Promise<GslbSwitchState> {
    const pce = this.requirePce(fqdn);
    const newest = newestSwitchItem(await this.deps.store.list(pce));
    const changedAt = nextChangedAt(this.now(), newest);
    await this.deps.store.put({ pceFqdn: pce, failedOver, changedAt, changedBy });
    this.cache.delete(pce);
    return this.readFresh(pce);
  }

  private async readThrough(pce: string, cached: CacheEntry | undefined): Promise<GslbSwitchState> {
    try {
      const state = switchState(pce, await this.deps.store.list(pce));
      this.cache.set(pce, { state, readAt: this.now() });
      return state;
    } catch (err) {
      if (cached && this.now() - cached.readAt < this.staleMs) return cached.state;
      throw err;
    }
  }
}
