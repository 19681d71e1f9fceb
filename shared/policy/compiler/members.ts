/**
 * A set's materialised contents for one address family: normalised ranges and their member strings,
 * patched in place when one address joins or leaves (so a workload's IP change re-formats one or two
 * ranges, not the whole set).
 */
import type { Range } from '../ip/ranges.ts';

export class MemberList<T extends number | bigint> {
  private readonly starts: T[] = [];
  private readonly ends: T[] = [];
  readonly strings: string[] = [];

  constructor(
    ranges: readonly Range<T>[],
    private readonly format: (x: T) => string,
    private readonly succ: (x: T) => T,
    private readonly pred: (x: T) => T,
  ) {
    for (const [s, e] of ranges) {
      this.starts.push(s);
      this.ends.push(e);
      this.strings.push(this.text(s, e));
    }
  }

  private text(s: T, e: T): string {
    return s === e ? this.format(s) : `${this.format(s)}-${this.format(e)}`;
  }

  /** index of the first range starting above x */
  private upper(x: T): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.starts[mid] as T) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private set(i: number, s: T, e: T): void {
    this.starts[i] = s;
    this.ends[i] = e;
    this.strings[i] = this.text(s, e);
  }

  /** x joins (it must be absent) */
  add(x: T): void {
    const i = this.upper(x);
    const prevEnd = i > 0 ? (this.ends[i - 1] as T) : undefined;
    if (prevEnd !== undefined && prevEnd >= x) throw new Error('MemberList.add: present address (internal bookkeeping error)');
    const joinPrev = prevEnd !== undefined && this.succ(prevEnd) === x;
    const joinNext = i < this.starts.length && this.starts[i] === this.succ(x);
    if (joinPrev && joinNext) {
      this.set(i - 1, this.starts[i - 1] as T, this.ends[i] as T);
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
      this.strings.splice(i, 1);
    } else if (joinPrev) {
      this.set(i - 1, this.starts[i - 1] as T, x);
    } else if (joinNext) {
      this.set(i, x, this.ends[i] as T);
    } else {
      this.starts.splice(i, 0, x);
      this.ends.splice(i, 0, x);
      this.strings.splice(i, 0, this.format(x));
    }
  }

  /** x leaves (it must be present) */
  remove(x: T): void {
    const i = this.upper(x) - 1;
    const s = this.starts[i];
    const e = this.ends[i];
    if (s === undefined || e === undefined || e < x) throw new Error('MemberList.remove: absent address (internal bookkeeping error)');
    if (s === e) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
      this.strings.splice(i, 1);
    } else if (x === s) {
      this.set(i, this.succ(x), e);
    } else if (x === e) {
      this.set(i, s, this.pred(x));
    } else {
      this.set(i, s, this.pred(x));
      const s2 = this.succ(x);
      this.starts.splice(i + 1, 0, s2);
      this.ends.splice(i + 1, 0, e);
      this.strings.splice(i + 1, 0, this.text(s2, e));
    }
  }
}
