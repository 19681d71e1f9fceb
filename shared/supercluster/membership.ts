/**
 * Supercluster membership: one item per PCE, written by the leader; and the drop marks of PCEs dropped
 * from it (`pce-ctl supercluster-drop`), written by the survivor that dropped them.
 */
import { newestMark } from './writer-marks.ts';

export interface PceMember {
  readonly fqdn: string;
  readonly region: string;
  readonly buddy: string;
  readonly continents: readonly string[];
  readonly joinedAt: number;
}

export interface MembershipStore {
  list(): Promise<PceMember[]>;
  /** Adds the PCE unless it is already a member. */
  addIfAbsent(member: PceMember): Promise<void>;
}

/**
 * A drop mark: PCE `pceFqdn` dropped from (or, `dropped: false`, rejoined to) the supercluster, as written
 * in one region. One writer region per item (docs/adr/0001-one-writer-region-per-item.md): the mark of PCE X
 * written in region R is its own item (`SUPERCLUSTER` / `DROP#<X>#BY#<R>`), so a survivor can drop X with X's
 * region, the leader's included, down; the newest `changedAt` among X's marks decides (as the GSLB switch).
 */
export interface PceDropMark {
  readonly pceFqdn: string;
  readonly dropped: boolean;
  /** ms since the epoch, the operator's clock */
  readonly changedAt: number;
  readonly changedBy: string;
  /** the region whose replica it was written in: its one writer */
  readonly originRegion: string;
  /** whether X led the supercluster when it was dropped (its lease must end before a new leader) */
  readonly wasLeader: boolean;
}

/** The drop marks in the global table (this region's replica). */
export interface PceDropStore {
  /** every mark of every PCE, as this replica holds them */
  list(): Promise<PceDropMark[]>;
  /** writes the mark of the store's own region (its origin region) for `mark.pceFqdn` */
  put(mark: Omit<PceDropMark, 'originRegion'>): Promise<void>;
}

/** The mark that decides for one PCE: the newest `changedAt`; on a tie, dropped wins, then the lower region. */
export function newestDropMark(marks: readonly PceDropMark[], pceFqdn: string): PceDropMark | null {
  return newestMark(
    marks.filter((m) => m.pceFqdn === pceFqdn),
    (m) => m.dropped,
  );
}

/** Whether `pceFqdn` is dropped now (never marked: a member). */
export function isDropped(marks: readonly PceDropMark[], pceFqdn: string): boolean {
  return newestDropMark(marks, pceFqdn)?.dropped ?? false;
}

/** The FQDNs dropped now. */
export function droppedPces(marks: readonly PceDropMark[]): string[] {
  return [...new Set(marks.map((m) => m.pceFqdn))].filter((fqdn) => isDropped(marks, fqdn)).sort();
}

export interface Org {
  readonly id: number;
  readonly name: string;
  readonly createdAt: number;
}

export interface User {
  readonly id: number;
  readonly orgId: number;
  readonly username: string;
  readonly fullName: string;
}

export interface DirectoryStore {
  getOrg(orgId: number): Promise<Org | null>;
  putOrgIfAbsent(org: Org): Promise<void>;
  /** the user (identity items, AUTH#USERS; written by shared/auth/access-service.ts) */
  getUser(userId: number): Promise<User | null>;
}
