/**
 * IPv4/IPv6 address parsing and formatting. IPv4 addresses are unsigned 32-bit numbers, IPv6 addresses
 * 128-bit bigints. Parsing is strict (no leading zeros in IPv4 octets, no zone ids); IPv6 is formatted
 * per RFC 5952 (lower case, longest run of two or more zero groups compressed, the first on a tie).
 */
import { InvalidIpError } from './errors.ts';

export type IpFamily = 4 | 6;
export type ParsedIp = { readonly family: 4; readonly value: number } | { readonly family: 6; readonly value: bigint };

export const IPV4_MAX = 0xffffffff;
export const IPV6_MAX = (1n << 128n) - 1n;

/** The IPv4 address as a number, or null when `s` is not a dotted-quad IPv4 address. */
export function tryParseIpv4(s: string): number | null {
  const n = s.length;
  if (n < 7 || n > 15) return null;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      if (dots > 3) return null;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return null; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return null;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + octet;
}

export function parseIpv4(s: string): number {
  const v = tryParseIpv4(s);
  if (v === null) throw new InvalidIpError(s, 'not an IPv4 address (a.b.c.d, octets 0-255, no leading zeros)');
  return v;
}

function hexGroup(s: string, whole: string): number {
  if (s.length < 1 || s.length > 4 || !/^[0-9a-fA-F]+$/.test(s)) throw new InvalidIpError(whole, `bad IPv6 group ${JSON.stringify(s)}`);
  return parseInt(s, 16);
}

function groupsOf(part: string, whole: string, allowV4Tail: boolean): number[] {
  if (part === '') return [];
  const items = part.split(':');
  const groups: number[] = [];
  items.forEach((item, i) => {
    if (allowV4Tail && i === items.length - 1 && item.includes('.')) {
      const v4 = tryParseIpv4(item);
      if (v4 === null) throw new InvalidIpError(whole, `bad embedded IPv4 address ${JSON.stringify(item)}`);
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
    } else {
      groups.push(hexGroup(item, whole));
    }
  });
  return groups;
}

/** The IPv6 address as a bigint (accepts `::` compression and an embedded IPv4 tail). */
export function parseIpv6(s: string): bigint {
  if (s.length < 2 || s.length > 45) throw new InvalidIpError(s, 'not an IPv6 address');
  if (s.includes('%')) throw new InvalidIpError(s, 'zone ids are not accepted');
  const halves = s.split('::');
  if (halves.length > 2) throw new InvalidIpError(s, 'more than one "::"');
  let groups: number[];
  if (halves.length === 2) {
    const head = groupsOf(halves[0] ?? '', s, false);
    const tail = groupsOf(halves[1] ?? '', s, true);
    if (head.length + tail.length > 7) throw new InvalidIpError(s, 'too many groups');
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    groups = groupsOf(s, s, true);
    if (groups.length !== 8) throw new InvalidIpError(s, 'an IPv6 address has 8 groups (or uses "::")');
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/** Parses an IPv4 or IPv6 address (no prefix). */
export function parseIp(s: string): ParsedIp {
  if (typeof s !== 'string') throw new InvalidIpError(String(s), 'not a string');
  const v4 = tryParseIpv4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  if (s.includes(':')) return { family: 6, value: parseIpv6(s) };
  throw new InvalidIpError(s, 'not an IPv4 or IPv6 address');
}

export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function formatIpv6(v: bigint): string {
  const hex = v.toString(16).padStart(32, '0');
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) groups[i] = parseInt(hex.slice(i * 4, i * 4 + 4), 16);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  let head = '';
  for (let i = 0; i < bestStart; i++) head += (i > 0 ? ':' : '') + (groups[i] as number).toString(16);
  let tail = '';
  for (let i = bestStart + bestLen; i < 8; i++) tail += (tail !== '' ? ':' : '') + (groups[i] as number).toString(16);
  return `${head}::${tail}`;
}

export function formatIp(ip: ParsedIp): string {
  return ip.family === 4 ? formatIpv4(ip.value) : formatIpv6(ip.value);
}
