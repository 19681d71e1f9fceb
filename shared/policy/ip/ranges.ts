/**
 * Sets of IP addresses as sorted, disjoint, merged inclusive ranges: IPv4 as number pairs, IPv6 as bigint
 * pairs. Parsing of single addresses, CIDRs ("10.0.0.0/8", host bits are masked off) and ranges
 * ("10.0.0.1-10.0.0.9" or fromIp/toIp); union, subtraction (IP-list exclusions) and formatting as
 * `CompiledIpSet.members` strings ("a.b.c.d" for one address, "a.b.c.d-e.f.g.h" for a range, IPv4 first).
 */
import type { IpRange } from '../model.ts';
import { formatIpv4, formatIpv6, parseIp, type IpFamily, type ParsedIp } from './address.ts';
import { InvalidIpError } from './errors.ts';

export type Range<T extends number | bigint> = readonly [T, T];
export type ParsedIpRange = { readonly family: 4; readonly start: number; readonly end: number } | { readonly family: 6; readonly start: bigint; readonly end: bigint };

function succ<T extends number | bigint>(x: T): T {
  return (typeof x === 'bigint' ? x + 1n : (x as number) + 1) as T;
}
function pred<T extends number | bigint>(x: T): T {
  return (typeof x === 'bigint' ? x - 1n : (x as number) - 1) as T;
}
function cmpRange<T extends number | bigint>(a: Range<T>, b: Range<T>): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** Sorts and merges overlapping or adjacent ranges. */
export function normaliseRanges<T extends number | bigint>(ranges: readonly Range<T>[]): Range<T>[] {
  const sorted = [...ranges].sort(cmpRange);
  const out: [T, T][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= succ(last[1])) {
      if (e > last[1]) last[1] = e;
    } else {
      out.push([s, e]);
    }
  }
  return out;
}

/** Union of two normalised range lists, in linear time. */
export function unionRanges<T extends number | bigint>(a: readonly Range<T>[], b: readonly Range<T>[]): Range<T>[] {
  if (b.length === 0) return [...a];
  if (a.length === 0) return [...b];
  const out: [T, T][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    let next: Range<T>;
    if (x && (!y || x[0] <= y[0])) {
      next = x;
      i++;
    } else if (y) {
      next = y;
      j++;
    } else break;
    const last = out[out.length - 1];
    if (last && next[0] <= succ(last[1])) {
      if (next[1] > last[1]) last[1] = next[1];
    } else {
      out.push([next[0], next[1]]);
    }
  }
  return out;
}

/** `a` minus `b`, both normalised. */
export function subtractRanges<T extends number | bigint>(a: readonly Range<T>[], b: readonly Range<T>[]): Range<T>[] {
  if (b.length === 0) return [...a];
  const out: Range<T>[] = [];
  let j = 0;
  for (const [s, e] of a) {
    let cur = s;
    let done = false;
    while (j < b.length && (b[j] as Range<T>)[1] < cur) j++;
    for (let k = j; k < b.length && !done; k++) {
      const [bs, be] = b[k] as Range<T>;
      if (bs > e) break;
      if (bs > cur) out.push([cur, pred(bs)]);
      if (be >= e) done = true;
      else cur = succ(be);
    }
    if (!done) out.push([cur, e]);
  }
  return out;
}

/** Whether `x` lies in one of the normalised ranges (binary search). */
export function rangesContain<T extends number | bigint>(ranges: readonly Range<T>[], x: T): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid] as Range<T>;
    if (x < r[0]) hi = mid - 1;
    else if (x > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Members strings of normalised ranges of one family. */
export function formatRanges<T extends number | bigint>(ranges: readonly Range<T>[], format: (x: T) => string, out: string[] = []): string[] {
  for (const [s, e] of ranges) out.push(s === e ? format(s) : `${format(s)}-${format(e)}`);
  return out;
}

function parsePrefix(text: string, whole: string, max: number): number {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) throw new InvalidIpError(whole, 'bad prefix length');
  const len = Number(text);
  if (len > max) throw new InvalidIpError(whole, `prefix length above /${max}`);
  return len;
}

/** "a/n" as a range (host bits masked off). */
export function parseCidr(s: string): ParsedIpRange {
  const slash = s.indexOf('/');
  if (slash < 0) throw new InvalidIpError(s, 'not a CIDR (missing /prefix)');
  const ip = parseIp(s.slice(0, slash));
  if (ip.family === 4) {
    const size = 2 ** (32 - parsePrefix(s.slice(slash + 1), s, 32));
    const start = Math.floor(ip.value / size) * size;
    return { family: 4, start, end: start + size - 1 };
  }
  const size = 1n << BigInt(128 - parsePrefix(s.slice(slash + 1), s, 128));
  const start = (ip.value / size) * size;
  return { family: 6, start, end: start + size - 1n };
}

function single(ip: ParsedIp): ParsedIpRange {
  return ip.family === 4 ? { family: 4, start: ip.value, end: ip.value } : { family: 6, start: ip.value, end: ip.value };
}

/** The model's range form: `fromIp` an address or CIDR; `toIp`, when present, the inclusive upper address. */
export function parseIpRangeSpec(fromIp: string, toIp?: string): ParsedIpRange {
  if (typeof fromIp !== 'string') throw new InvalidIpError(String(fromIp), 'not a string');
  if (toIp === undefined) return fromIp.includes('/') ? parseCidr(fromIp) : single(parseIp(fromIp));
  const whole = `${fromIp}-${toIp}`;
  if (fromIp.includes('/')) throw new InvalidIpError(whole, 'a range starts at an address, not a CIDR');
  const a = parseIp(fromIp);
  const b = parseIp(toIp);
  if (a.family === 4 && b.family === 4) {
    if (a.value > b.value) throw new InvalidIpError(whole, 'range start above its end');
    return { family: 4, start: a.value, end: b.value };
  }
  if (a.family === 6 && b.family === 6) {
    if (a.value > b.value) throw new InvalidIpError(whole, 'range start above its end');
    return { family: 6, start: a.value, end: b.value };
  }
  throw new InvalidIpError(whole, 'range ends are of different families');
}

/** Text form: "a", "a/n" or "a-b". */
export function parseIpRangeText(s: string): ParsedIpRange {
  if (typeof s !== 'string') throw new InvalidIpError(String(s), 'not a string');
  const dash = s.indexOf('-');
  if (dash < 0) return parseIpRangeSpec(s);
  return parseIpRangeSpec(s.slice(0, dash).trim(), s.slice(dash + 1).trim());
}

/** An immutable set of IPv4 and IPv6 addresses. */
export class IpRangeSet {
  static readonly EMPTY = new IpRangeSet([], []);

  private constructor(
    /** normalised IPv4 ranges */
    readonly v4: readonly Range<number>[],
    /** normalised IPv6 ranges */
    readonly v6: readonly Range<bigint>[],
  ) {}

  /** From already normalised ranges (not checked). */
  static fromNormalised(v4: readonly Range<number>[], v6: readonly Range<bigint>[]): IpRangeSet {
    return v4.length === 0 && v6.length === 0 ? IpRangeSet.EMPTY : new IpRangeSet(v4, v6);
  }

  static fromRanges(ranges: Iterable<ParsedIpRange>): IpRangeSet {
    const v4: Range<number>[] = [];
    const v6: Range<bigint>[] = [];
    for (const r of ranges) {
      if (r.family === 4) v4.push([r.start, r.end]);
      else v6.push([r.start, r.end]);
    }
    return IpRangeSet.fromNormalised(normaliseRanges(v4), normaliseRanges(v6));
  }

  static fromIps(ips: Iterable<ParsedIp>): IpRangeSet {
    return IpRangeSet.fromRanges([...ips].map(single));
  }

  /** From text entries: "a", "a/n", "a-b" (e.g. `members` strings). Throws InvalidIpError. */
  static parse(entries: Iterable<string>): IpRangeSet {
    return IpRangeSet.fromRanges([...entries].map(parseIpRangeText));
  }

  /** An IP list's contents: its ranges minus its exclusions. Throws InvalidIpError. */
  static fromIpList(ranges: readonly IpRange[]): IpRangeSet {
    const include = IpRangeSet.fromRanges(ranges.filter((r) => !r.exclusion).map((r) => parseIpRangeSpec(r.fromIp, r.toIp)));
    const exclude = IpRangeSet.fromRanges(ranges.filter((r) => r.exclusion).map((r) => parseIpRangeSpec(r.fromIp, r.toIp)));
    return include.subtract(exclude);
  }

  isEmpty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  union(other: IpRangeSet): IpRangeSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    return IpRangeSet.fromNormalised(unionRanges(this.v4, other.v4), unionRanges(this.v6, other.v6));
  }

  subtract(other: IpRangeSet): IpRangeSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    return IpRangeSet.fromNormalised(subtractRanges(this.v4, other.v4), subtractRanges(this.v6, other.v6));
  }

  contains(ip: string | ParsedIp): boolean {
    const p = typeof ip === 'string' ? parseIp(ip) : ip;
    return p.family === 4 ? rangesContain(this.v4, p.value) : rangesContain(this.v6, p.value);
  }

  /** Number of addresses of one family (a bigint: IPv6 sets are large). */
  size(family: IpFamily): bigint {
    if (family === 4) return this.v4.reduce((n, [s, e]) => n + BigInt(e - s + 1), 0n);
    return this.v6.reduce((n, [s, e]) => n + (e - s + 1n), 0n);
  }

  equals(other: IpRangeSet): boolean {
    const same = <T extends number | bigint>(a: readonly Range<T>[], b: readonly Range<T>[]): boolean =>
      a.length === b.length && a.every((r, i) => r[0] === b[i]?.[0] && r[1] === b[i]?.[1]);
    return same(this.v4, other.v4) && same(this.v6, other.v6);
  }

  /** `CompiledIpSet.members` strings: IPv4 ranges then IPv6 ranges, ascending. */
  toMembers(): string[] {
    return formatRanges(this.v6, formatIpv6, formatRanges(this.v4, formatIpv4));
  }
}


