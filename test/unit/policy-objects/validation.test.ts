import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError, type ErrorEntry } from '../../../shared/api/errors.ts';
import { Issues, type BuildContext } from '../../../shared/policy/objects/common.ts';
import { formatIp, isFqdn, parseCidr, parseIpAddress } from '../../../shared/policy/objects/ip.ts';
import { checkExclusions, checkIpRange, type IpRangeSpec } from '../../../shared/policy/objects/ip-list.ts';
import { OBJECT_KINDS } from '../../../shared/policy/objects/kinds.ts';
import { ReferenceIndex, checkReferences } from '../../../shared/policy/objects/references.ts';
import { checkServicePort } from '../../../shared/policy/objects/service.ts';
import { labelGroup, meta, objects, rule, ruleSet } from './records.ts';

function errorsOf(fn: () => unknown): ErrorEntry[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return [...err.errors];
    throw err;
  }
  throw new Error('expected a ValidationError');
}

const ctx = (orgId = 1): BuildContext => {
  let n = 100;
  return { orgId, issues: new Issues(), allocateId: () => ++n };
};

describe('IP addresses and CIDR blocks', () => {
  it('accepts addresses and strict CIDR blocks, rejects host bits, bad prefixes and zone ids', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ family: 4, prefix: 8 });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ family: 4, prefix: 0 });
    expect(parseCidr('::/0')).toMatchObject({ family: 6, prefix: 0 });
    expect(parseCidr('2001:db8::/32')).toMatchObject({ family: 6, prefix: 32 });
    for (const bad of ['10.0.0.1/8', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '2001:db8::1/32', '2001:db8::/129', 'x/8', '10.0.0.0/8/8']) expect(parseCidr(bad), bad).toBeNull();
    expect(parseIpAddress('fe80::1%eth0')).toBeNull();
    expect(parseIpAddress('300.1.1.1')).toBeNull();
    expect(parseIpAddress('::ffff:10.0.0.1')?.value).toBe((0xffffn << 32n) | (10n << 24n) | 1n);
  });

  it('parses every IPv4/IPv6 address and formats it back to the same value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const ip = parseIpAddress(text);
        expect(ip).not.toBeNull();
        if (!ip) return;
        expect(parseIpAddress(formatIp(ip))?.value).toBe(ip.value);
      }),
    );
  });

  it('checks ranges: family, order, CIDR without to_ip', () => {
    const issuesOf = (r: Parameters<typeof checkIpRange>[0]) => {
      const issues = new Issues();
      checkIpRange(r, 'ip_ranges[0]', issues);
      return issues.entries.map((e) => e.token);
    };
    expect(issuesOf({ from_ip: '10.0.0.1', to_ip: '10.0.0.9', exclusion: false })).toEqual([]);
    expect(issuesOf({ from_ip: '10.0.0.9', to_ip: '10.0.0.1', exclusion: false })).toEqual(['invalid_ip_range']);
    expect(issuesOf({ from_ip: '10.0.0.1', to_ip: '::1', exclusion: false })).toEqual(['invalid_ip_range']);
    expect(issuesOf({ from_ip: '10.0.0.0/24', to_ip: '10.0.1.0', exclusion: false })).toEqual(['invalid_ip_range']);
    expect(issuesOf({ from_ip: '10.0.0.1/24', exclusion: false })).toEqual(['invalid_ip_address']);
    expect(issuesOf({ from_ip: 'example.com', exclusion: true })).toEqual(['invalid_ip_address']);
    expect(isFqdn('*.example.com')).toBe(true);
    expect(isFqdn('bad_name.example.com')).toBe(false);
  });
});

describe('IP list exclusions', () => {
  const uncovered = (...specs: IpRangeSpec[]) => {
    const issues = new Issues();
    checkExclusions(specs, issues);
    return issues.entries.map((e) => e.message.split(':')[0]);
  };
  const incl = (fromIp: string, toIp?: string): IpRangeSpec => ({ fromIp, ...(toIp === undefined ? {} : { toIp }), exclusion: false });
  const excl = (fromIp: string, toIp?: string): IpRangeSpec => ({ fromIp, ...(toIp === undefined ? {} : { toIp }), exclusion: true });

  it('accepts exclusions inside the included ranges, also across adjacent ones', () => {
    expect(uncovered(incl('10.0.0.0/8'), excl('10.1.0.0/16'), excl('10.0.0.5'), excl('10.255.255.0', '10.255.255.255'))).toEqual([]);
    expect(uncovered(incl('10.0.0.0', '10.0.0.127'), incl('10.0.0.128/25'), excl('10.0.0.100', '10.0.0.200'))).toEqual([]);
    expect(uncovered(incl('0.0.0.0/0'), incl('::/0'), excl('0.0.0.0/0'), excl('2001:db8::/32'))).toEqual([]);
    expect(uncovered(incl('10.0.0.0/8'))).toEqual([]);
  });

  it('refuses exclusions with nothing included, partly outside, across a gap or of the other family', () => {
    expect(uncovered(excl('10.0.0.0/8'))).toEqual(['ip_ranges[0]']);
    expect(uncovered(incl('10.0.0.0/24'), excl('10.0.0.0/23'))).toEqual(['ip_ranges[1]']);
    expect(uncovered(incl('10.0.0.0', '10.0.0.10'), incl('10.0.0.12', '10.0.0.20'), excl('10.0.0.9', '10.0.0.13'))).toEqual(['ip_ranges[2]']);
    expect(uncovered(incl('0.0.0.0/0'), excl('::1'), excl('10.0.0.1'))).toEqual(['ip_ranges[1]']);
  });
});

describe('service ports', () => {
  it('allows ports on TCP/UDP only, to_port >= port, ICMP and -1 without ports', () => {
    const tokens = (p: Parameters<typeof checkServicePort>[0]) => {
      const issues = new Issues();
      checkServicePort(p, 'service_ports[0]', issues);
      return issues.entries.map((e) => e.message);
    };
    expect(tokens({ proto: 6, port: 80, to_port: 90 })).toEqual([]);
    expect(tokens({ proto: 17 })).toEqual([]);
    expect(tokens({ proto: 1 })).toEqual([]);
    expect(tokens({ proto: -1 })).toEqual([]);
    expect(tokens({ proto: 6, port: 90, to_port: 80 })).toEqual(['service_ports[0].to_port (80) must be >= port (90)']);
    expect(tokens({ proto: 6, to_port: 80 })).toEqual(['service_ports[0].to_port needs a port']);
    expect(tokens({ proto: 1, port: 8 })).toEqual(['service_ports[0]: ICMP takes no ports']);
    expect(tokens({ proto: -1, port: 8 })[0]).toContain('proto -1');
    expect(tokens({ proto: 47, port: 8 })[0]).toContain('only to TCP (6) and UDP (17)');
  });
});

describe('create/update bodies (406 entries name the field)', () => {
  it('reports every bad field of a service at once', () => {
    const errors = errorsOf(() => OBJECT_KINDS.services.create({ name: '', service_ports: [{ proto: 300 }, { proto: 6, port: 70000 }], colour: 'red' }));
    const messages = errors.map((e) => e.message);
    expect(messages.some((m) => m.startsWith('name:'))).toBe(true);
    expect(messages.some((m) => m.startsWith('service_ports[0].proto:'))).toBe(true);
    expect(messages.some((m) => m.startsWith('service_ports[1].port:'))).toBe(true);
    expect(errors).toContainEqual({ token: 'unexpected_property', message: 'colour is not a recognised property' });
  });

  it('semantic checks run once the shape is right (tokens per problem)', () => {
    const build = OBJECT_KINDS.services.create({ name: 'web', service_ports: [{ proto: 1, port: 3 }] });
    const c = ctx();
    build(c, meta(1));
    expect(c.issues.entries.map((e) => e.token)).toEqual(['invalid_service_port']);
    const ipl = OBJECT_KINDS.ip_lists.create({ name: 'x', ip_ranges: [{ from_ip: '10.0.0.300' }, { from_ip: '192.168.1.1/24' }], fqdns: [{ fqdn: 'no spaces.com' }] });
    const c2 = ctx();
    const list = ipl(c2, meta(2));
    expect(c2.issues.entries.map((e) => e.token)).toEqual(['invalid_ip_address', 'invalid_ip_address', 'invalid_fqdn']);
    expect(c2.issues.entries[1]?.message).toContain('the network is 192.168.1.0/24');
    expect(list.ipRanges[0]).toEqual({ fromIp: '10.0.0.300', exclusion: false });
  });

  it('rules: providers must not be empty, an actor has exactly one kind, hrefs have the right shape', () => {
    const body = {
      name: 'rs',
      rules: [
        {
          providers: [],
          consumers: [{ label: { href: '/orgs/1/labels/1' }, actors: 'ams' }, { workload: { href: '/orgs/1/workloads/not-a-uuid' } }, { ip_list: { href: '/orgs/1/sec_policy/draft/services/1' } }],
          ingress_services: [{ href: '/orgs/1/sec_policy/draft/services/1', port: 80 }],
          resolve_labels_as: { providers: ['virtual_servers'], consumers: ['workloads'] },
        },
      ],
    };
    const messages = errorsOf(() => OBJECT_KINDS.rule_sets.create(body)).map((e) => e.message);
    expect(messages).toContain('rules[0].providers: must list at least one actor');
    expect(messages.some((m) => m.startsWith('rules[0].consumers[0]: an actor has exactly one of'))).toBe(true);
    expect(messages.some((m) => m.startsWith('rules[0].consumers[1].workload.href: must be an href like /orgs/1/workloads/'))).toBe(true);
    expect(messages.some((m) => m.startsWith('rules[0].consumers[2].ip_list.href: must be an href like /orgs/1/sec_policy/draft/ip_lists/42'))).toBe(true);
    expect(messages.some((m) => m.startsWith('rules[0].ingress_services[0]: an ingress service with an href takes no port'))).toBe(true);
    expect(messages).toContain('rules[0].resolve_labels_as.providers[0]: must be "workloads" or "virtual_services"');
  });

  it('hrefs of another org are refused, workload hrefs are taken by shape', () => {
    const build = OBJECT_KINDS.rule_sets.create({
      name: 'rs',
      scopes: [[{ label: { href: '/orgs/2/labels/5' } }]],
      rules: [{ providers: [{ workload: { href: '/orgs/1/workloads/8D7F52B1-5B5E-4C8A-9A57-3F0D1C2E4B6A' } }], consumers: [{ actors: 'ams' }], ingress_services: [{ proto: 6, port: 22 }] }],
    });
    const c = ctx(1);
    const rs = build(c, meta(7));
    expect(c.issues.entries).toEqual([{ token: 'invalid_href', message: 'scopes[0][0].label.href: the href names org 2, not org 1' }]);
    expect(rs.rules[0]?.providers).toEqual([{ kind: 'workload', id: '8d7f52b1-5b5e-4c8a-9a57-3f0d1c2e4b6a' }]);
    expect(rs.rules[0]?.id).toBe(101);
  });

  it('a label group keeps its key', () => {
    const update = OBJECT_KINDS.label_groups.update({ key: 'env', name: 'renamed' });
    const c = ctx();
    const next = update(labelGroup(3), c, meta(3, 2_000));
    expect(c.issues.entries.map((e) => e.token)).toEqual(['label_group_key_immutable']);
    expect(next).toMatchObject({ key: 'role', name: 'renamed' });
  });
});

describe('references', () => {
  const labels = [
    { id: 1, key: 'role', value: 'web' },
    { id: 2, key: 'env', value: 'prod' },
    { id: 3, key: 'role', value: 'db' },
  ];

  it('label groups: labels and sub-groups exist and share the key, no cycles', () => {
    const a = labelGroup(10, { labels: [1, 2, 99], subGroups: [11, 12] });
    const b = labelGroup(11, { subGroups: [10] });
    const envGroup = labelGroup(12, { key: 'env' });
    const issues = new Issues();
    checkReferences('label_groups', a, new ReferenceIndex(1, 'draft', objects({ label_groups: [a, b, envGroup] }), labels), issues);
    expect(issues.entries.map((e) => e.token).sort()).toEqual(['label_group_cycle', 'label_key_mismatch', 'label_key_mismatch', 'label_not_found']);
  });

  it('rule sets: one label per key in a scope, every actor and service resolves', () => {
    const rs = ruleSet(20, {
      scopes: [[{ kind: 'label', id: 1 }, { kind: 'label', id: 3 }, { kind: 'label', id: 2 }]],
      rules: [rule(21, { providers: [{ kind: 'label_group', id: 404 }], consumers: [{ kind: 'ip_list', id: 405 }, { kind: 'workload', id: 'x' }], ingressServices: [{ kind: 'service', id: 406 }] })],
    });
    const issues = new Issues();
    checkReferences('rule_sets', rs, new ReferenceIndex(1, 'draft', objects({ rule_sets: [rs] }), labels), issues);
    expect(issues.entries.map((e) => e.token)).toEqual(['scope_key_conflict', 'label_group_not_found', 'ip_list_not_found', 'service_not_found']);
    expect(issues.entries[1]?.message).toBe('rules[0].providers[0].label_group.href: label group /orgs/1/sec_policy/draft/label_groups/404 does not exist (or is deleted in the draft policy)');
  });
});
