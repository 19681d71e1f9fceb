import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IPV6_MAX, InvalidIpError, IpRangeSet, formatIpv4, formatIpv6, parseIp, parseIpRangeSpec, parseIpRangeText, parseIpv4, parseIpv6, type ParsedIpRange } from '../../../shared/policy/ip/index.ts';

describe('IP addresses', () => {
  it('IPv4 and IPv6 format/parse round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(parseIpv4(formatIpv4(n))).toBe(n);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: IPV6_MAX }), (v) => {
        expect(parseIpv6(formatIpv6(v))).toBe(v);
      }),
      { numRuns: 200 },
    );
    // sparse IPv6 values exercise zero-run compression
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0x0db8), { minLength: 8, maxLength: 8 }), (groups) => {
        const v = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
        const text = formatIpv6(v);
        expect(parseIpv6(text)).toBe(v);
        expect(parseIpv6(groups.map((g) => g.toString(16)).join(':'))).toBe(v);
        expect(text).toBe(text.toLowerCase());
        expect(text.split('::').length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 200 },
    );
  });

  it('formats IPv6 per RFC 5952', () => {
    const f = (s: string): string => formatIpv6(parseIpv6(s));
    expect(f('2001:0DB8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(f('2001:db8:0:0:0:0:2:1')).toBe('2001:db8::2:1');
    expect(f('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(f('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1');
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(f('::')).toBe('::');
    expect(f('::1')).toBe('::1');
    expect(f('1::')).toBe('1::');
    expect(f('::ffff:10.0.0.1')).toBe('::ffff:a00:1');
    expect(f('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0');
  });

  it('parses either family', () => {
    expect(parseIp('192.168.0.1')).toEqual({ family: 4, value: 0xc0a80001 });
    expect(parseIp('fe80::1')).toEqual({ family: 6, value: (0xfe80n << 112n) | 1n });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.-1',
    '1.2.3.4 ',
    'abc',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1::2::3',
    '12345::',
    'fe80::1%eth0',
    '::1.2.3',
    'g::1',
    '10.0.0.0/8',
  ])('rejects the address %j with InvalidIpError', (s) => {
    expect(() => parseIp(s)).toThrow(InvalidIpError);
  });

  it.each([
    ['10.0.0.0/33', undefined],
    ['10.0.0.0/08', undefined],
    ['::/129', undefined],
    ['10.0.0.5', '10.0.0.1'],
    ['10.0.0.1', '::1'],
    ['10.0.0.0/8', '10.1.1.1'],
    ['10.0.0.1', 'x'],
  ])('rejects the range %j-%j with InvalidIpError', (from, to) => {
    expect(() => parseIpRangeSpec(from, to)).toThrow(InvalidIpError);
  });

  it('CIDRs mask host bits; ranges are inclusive', () => {
    expect(IpRangeSet.fromRanges([parseIpRangeSpec('10.1.2.3/8')]).toMembers()).toEqual(['10.0.0.0-10.255.255.255']);
    expect(IpRangeSet.fromRanges([parseIpRangeSpec('0.0.0.0/0')]).toMembers()).toEqual(['0.0.0.0-255.255.255.255']);
    expect(IpRangeSet.fromRanges([parseIpRangeSpec('10.0.0.7/32')]).toMembers()).toEqual(['10.0.0.7']);
    expect(IpRangeSet.fromRanges([parseIpRangeSpec('2001:db8::1/32')]).toMembers()).toEqual(['2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff']);
    expect(IpRangeSet.fromRanges([parseIpRangeSpec('10.0.0.1', '10.0.0.3')]).size(4)).toBe(3n);
    expect(IpRangeSet.parse(['10.0.0.1 - 10.0.0.3', '::1', '10.0.0.4', '10.0.0.9']).toMembers()).toEqual(['10.0.0.1-10.0.0.4', '10.0.0.9', '::1']);
  });

  it('IP lists are their ranges minus their exclusions', () => {
    const set = IpRangeSet.fromIpList([
      { fromIp: '10.0.0.0/24', exclusion: false },
      { fromIp: '10.0.0.128/25', exclusion: true },
      { fromIp: '10.0.0.5', exclusion: true },
      { fromIp: '2001:db8::/126', exclusion: false },
      { fromIp: '2001:db8::2', exclusion: true },
    ]);
    expect(set.toMembers()).toEqual(['10.0.0.0-10.0.0.4', '10.0.0.6-10.0.0.127', '2001:db8::-2001:db8::1', '2001:db8::3']);
  });
});

/** a model over a small universe: 10.0.0.0-63 and 2001:db8::0-63, as sets of offsets */
const U = 64;
const rangeArb: fc.Arbitrary<ParsedIpRange> = fc
  .tuple(fc.boolean(), fc.integer({ min: 0, max: U - 1 }), fc.integer({ min: 0, max: 8 }))
  .map(([v6, a, len]) => {
    const b = Math.min(U - 1, a + len);
    return v6 ? { family: 6, start: (0x20010db8n << 96n) + BigInt(a), end: (0x20010db8n << 96n) + BigInt(b) } : { family: 4, start: 0x0a000000 + a, end: 0x0a000000 + b };
  });

function model(ranges: readonly ParsedIpRange[]): Set<string> {
  const out = new Set<string>();
  for (const r of ranges) {
    if (r.family === 4) for (let x = r.start; x <= r.end; x++) out.add(formatIpv4(x));
    else for (let x = r.start; x <= r.end; x++) out.add(formatIpv6(x));
  }
  return out;
}

function expand(members: readonly string[]): Set<string> {
  return model(members.map(parseIpRangeText));
}

describe('IpRangeSet against a brute-force model', () => {
  it('normalise, union, subtract, contains and members agree with sets of addresses', () => {
    fc.assert(
      fc.property(fc.array(rangeArb, { maxLength: 6 }), fc.array(rangeArb, { maxLength: 6 }), fc.integer({ min: 0, max: U - 1 }), (ra, rb, probe) => {
        const a = IpRangeSet.fromRanges(ra);
        const b = IpRangeSet.fromRanges(rb);
        const ma = model(ra);
        const mb = model(rb);
        expect(expand(a.toMembers())).toEqual(ma);
        expect(expand(a.union(b).toMembers())).toEqual(new Set([...ma, ...mb]));
        expect(expand(a.subtract(b).toMembers())).toEqual(new Set([...ma].filter((x) => !mb.has(x))));
        for (const ip of [formatIpv4(0x0a000000 + probe), formatIpv6((0x20010db8n << 96n) + BigInt(probe))]) expect(a.contains(ip)).toBe(ma.has(ip));
        // normal form: sorted, disjoint, not adjacent (so equal sets have equal members)
        for (const rs of [a.v4, a.v6] as const) {
          for (let i = 1; i < rs.length; i++) {
            const prev = rs[i - 1];
            const cur = rs[i];
            if (prev && cur) expect(BigInt(cur[0]) > BigInt(prev[1]) + 1n).toBe(true);
          }
        }
        expect(IpRangeSet.parse(a.toMembers()).equals(a)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
