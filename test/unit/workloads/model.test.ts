import { describe, expect, it } from 'vitest';
import { labelUseItem, mergeWorkloadItems, metaLabelUses } from '../../../shared/storage/dynamodb/workloads.ts';
import { isWorkloadId, jobKeys, labelUseKeys, workloadItemOf, workloadKeys } from '../../../shared/storage/workload-keys.ts';
import { toFacts, tryParse, workloadSchemas, workloadToJson, type Workload } from '../../../shared/workloads/workload.ts';

const FQDNS = ['us.sc.example.com', 'eu.sc.example.com'];
const { create, update } = workloadSchemas(FQDNS);
const ID = '0b5a5bb8-8d3e-4b36-9a0f-6c1f0a1b2c3d';

function tokens(schema: typeof create | typeof update, input: unknown): string[] {
  const r = tryParse(schema, input);
  return r.ok ? [] : r.errors.map((e) => e.token);
}

describe('workload request validation', () => {
  it('accepts a full unmanaged workload', () => {
    const r = tryParse(create, {
      name: 'web-1',
      hostname: 'web-1.example.com',
      description: null,
      labels: [{ href: '/orgs/1/labels/7' }],
      public_ip: '203.0.113.9',
      interfaces: [
        { name: 'eth0', address: '10.0.0.5', cidr_block: 24, default_gateway_address: '10.0.0.1', link_state: 'up' },
        { name: 'eth0', address: 'fd00::5', cidr_block: 64 },
      ],
      online: true,
      enforcement_mode: 'full',
      os_id: 'ubuntu-x86_64',
      external_data_set: 'cmdb',
      external_data_reference: 'ci-42',
      managing_pce_fqdn: 'eu.sc.example.com',
    });
    expect(r.ok).toBe(true);
  });

  it('names each bad field with its own token', () => {
    expect(tokens(create, { name: 'x', interfaces: [{ name: 'eth0', address: '10.0.0.300' }] })).toEqual(['invalid_ip_address']);
    // a zone id is valid for node:net but not an address policy can use: refused rather than breaking compute for the org
    expect(tokens(create, { name: 'x', interfaces: [{ name: 'eth0', address: 'fe80::1%eth0' }] })).toEqual(['invalid_ip_address']);
    expect(tokens(create, { name: 'x', public_ip: 'example.com' })).toEqual(['invalid_ip_address']);
    expect(tokens(create, { name: 'x', interfaces: [{ name: 'eth0', address: '10.0.0.1', default_gateway_address: 'fe80::1' }] })).toEqual(['invalid_ip_address']);
    expect(tokens(create, { name: 'x', interfaces: [{ name: 'eth0', address: '10.0.0.1', cidr_block: 33 }] })).toEqual(['invalid_cidr_block']);
    expect(tokens(create, { name: 'x', enforcement_mode: 'enforced' })).toEqual(['invalid_enforcement_mode']);
    expect(tokens(create, { name: 'x', managing_pce_fqdn: 'ap.sc.example.com' })).toEqual(['unknown_managing_pce_fqdn']);
    expect(tokens(create, { name: 'x', colour: 'red' })).toEqual(['unexpected_property']);
    expect(tokens(create, { name: 'x', interfaces: [{ name: 'eth0', address: '10.0.0.1', mtu: 1500 }] })).toEqual(['unexpected_property']);
    expect(tokens(create, { name: 'x', labels: [{ href: '/orgs/1/label_groups/3' }] })).toEqual(['input_validation_error']);
    expect(tokens(create, {})).toEqual(['name_or_hostname_required']);
    expect(tokens(update, {})).toEqual(['empty_update']);
  });

  it('reports several bad fields at once', () => {
    expect(tokens(create, { name: 'x', enforcement_mode: 'on', public_ip: 'nope', extra: 1 }).sort()).toEqual(['invalid_enforcement_mode', 'invalid_ip_address', 'unexpected_property']);
  });

  it('lets PUT clear nullable fields', () => {
    const r = tryParse(update, { description: null, managing_pce_fqdn: null, public_ip: null, os_detail: null });
    expect(r).toEqual({ ok: true, value: { description: null, managing_pce_fqdn: null, public_ip: null, os_detail: null } });
  });

  it('takes labels as clients send them back: whole label objects (only href counts) or null for none', () => {
    // the Python SDK encodes a Label object read from the PCE with all its fields
    const sdkLabel = { href: '/orgs/1/labels/7', key: 'role', value: 'web', created_at: '2025-01-01T00:00:00.000Z', created_by: { href: '/users/1' } };
    expect(tryParse(create, { name: 'x', labels: [sdkLabel] })).toEqual({ ok: true, value: { name: 'x', labels: [{ href: '/orgs/1/labels/7' }] } });
    // the Terraform provider sends "labels": null for a workload without labels
    expect(tryParse(create, { name: 'x', labels: null })).toEqual({ ok: true, value: { name: 'x', labels: null } });
    expect(tokens(create, { name: 'x', labels: [{ key: 'role', value: 'web' }] })).toEqual(['required_property_missing']);
    expect(tokens(create, { name: 'x', labels: ['/orgs/1/labels/7'] })).toEqual(['input_validation_error']);
  });

  it('tells a property of the wrong type from a missing one', () => {
    const errors = (input: unknown) => {
      const r = tryParse(create, input);
      return r.ok ? [] : r.errors;
    };
    expect(errors({ name: 5 })).toEqual([{ token: 'input_validation_error', message: expect.stringMatching(/^name: .*string/) }]);
    expect(errors({ name: 'x', interfaces: [{ name: 'eth0', address: '10.0.0.1', cidr_block: 'x' }] })).toEqual([{ token: 'input_validation_error', message: expect.stringMatching(/^interfaces\[0\]\.cidr_block: /) }]);
    expect(errors([]).map((e) => e.token)).toEqual(['input_validation_error']);
    expect(errors({ name: 'x', interfaces: [{ name: 'eth0' }] })).toEqual([{ token: 'required_property_missing', message: 'interfaces[0].address is required' }]);
  });
});

describe('workload storage keys', () => {
  it('puts both parts of every workload of an org in one partition', () => {
    expect(workloadKeys.meta(1, ID)).toEqual({ pk: 'ORG#1#WORKLOADS', sk: `${ID}#META` });
    expect(workloadKeys.context(1, ID)).toEqual({ pk: 'ORG#1#WORKLOADS', sk: `${ID}#CONTEXT` });
    expect(workloadKeys.partition(1)).toBe('ORG#1#WORKLOADS');
  });

  it('recognises workload items in stream images and nothing else', () => {
    expect(workloadItemOf(workloadKeys.meta(3, ID))).toEqual({ orgId: 3, workloadId: ID, part: 'meta' });
    expect(workloadItemOf({ ...workloadKeys.context(3, ID), online: true })).toEqual({ orgId: 3, workloadId: ID, part: 'context' });
    expect(workloadItemOf({ pk: 'ORG#1#LABELS', sk: 'LABEL#0000000000000001' })).toBeNull();
    expect(workloadItemOf({ pk: 'ORG#1#WORKLOADS', sk: `${ID}#OTHER` })).toBeNull();
    expect(workloadItemOf({ pk: 'ORG#1#WORKLOADS', sk: 'not-a-uuid-but-36-characters-long-xx#META' })).toBeNull();
    expect(workloadItemOf({ pk: 'SUPERCLUSTER', sk: 'LEADER' })).toBeNull();
    expect(workloadItemOf({})).toBeNull();
    expect(isWorkloadId(ID)).toBe(true);
    expect(isWorkloadId('bulk_create')).toBe(false);
    expect(jobKeys.datafileChunk(1, 'f', 12)).toEqual({ pk: 'ORG#1#DATAFILE#f', sk: 'CHUNK#000012' });
  });

  it('label-use items (ADR 0015) have their own partition per label, name their workload, and are no workload item to the stream consumers', () => {
    const meta = labelUseItem(3, 42, ID, 'META', 'us-east-1', 1_000);
    const agent = labelUseItem(3, 42, ID, 'AGENT#eu-west-1', 'eu-west-1', 2_000);
    expect(meta).toEqual({ pk: 'ORG#3#LABEL_USE#42', sk: `${ID}#META`, org_id: 3, label_id: 42, workload_id: ID, origin_region: 'us-east-1', updated_at: 1_000 });
    expect(agent).toMatchObject({ pk: labelUseKeys.partition(3, 42), sk: `${ID}#AGENT#eu-west-1`, origin_region: 'eu-west-1' });
    expect(workloadItemOf(meta)).toBeNull();
    expect(workloadItemOf(agent)).toBeNull();
    expect(mergeWorkloadItems(3, [meta, agent])).toEqual([]);
    expect(labelUseKeys.workloadIdOf(meta.sk)).toBe(ID);
    expect(labelUseKeys.workloadIdOf(agent.sk)).toBe(ID);
    expect(labelUseKeys.workloadIdOf('LABEL#1')).toBeNull();
    expect(labelUseKeys.workloadIdOf(undefined)).toBeNull();
  });

  it("a META item references its labels once, none before the leader wrote it or once unpaired", () => {
    const w = { orgId: 1, id: ID, meta: { labels: [1, 2, 2] }, context: null } as unknown as Workload;
    expect(metaLabelUses(w)).toEqual([1, 2]);
    expect(metaLabelUses({ ...w, metaStored: false })).toEqual([]);
    expect(metaLabelUses({ ...w, unpairedAt: 5 })).toEqual([]);
  });
});

describe('merging META and CONTEXT', () => {
  const meta = {
    ...workloadKeys.meta(1, ID),
    name: 'db-1',
    hostname: 'db-1.example.com',
    description: null,
    labels: [5, 9],
    enforcement_mode: 'selective',
    os_id: null,
    os_detail: 'Ubuntu 22.04.4 LTS',
    external_data_set: 'cmdb',
    external_data_reference: 'ci-1',
    managing_pce_fqdn: 'eu.sc.example.com',
    created_at: 1_000,
    created_by: 1,
    updated_by: 2,
    origin_region: 'us-east-1',
    updated_at: 2_000,
  };
  const context = {
    ...workloadKeys.context(1, ID),
    interfaces: [
      { name: 'eth0', address: '10.1.0.4', cidr_block: 16, default_gateway_address: '10.1.0.1', link_state: 'up' },
      { name: 'eth1', address: '10.1.0.4', cidr_block: 16, default_gateway_address: null, link_state: null },
    ],
    public_ip: '198.51.100.7',
    online: true,
    origin_region: 'eu-west-1',
    updated_at: 3_000,
  };

  it('shows one workload with fields from both items and the newer update time, labels with key and value', () => {
    const [w, ...rest] = mergeWorkloadItems(1, [context, meta]);
    expect(rest).toEqual([]);
    if (!w) throw new Error('no workload');
    // label 9 has not reached this replica: it shows as {href} only
    expect(workloadToJson(w, new Map([[5, { key: 'role', value: 'db' }]]))).toEqual({
      href: `/orgs/1/workloads/${ID}`,
      name: 'db-1',
      hostname: 'db-1.example.com',
      description: null,
      labels: [{ href: '/orgs/1/labels/5', key: 'role', value: 'db' }, { href: '/orgs/1/labels/9' }],
      public_ip: '198.51.100.7',
      interfaces: [
        { name: 'eth0', address: '10.1.0.4', cidr_block: 16, default_gateway_address: '10.1.0.1', link_state: 'up' },
        { name: 'eth1', address: '10.1.0.4', cidr_block: 16, default_gateway_address: null, link_state: null },
      ],
      online: true,
      enforcement_mode: 'selective',
      os_id: null,
      os_detail: 'Ubuntu 22.04.4 LTS',
      external_data_set: 'cmdb',
      external_data_reference: 'ci-1',
      managing_pce_fqdn: 'eu.sc.example.com',
      data_center: null,
      data_center_zone: null,
      distinguished_name: null,
      service_provider: null,
      service_principal_name: null,
      ignored_interface_names: [],
      created_at: new Date(1_000).toISOString(),
      updated_at: new Date(3_000).toISOString(),
      created_by: { href: '/users/1' },
      updated_by: { href: '/users/2' },
      deleted: false,
      agent: null,
      ven: null,
    });
    expect(toFacts(w)).toEqual({ id: ID, labels: [5, 9], ips: ['10.1.0.4'], subnets: ['10.1.0.0/16'], enforcementMode: 'selective', managingPceFqdn: 'eu.sc.example.com' });
  });

  it('shows a workload whose context has not arrived with empty context, and skips an orphaned context', () => {
    const other = '1b5a5bb8-8d3e-4b36-9a0f-6c1f0a1b2c3d';
    const workloads = mergeWorkloadItems(1, [meta, { ...context, ...workloadKeys.context(1, other) }]);
    expect(workloads.map((w) => w.id)).toEqual([ID]);
    const w = workloads[0] as Workload;
    expect(workloadToJson(w)).toMatchObject({ interfaces: [], public_ip: null, online: false, updated_at: new Date(2_000).toISOString() });
    expect(toFacts(w).ips).toEqual([]);
  });

  it('gives the compiler each interface network for use_workload_subnets: the CIDR with host bits masked, the address of an interface without a prefix', () => {
    const interfaces = [
      { name: 'eth0', address: '10.1.7.4', cidr_block: 22, default_gateway_address: null, link_state: 'up' },
      { name: 'eth1', address: '2001:db8:5:6::7', cidr_block: 64, default_gateway_address: null, link_state: 'up' },
      { name: 'eth2', address: '192.0.2.9', cidr_block: null, default_gateway_address: null, link_state: null },
      { name: 'eth3', address: '10.1.6.1', cidr_block: 22, default_gateway_address: null, link_state: null },
    ];
    const [w] = mergeWorkloadItems(1, [meta, { ...context, interfaces }]);
    if (!w) throw new Error('no workload');
    expect(toFacts(w)).toMatchObject({ ips: ['10.1.7.4', '2001:db8:5:6::7', '192.0.2.9', '10.1.6.1'], subnets: ['10.1.4.0/22', '2001:db8:5:6::/64', '192.0.2.9'] });
    expect(toFacts({ ...w, context: null })).toMatchObject({ ips: [], subnets: [] });
  });
});
