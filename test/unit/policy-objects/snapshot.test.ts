import { describe, expect, it } from 'vitest';
import { PolicyCompiler } from '../../../shared/policy/compiler/index.ts';
import { defaultIpList, defaultService } from '../../../shared/policy/objects/defaults.ts';
import { CHUNK_CHARS, decodeSnapshot, encodeSnapshot } from '../../../shared/policy/snapshot/codec.ts';
import { SNAPSHOT_FORMAT, type ActivePolicyDocument } from '../../../shared/policy/snapshot/document.ts';
import { SnapshotChecksumError, SnapshotIncompleteError } from '../../../shared/policy/snapshot/errors.ts';
import { toPolicySnapshot } from '../../../shared/policy/snapshot/to-policy-snapshot.ts';
import { ipList, labelGroup, objects, rule, ruleSet, service } from './records.ts';

const document: ActivePolicyDocument = {
  format: SNAPSHOT_FORMAT,
  orgId: 1,
  version: 4,
  labels: [
    { id: 2, key: 'env', value: 'prod' },
    { id: 1, key: 'role', value: 'web' },
  ],
  objects: objects({
    label_groups: [labelGroup(30, { labels: [1], name: 'web tier', description: 'dropped' })],
    services: [service(20, { servicePorts: [{ proto: 6, port: 80, toPort: 90 }, { proto: 1 }] }), defaultService(1)],
    ip_lists: [
      ipList(40, { ipRanges: [{ fromIp: '10.0.0.1', toIp: '10.0.0.9', description: 'dropped', exclusion: false }, { fromIp: '10.0.0.5', exclusion: true }], fqdns: [{ fqdn: 'dropped.example.com' }] }),
      defaultIpList(5),
    ],
    rule_sets: [
      ruleSet(50, {
        enabled: true,
        scopes: [[{ kind: 'label', id: 2 }]],
        rules: [
          rule(52, { providers: [{ kind: 'label_group', id: 30 }], consumers: [{ kind: 'ip_list', id: 1 }], ingressServices: [{ kind: 'service', id: 20 }, { kind: 'port', proto: 17, port: 53 }] }),
          rule(51, { enabled: false, providers: [{ kind: 'workload', id: 'a5b1c2d3-0000-4000-8000-000000000001' }], consumers: [{ kind: 'ams' }], ingressServices: [{ kind: 'port', proto: -1 }], unscopedConsumers: true }),
        ],
      }),
    ],
  }),
};

describe('toPolicySnapshot', () => {
  it('converts the provisioned objects to the compiler model exactly, sorted by id', () => {
    const snapshot = toPolicySnapshot(document);
    expect(snapshot).toStrictEqual({
      version: 4,
      labels: [
        { id: 1, key: 'role', value: 'web' },
        { id: 2, key: 'env', value: 'prod' },
      ],
      labelGroups: [{ id: 30, key: 'role', labels: [1], subGroups: [] }],
      services: [
        // All Services: any protocol is one entry (not one per IP protocol)
        { id: 1, servicePorts: [{ proto: -1 }] },
        { id: 20, servicePorts: [{ proto: 6, port: 80, toPort: 90 }, { proto: 1 }] },
      ],
      ipLists: [
        { id: 1, ipRanges: [{ fromIp: '0.0.0.0/0', exclusion: false }, { fromIp: '::/0', exclusion: false }] },
        { id: 40, ipRanges: [{ fromIp: '10.0.0.1', toIp: '10.0.0.9', exclusion: false }, { fromIp: '10.0.0.5', exclusion: true }] },
      ],
      ruleSets: [
        {
          id: 50,
          enabled: true,
          scopes: [[{ kind: 'label', id: 2 }]],
          rules: [
            { id: 51, enabled: false, providers: [{ kind: 'workload', id: 'a5b1c2d3-0000-4000-8000-000000000001' }], consumers: [{ kind: 'ams' }], ingressServices: [{ kind: 'port', proto: -1 }], unscopedConsumers: true },
            { id: 52, enabled: true, providers: [{ kind: 'label_group', id: 30 }], consumers: [{ kind: 'ip_list', id: 1 }], ingressServices: [{ kind: 'service', id: 20 }, { kind: 'port', proto: 17, port: 53 }], unscopedConsumers: false },
          ],
        },
      ],
      virtualServices: [],
      enforcementBoundaries: [],
    });
  });

  it('is accepted by the policy compiler', () => {
    const compiler = new PolicyCompiler(toPolicySnapshot(document), [{ id: 'w-1', labels: [1, 2], ips: ['10.1.0.5'], enforcementMode: 'full' }]);
    const compiled = compiler.compile('w-1');
    expect(compiled?.policyVersion).toBe(4);
    expect(compiled?.inbound.length).toBeGreaterThan(0);
  });

  it('compiles a rule over All Services to one any-protocol entry', () => {
    const allServices = rule(53, { providers: [{ kind: 'label', id: 1 }], consumers: [{ kind: 'ams' }], ingressServices: [{ kind: 'service', id: 1 }, { kind: 'port', proto: 6, port: 22 }] });
    const doc: ActivePolicyDocument = { ...document, objects: { ...document.objects, rule_sets: [ruleSet(60, { enabled: true, scopes: [], rules: [allServices] })] } };
    const compiled = new PolicyCompiler(toPolicySnapshot(doc), [{ id: 'w-1', labels: [1], ips: ['10.1.0.5'], enforcementMode: 'full' }]).compile('w-1');
    expect(compiled?.inbound.map((r) => r.services)).toEqual([[{ proto: -1 }]]);
  });
});

describe('snapshot codec', () => {
  it('round-trips through chunks and names its content by sha256 of the canonical JSON', () => {
    const encoded = encodeSnapshot(document, 100);
    expect(encoded.chunks.length).toBeGreaterThan(3);
    expect(encoded.chunks.every((c) => c.length <= 100)).toBe(true);
    expect(encoded.content.chunks).toBe(encoded.chunks.length);
    expect(decodeSnapshot(1, 4, encoded.chunks, encoded.content)).toEqual(document);
    // same content, attributes in another order: same hash
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverseKeys) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;
    const reordered = reverseKeys(document) as ActivePolicyDocument;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(document));
    expect(encodeSnapshot(reordered).content.sha256).toBe(encoded.content.sha256);
    expect(encodeSnapshot(document).chunks.every((c) => c.length <= CHUNK_CHARS)).toBe(true);
  });

  it('refuses chunks that are truncated, reordered or from another version (retryable: a kind of SnapshotIncompleteError)', () => {
    const encoded = encodeSnapshot(document, 100);
    const [first = '', second = '', ...rest] = encoded.chunks;
    for (const chunks of [encoded.chunks.slice(0, -1), [second, first, ...rest], encodeSnapshot({ ...document, version: 5 }, 100).chunks]) {
      const attempt = () => decodeSnapshot(1, 4, chunks, encoded.content);
      expect(attempt).toThrow(SnapshotChecksumError);
      expect(attempt).toThrow(SnapshotIncompleteError);
    }
  });
});
