/**
 * The contents of a live set as counted multisets: CountedPoints, a sorted multiset of addresses (IPv4
 * numbers or IPv6 bigints) with a count each, so that a workload leaving a set removes its address only
 * when no other member has it; CountedRanges, the same for subnets (sets of `use_workload_subnets` sides).
 */
import { normaliseRanges, type Range } from '../ip/ranges.ts';

export class CountedPoints<T extends number | bigint> {
  private values: T[] = [];
  private counts: number[] = [];

  get distinct(): number {
    return this.values.length;
  }

  /** Replaces the contents with these points (any order, repeats counted). */
  load(points: readonly T[]): void {
    let sorted: readonly T[];
    if (points.length > 0 && typeof points[0] === 'number') sorted = Array.from(Float64Array.from(points as readonly number[]).sort()) as T[];
    else sorted = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const values: T[] = [];
    const counts: number[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const x = sorted[i] as T;
      if (values.length > 0 && values[values.length - 1] === x) counts[counts.length - 1] = (counts[counts.length - 1] as number) + 1;
      else {
        values.push(x);
        counts.push(1);
      }
    }
    this.values = values;
    this.counts = counts;
  }

  private find(x: T): number {
    let lo = 0;
    let hi = this.values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.values[mid] as T) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds one occurrence; true when `x` was absent before. */
  add(x: T): boolean {
    const i = this.find(x);
    if (i < this.values.length && this.values[i] === x) {
      this.counts[i] = (this.counts[i] as number) + 1;
      return false;
    }
    this.values.splice(i, 0, x);
    this.counts.splice(i, 0, 1);
    return true;
  }

  /** Removes one occurrence; true when `x` is now absent. */
  remove(x: T): boolean {
    const i = this.find(x);
    if (i >= this.values.length || this.values[i] !== x) throw new Error('CountedPoints.remove: absent point (internal bookkeeping error)');
    const c = this.counts[i] as number;
    if (c > 1) {
      this.counts[i] = c - 1;
      return false;
    }
    this.values.splice(i, 1);
    this.counts.splice(i, 1);
    return true;
  }

  has(x: T): boolean {
    const i = this.find(x);
    return i < this.values.length && this.values[i] === x;
  }

  /** The distinct values as merged ranges (consecutive addresses joined). */
  toRanges(): Range<T>[] {
    const v = this.values;
    if (v.length === 0) return [];
    const isNext = (typeof v[0] === 'bigint' ? (a: T, b: T) => (b as bigint) === (a as bigint) + 1n : (a: T, b: T) => (b as number) === (a as number) + 1) as (a: T, b: T) => boolean;
    const out: [T, T][] = [];
    let start = v[0] as T;
    let end = start;
    for (let i = 1; i < v.length; i++) {
      const x = v[i] as T;
      if (isNext(end, x)) end = x;
      else {
        out.push([start, end]);
        start = x;
        end = x;
      }
    }
    out.push([start, end]);
    return out;
  }

  clear(): void {
    this.values = [];
    this.counts = [];
  }
}

/**
 * A multiset of ranges (a workload's interface subnets, or its address as a one-address range) with a
 * count each, so that a workload leaving a set removes its subnet only when no other member has it. Its
 * contents are the union of the distinct ranges; subnets nest and overlap, so they are merged when read.
 */
export class CountedRanges<T extends number | bigint> {
  private readonly entries = new Map<string, { readonly range: Range<T>; count: number }>();

  get distinct(): number {
    return this.entries.size;
  }

  /** Replaces the contents with these ranges (repeats counted). */
  load(ranges: readonly Range<T>[]): void {
    this.entries.clear();
    for (const r of ranges) this.add(r);
  }

  /** occurrences of exactly this range */
  count(r: Range<T>): number {
    return this.entries.get(rangeKey(r))?.count ?? 0;
  }

  /** Adds one occurrence; true when `r` was absent before. */
  add(r: Range<T>): boolean {
    const key = rangeKey(r);
    const e = this.entries.get(key);
    if (e) {
      e.count++;
      return false;
    }
    this.entries.set(key, { range: r, count: 1 });
    return true;
  }

  /** Removes one occurrence; true when `r` is now absent. */
  remove(r: Range<T>): boolean {
    const key = rangeKey(r);
    const e = this.entries.get(key);
    if (!e) throw new Error('CountedRanges.remove: absent range (internal bookkeeping error)');
    if (e.count > 1) {
      e.count--;
      return false;
    }
    this.entries.delete(key);
    return true;
  }

  /** The union of the distinct ranges, normalised. */
  toRanges(): Range<T>[] {
    return normaliseRanges([...this.entries.values()].map((e) => e.range));
  }

  clear(): void {
    this.entries.clear();
  }
}

/** a range's identity in a multiset */
export function rangeKey<T extends number | bigint>(r: Range<T>): string {
  return `${r[0]}-${r[1]}`;
}
