/**
 * Operator marks that must be settable with any region down (the GSLB switch, the drop mark): one item
 * per (subject, writer region), each written only in its own region's replica (ADR 0001), and the newest
 * decides. Every reader applies the same rule, so every region that holds the same items agrees.
 */

export interface WriterMark {
  /** ms since the epoch, the writer's clock */
  readonly changedAt: number;
  /** the region whose replica it was written in: its one writer */
  readonly originRegion: string;
}

/** The mark that decides: the newest `changedAt`; on a tie, the one with `isSet` wins, then the lower region name. */
export function newestMark<T extends WriterMark>(marks: Iterable<T>, isSet: (mark: T) => boolean): T | null {
  let best: T | null = null;
  for (const m of marks) {
    if (best === null || m.changedAt > best.changedAt || (m.changedAt === best.changedAt && (isSet(m) !== isSet(best) ? isSet(m) : m.originRegion < best.originRegion))) best = m;
  }
  return best;
}

/** The `changedAt` of a new mark: now, or just after the newest one when that is later (another writer's clock ahead): the change must win. */
export function nextChangedAt(now: number, newest: Pick<WriterMark, 'changedAt'> | null): number {
  return Math.max(now, (newest?.changedAt ?? 0) + 1);
}
