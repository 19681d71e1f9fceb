import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/api/errors.ts';
import { matchesLabels, matchesWorkloadFilter, parseWorkloadFilter } from '../../../shared/workloads/filter.ts';
import type { Workload } from '../../../shared/workloads/workload.ts';

function workload(over: { labels?: number[]; name?: string | null; hostname?: string | null; addresses?: string[]; publicIp?: string | null; online?: boolean } = {}): Workload {
  return {
    orgId: 1,
    id: 'w',
    meta: {
      name: over.name === undefined ? 'Web-Frontend-01' : over.name,
      hostname: over.hostname === undefined ? 'web01.prod.example.com' : over.hostname,
      description: null,
      labels: over.labels ?? [],
      enforcementMode: 'visibility_only',
      osId: null,
      osDetail: null,
      externalDataSet: 'cmdb',
      externalDataReference: 'ci-1',
      managingPceFqdn: null,
      createdAt: 0,
      updatedAt: 0,
      createdBy: 1,
      updatedBy: 1,
    },
    context: {
      interfaces: (over.addresses ?? ['10.20.30.40', 'fd00::1:2']).map((address) => ({ name: 'eth0', address, cidrBlock: null, defaultGatewayAddress: null, linkState: null })),
      publicIp: over.publicIp === undefined ? '203.0.113.10' : over.publicIp,
      online: over.online ?? true,
      updatedAt: 0,
    },
  };
}

const parse = (query: Record<string, string>) => parseWorkloadFilter(1, query);
const matches = (w: Workload, query: Record<string, string>) => matchesWorkloadFilter(w, parse(query));

function tokensOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.errors.map((e) => e.token);
    throw err;
  }
  return [];
}

describe('workload list filters', () => {
  it('matches name and hostname partially, case-insensitively', () => {
    expect(matches(workload(), { name: 'frontend' })).toBe(true);
    expect(matches(workload(), { name: 'backend' })).toBe(false);
    expect(matches(workload({ name: null }), { name: 'web' })).toBe(false);
    expect(matches(workload(), { hostname: 'PROD.example' })).toBe(true);
    expect(matches(workload(), { hostname: 'dev' })).toBe(false);
  });

  it('matches ip_address partially on interface addresses and the public IP', () => {
    expect(matches(workload(), { ip_address: '10.20.' })).toBe(true);
    expect(matches(workload(), { ip_address: 'FD00::1' })).toBe(true);
    expect(matches(workload(), { ip_address: '203.0.113' })).toBe(true);
    expect(matches(workload(), { ip_address: '192.168.' })).toBe(false);
    expect(matches(workload({ addresses: [], publicIp: null }), { ip_address: '1' })).toBe(false);
  });

  it('labels: inner lists AND, outer list OR', () => {
    const w = workload({ labels: [1, 2, 3] });
    const q = (groups: number[][]) => ({ labels: JSON.stringify(groups.map((g) => g.map((id) => `/orgs/1/labels/${id}`))) });
    expect(matches(w, q([[1, 2]]))).toBe(true);
    expect(matches(w, q([[1, 4]]))).toBe(false);
    expect(matches(w, q([[1, 4], [3]]))).toBe(true);
    expect(matches(w, q([[4], [5]]))).toBe(false);
    expect(matches(w, q([[]]))).toBe(true);
    expect(matches(w, q([]))).toBe(true);
    expect(matches(workload(), q([[1]]))).toBe(false);
  });

  it('labels semantics hold for any workload and any groups (property)', () => {
    const ids = fc.integer({ min: 1, max: 8 });
    fc.assert(
      fc.property(fc.uniqueArray(ids), fc.array(fc.array(ids, { maxLength: 4 }), { minLength: 1, maxLength: 4 }), (labels, groups) => {
        const result = matchesLabels(labels, groups);
        // OR over groups: matching the whole list = matching at least one single-group list
        expect(result).toBe(groups.some((g) => matchesLabels(labels, [g])));
        // AND within a group: a group matches iff each of its labels alone matches
        for (const g of groups) expect(matchesLabels(labels, [g])).toBe(g.every((id) => matchesLabels(labels, [[id]])));
        // a single label matches iff the workload carries it
        for (const g of groups) for (const id of g) expect(matchesLabels(labels, [[id]])).toBe(labels.includes(id));
      }),
    );
  });

  it('filters managed, online, enforcement_mode and external data exactly', () => {
    expect(matches(workload(), { managed: 'false' })).toBe(true);
    expect(matches(workload(), { managed: 'true' })).toBe(false);
    expect(matches(workload({ online: false }), { online: 'false' })).toBe(true);
    expect(matches(workload({ online: false }), { online: 'true' })).toBe(false);
    expect(matches(workload(), { enforcement_mode: 'visibility_only' })).toBe(true);
    expect(matches(workload(), { enforcement_mode: 'full' })).toBe(false);
    expect(matches(workload(), { external_data_set: 'cmdb', external_data_reference: 'ci-1' })).toBe(true);
    expect(matches(workload(), { external_data_set: 'cmd' })).toBe(false);
    expect(matches(workload(), { unknown_param: 'x' })).toBe(true);
  });

  it('reads booleans in any case (Python clients send managed=True)', () => {
    expect(matches(workload(), { managed: 'False' })).toBe(true);
    expect(matches(workload(), { managed: 'TRUE' })).toBe(false);
    expect(matches(workload({ online: false }), { online: 'False' })).toBe(true);
    expect(tokensOf(() => parse({ managed: 'yes' }))).toEqual(['input_validation_error']);
  });

  it('managed and agent.active_pce_fqdn select paired workloads by their managing PCE', () => {
    const agent = { agentId: 'a', pceFqdn: 'pce-eu.example.com', region: 'eu-west-1', since: 1, pairedPceFqdn: 'pce-eu.example.com', pairedAt: 1, pairingProfileId: 1, hostname: 'h', osId: null, osDetail: null, agentVersion: null, status: 'active' as const, interfaces: [], online: true, labels: [], enforcementMode: 'idle' as const, visibilityLevel: null, updatedAt: 1 };
    const managed: Workload = { ...workload(), agent };
    expect(matches(managed, { managed: 'true' })).toBe(true);
    expect(matches(managed, { managed: 'false' })).toBe(false);
    expect(matches(managed, { 'agent.active_pce_fqdn': 'pce-eu.example.com' })).toBe(true);
    expect(matches(managed, { 'agent.active_pce_fqdn': 'pce-us.example.com' })).toBe(false);
    expect(matches(workload(), { 'agent.active_pce_fqdn': 'pce-eu.example.com' })).toBe(false);
  });

  it('heartbeat filters (local to the managing PCE) match no workload of the list, and check their timestamps', () => {
    expect(matches(workload(), { 'last_heartbeat_on[gte]': '2025-01-01T00:00:00Z' })).toBe(false);
    expect(matches(workload(), { 'last_heartbeat_on[lte]': '1735689600000' })).toBe(false);
    expect(matches(workload(), { 'last_heartbeat_at[gte]': '2025-01-01' })).toBe(false);
    expect(tokensOf(() => parse({ 'last_heartbeat_on[gte]': 'yesterday' }))).toEqual(['input_validation_error']);
  });

  it('answers 406 naming each malformed parameter', () => {
    expect(tokensOf(() => parse({ labels: '[["/orgs/1/labels/1"' }))).toEqual(['invalid_labels_filter']);
    expect(tokensOf(() => parse({ labels: '["/orgs/1/labels/1"]' }))).toEqual(['invalid_labels_filter']);
    expect(tokensOf(() => parse({ labels: '{"a":1}' }))).toEqual(['invalid_labels_filter']);
    expect(tokensOf(() => parse({ labels: '[[1]]' }))).toEqual(['invalid_labels_filter']);
    expect(tokensOf(() => parse({ labels: '[["/orgs/2/labels/1"]]' }))).toEqual(['invalid_labels_filter']);
    expect(tokensOf(() => parse({ enforcement_mode: 'enforced', online: 'yes', managed: '1' })).sort()).toEqual(['input_validation_error', 'input_validation_error', 'invalid_enforcement_mode']);
  });
});
