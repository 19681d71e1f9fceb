import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../../shared/policy/compiled.ts';
import { PolicyCompiler, PolicyValidationError, UnknownIpSetError } from '../../../shared/policy/compiler/index.ts';
import { InvalidIpError } from '../../../shared/policy/ip/index.ts';
import type { Actor, EnforcementMode, PolicyRule, PolicyRuleSet, PolicySnapshot, ScopeEntry, WorkloadFacts } from '../../../shared/policy/model.ts';
import { assertEngineMatchesReference } from './helpers.ts';

const L = { web: 1, app: 2, db: 3, mon: 4, crm: 11, erp: 12, prod: 21, dev: 22, test: 23, us: 31 } as const;
const G = { nonprod: 101, testEnvs: 102 } as const;
const lab = (id: number): ScopeEntry & Actor => ({ kind: 'label', id });
const grp = (id: number): ScopeEntry & Actor => ({ kind: 'label_group', id });

function snapshot(ruleSets: PolicyRuleSet[], version = 7): PolicySnapshot {
  return {
    version,
    labels: [
      { id: L.web, key: 'role', value: 'web' },
      { id: L.app, key: 'role', value: 'app' },
      { id: L.db, key: 'role', value: 'db' },
      { id: L.mon, key: 'role', value: 'monitoring' },
      { id: L.crm, key: 'app', value: 'crm' },
      { id: L.erp, key: 'app', value: 'erp' },
      { id: L.prod, key: 'env', value: 'prod' },
      { id: L.dev, key: 'env', value: 'dev' },
      { id: L.test, key: 'env', value: 'test' },
      { id: L.us, key: 'loc', value: 'us' },
    ],
    labelGroups: [
      { id: G.nonprod, key: 'env', labels: [L.dev], subGroups: [G.testEnvs] },
      { id: G.testEnvs, key: 'env', labels: [L.test], subGroups: [] },
    ],
    services: [{ id: 501, servicePorts: [{ proto: 6, port: 5432 }] }],
    ipLists: [
      {
        id: 601,
        ipRanges: [
          { fromIp: '10.1.0.0/16', exclusion: false },
          { fromIp: '10.1.5.0/24', exclusion: true },
        ],
      },
    ],
    ruleSets,
  };
}

let nextRule = 1;
function rule(providers: Actor[], consumers: Actor[], extra: Partial<PolicyRule> = {}): PolicyRule {
  return { id: nextRule++, enabled: true, providers, consumers, ingressServices: [{ kind: 'service', id: 501 }], unscopedConsumers: false, ...extra };
}
function ruleSet(id: number, scopes: ScopeEntry[][], rules: PolicyRule[], enabled = true): PolicyRuleSet {
  return { id, enabled, scopes, rules };
}

const wl = (id: string, labels: number[], ips: string[], enforcementMode: EnforcementMode = 'full'): WorkloadFacts => ({ id, labels, ips, enforcementMode });
const WORKLOADS: WorkloadFacts[] = [
  wl('web-prod', [L.web, L.crm, L.prod, L.us], ['10.0.1.1']),
  wl('db-prod', [L.db, L.crm, L.prod], ['10.0.1.2']),
  wl('web-dev', [L.web, L.crm, L.dev], ['10.0.2.1']),
  wl('db-dev', [L.db, L.crm, L.dev], ['10.0.2.2', '2001:db8::22']),
  wl('web-test', [L.web, L.crm, L.test], ['10.0.3.1']),
  wl('mon', [L.mon], ['10.9.0.1']),
  wl('erp-web', [L.web, L.erp, L.prod], ['10.0.4.1']),
];

function peers(engine: PolicyCompiler, p: CompiledPolicy | null, dir: 'inbound' | 'outbound'): Record<number, readonly string[]> {
  return Object.fromEntries((p?.[dir] ?? []).map((r) => [r.ruleId, engine.ipSet(r.peers).members]));
}

describe('rule semantics, by example', () => {
  it('scopes: providers and consumers are intersected with the scope, each scope on its own', () => {
    const r = rule([lab(L.db)], [lab(L.web)]);
    const snap = snapshot([ruleSet(1, [[lab(L.crm), lab(L.prod)], [lab(L.crm), lab(L.dev)]], [r])]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    expect(peers(e, e.compile('db-prod'), 'inbound')).toEqual({ [r.id]: ['10.0.1.1'] });
    expect(peers(e, e.compile('db-dev'), 'inbound')).toEqual({ [r.id]: ['10.0.2.1'] });
    expect(peers(e, e.compile('web-prod'), 'outbound')).toEqual({ [r.id]: ['10.0.1.2'] });
    expect(peers(e, e.compile('web-dev'), 'outbound')).toEqual({ [r.id]: ['10.0.2.2', '2001:db8::22'] });
    expect(e.compile('db-prod')?.inbound[0]?.services).toEqual([{ proto: 6, port: 5432 }]);
    for (const id of ['web-test', 'erp-web', 'mon']) expect(e.compile(id)).toMatchObject({ inbound: [], outbound: [], ipSetIds: [] });
    assertEngineMatchesReference(snap, WORKLOADS, e);
  });

  it('an empty scope list means all workloads', () => {
    const r = rule([lab(L.db)], [lab(L.web)]);
    for (const scopes of [[], [[]]]) {
      const e = new PolicyCompiler(snapshot([ruleSet(1, scopes, [r])]), WORKLOADS);
      expect(peers(e, e.compile('db-prod'), 'inbound')).toEqual({ [r.id]: ['10.0.1.1', '10.0.2.1', '10.0.3.1', '10.0.4.1'] });
    }
  });

  it('extra-scope (unscoped) consumers reach the providers in scope from anywhere', () => {
    const extra = rule([lab(L.db)], [lab(L.mon)], { unscopedConsumers: true });
    const scoped = rule([lab(L.db)], [lab(L.mon)]);
    const snap = snapshot([ruleSet(1, [[lab(L.crm), lab(L.prod)]], [extra, scoped])]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    expect(peers(e, e.compile('db-prod'), 'inbound')).toEqual({ [extra.id]: ['10.9.0.1'], [scoped.id]: [] });
    expect(peers(e, e.compile('mon'), 'outbound')).toEqual({ [extra.id]: ['10.0.1.2'] });
    expect(e.compile('db-dev')?.inbound).toEqual([]);
    assertEngineMatchesReference(snap, WORKLOADS, e);
  });

  it('label groups expand to their labels, nested sub-groups included; same key OR, keys AND', () => {
    const r = rule([lab(L.db)], [lab(L.web), lab(L.app)]);
    const snap = snapshot([ruleSet(1, [[lab(L.crm), grp(G.nonprod)]], [r])]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    expect(peers(e, e.compile('db-dev'), 'inbound')).toEqual({ [r.id]: ['10.0.2.1', '10.0.3.1'] });
    expect(e.compile('db-prod')?.inbound).toEqual([]);
    assertEngineMatchesReference(snap, WORKLOADS, e);
  });

  it('IP lists are added as their ranges minus their exclusions', () => {
    const r = rule([lab(L.web), lab(L.prod)], [{ kind: 'ip_list', id: 601 }, lab(L.mon)]);
    const snap = snapshot([ruleSet(1, [], [r])]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    expect(peers(e, e.compile('web-prod'), 'inbound')).toEqual({ [r.id]: ['10.1.0.0-10.1.4.255', '10.1.6.0-10.1.255.255', '10.9.0.1'] });
    expect(peers(e, e.compile('erp-web'), 'inbound')).toEqual({ [r.id]: ['10.1.0.0-10.1.4.255', '10.1.6.0-10.1.255.255', '10.9.0.1'] });
    assertEngineMatchesReference(snap, WORKLOADS, e);
  });

  it('any protocol (All Services, proto -1) is one service entry that subsumes the others', () => {
    const any = rule([lab(L.db)], [lab(L.web)], { ingressServices: [{ kind: 'port', proto: 6, port: 80 }, { kind: 'port', proto: -1 }, { kind: 'service', id: 501 }] });
    const tcp = rule([lab(L.db)], [lab(L.app)], { ingressServices: [{ kind: 'port', proto: 17 }, { kind: 'port', proto: 6, port: 80 }] });
    const snap = snapshot([ruleSet(1, [], [any, tcp])]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    expect(e.compile('db-prod')?.inbound.map((r) => [r.ruleId, r.services])).toEqual([
      [any.id, [{ proto: -1 }]],
      [tcp.id, [{ proto: 6, port: 80 }, { proto: 17 }]],
    ]);
    assertEngineMatchesReference(snap, WORKLOADS, e);
    // any protocol has no ports
    expect(() => new PolicyCompiler(snapshot([ruleSet(1, [], [rule([lab(L.db)], [lab(L.web)], { ingressServices: [{ kind: 'port', proto: -1, port: 80 }] })])]), [])).toThrow(PolicyValidationError);
    expect(() => new PolicyCompiler(snapshot([ruleSet(1, [], [rule([lab(L.db)], [lab(L.web)], { ingressServices: [{ kind: 'port', proto: -2 }] })])]), [])).toThrow(PolicyValidationError);
  });

  it('ams, named workloads, disabled rules and rule sets', () => {
    const all = rule([{ kind: 'workload', id: 'mon' }], [{ kind: 'ams' }], { ingressServices: [{ kind: 'port', proto: 17, port: 161 }] });
    const off = rule([{ kind: 'ams' }], [{ kind: 'ams' }], { enabled: false });
    const offSet = rule([{ kind: 'ams' }], [{ kind: 'ams' }]);
    const snap = snapshot([ruleSet(1, [], [all, off]), ruleSet(2, [], [offSet], false)]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    expect(peers(e, e.compile('mon'), 'inbound')).toEqual({ [all.id]: ['10.0.1.1-10.0.1.2', '10.0.2.1-10.0.2.2', '10.0.3.1', '10.0.4.1', '10.9.0.1', '2001:db8::22'] });
    expect(peers(e, e.compile('web-prod'), 'outbound')).toEqual({ [all.id]: ['10.9.0.1'] });
    expect(e.compile('web-prod')?.inbound).toEqual([]);
    assertEngineMatchesReference(snap, WORKLOADS, e);
  });

  it('enforcement modes: idle has no rules; visibility_only computes without enforcing; selective enforces; full also denies by default', () => {
    const r = rule([lab(L.db)], [lab(L.web)]);
    const snap = snapshot([ruleSet(1, [], [r])]);
    const modes = ['idle', 'visibility_only', 'selective', 'full'] as const;
    const e = new PolicyCompiler(
      snap,
      modes.map((m) => wl(`db-${m}`, [L.db], ['10.0.0.1'], m)),
    );
    const p = Object.fromEntries(modes.map((m) => [m, e.compile(`db-${m}`)]));
    expect(p.idle).toMatchObject({ enforcementMode: 'idle', enforced: false, defaultDeny: false, inbound: [], outbound: [], ipSetIds: [], policyVersion: 7 });
    expect(p.visibility_only).toMatchObject({ enforced: false, defaultDeny: false });
    expect(p.visibility_only?.inbound).toHaveLength(1);
    expect(p.selective).toMatchObject({ enforced: true, defaultDeny: false });
    expect(p.full).toMatchObject({ enforced: true, defaultDeny: true });
    expect(p.selective?.inbound).toBe(p.full?.inbound); // one shared frozen list
    expect(Object.isFrozen(p.full?.inbound)).toBe(true);
    expect(new Set(modes.map((m) => p[m]?.rulesHash)).size).toBe(4);
  });

  it('identical expressions share one set; set ids do not depend on addresses', () => {
    const a = rule([lab(L.db)], [lab(L.web), lab(L.crm)]);
    const b = rule([lab(L.db)], [lab(L.crm), lab(L.web)], { ingressServices: [{ kind: 'port', proto: 6, port: 80 }] });
    const snap = snapshot([ruleSet(1, [], [a, b])]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    const p = e.compile('db-prod');
    expect(p?.inbound.map((r) => r.peers)).toEqual([p?.ipSetIds[0], p?.ipSetIds[0]]);
    expect(p?.ipSetIds).toHaveLength(1);
    expect(p?.ipSetIds[0]).toMatch(/^ls:[0-9a-f]{32}$/);
    const moved = new PolicyCompiler(snap, WORKLOADS.map((w) => ({ ...w, ips: ['192.168.0.9'] })));
    expect(moved.compile('db-prod')).toEqual(p);
  });
});

describe('incremental updates, by example', () => {
  const r = rule([lab(L.db)], [lab(L.web)]);
  const snap = snapshot([ruleSet(1, [[lab(L.crm), lab(L.prod)], [lab(L.crm), lab(L.dev)]], [r])]);

  it('an IP change updates the sets holding the workload and no rules', () => {
    const e = new PolicyCompiler(snap, WORKLOADS);
    const before = e.compileAll();
    const setId = e.compile('db-prod')?.inbound[0]?.peers ?? '';
    const delta = e.updateWorkload(wl('web-prod', [L.web, L.crm, L.prod, L.us], ['10.0.1.9']));
    expect(delta).toEqual({ changedIpSets: [setId], rulesChanged: [] });
    expect(e.ipSet(setId).members).toEqual(['10.0.1.9']);
    expect(e.compileAll()).toEqual(before);
  });

  it('a label change recompiles only the workload itself and moves it between sets', () => {
    const e = new PolicyCompiler(snap, WORKLOADS);
    const prodWeb = e.compile('db-prod')?.inbound[0]?.peers ?? '';
    const devWeb = e.compile('db-dev')?.inbound[0]?.peers ?? '';
    const delta = e.updateWorkload(wl('web-dev', [L.web, L.crm, L.prod], ['10.0.2.1']));
    expect(delta).toEqual({ changedIpSets: [prodWeb, devWeb].sort(), rulesChanged: ['web-dev'] });
    expect(e.ipSet(prodWeb).members).toEqual(['10.0.1.1', '10.0.2.1']);
    expect(e.ipSet(devWeb).members).toEqual([]);
    const now = WORKLOADS.map((w) => (w.id === 'web-dev' ? wl('web-dev', [L.web, L.crm, L.prod], ['10.0.2.1']) : w));
    assertEngineMatchesReference(snap, now, e);
  });

  it('a mode change reports the workload; removal and re-adding work', () => {
    const e = new PolicyCompiler(snap, WORKLOADS);
    expect(e.updateWorkload(wl('db-prod', [L.db, L.crm, L.prod], ['10.0.1.2'], 'idle'))).toEqual({ changedIpSets: [], rulesChanged: ['db-prod'] });
    const set = e.compile('web-prod')?.outbound[0]?.peers ?? '';
    expect(e.removeWorkload('db-prod')).toEqual({ changedIpSets: [set], rulesChanged: ['db-prod'] });
    expect(e.compile('db-prod')).toBeNull();
    expect(e.removeWorkload('db-prod')).toEqual({ changedIpSets: [], rulesChanged: [] });
    expect(e.updateWorkload(wl('db-prod', [L.db, L.crm, L.prod], ['10.0.1.2'])).rulesChanged).toEqual(['db-prod']);
    expect(e.ipSet(set).members).toEqual(['10.0.1.2']);
  });

  it('bad input is rejected before anything changes', () => {
    const e = new PolicyCompiler(snap, WORKLOADS);
    const before = e.compileAll();
    expect(() => e.updateWorkload(wl('web-prod', [L.web], ['10.0.0.300']))).toThrow(InvalidIpError);
    expect(() => e.updateWorkload({ ...wl('web-prod', [L.web], []), enforcementMode: 'bogus' as EnforcementMode })).toThrow(PolicyValidationError);
    expect(e.compileAll()).toEqual(before);
    expect(() => e.ipSet('ls:nope')).toThrow(UnknownIpSetError);
    expect(() => new PolicyCompiler(snapshot([ruleSet(1, [[lab(999)]], [])]), [])).toThrow(PolicyValidationError);
    expect(() => new PolicyCompiler(snap, [WORKLOADS[0] as WorkloadFacts, WORKLOADS[0] as WorkloadFacts])).toThrow(PolicyValidationError);
  });
});

describe('stable identifiers', () => {
  it('set ids and hashes of the documented example do not change by accident (docs/compiled-policy.md)', () => {
    const snap: PolicySnapshot = {
      version: 12,
      labels: [
        { id: 1, key: 'role', value: 'web' },
        { id: 2, key: 'role', value: 'db' },
        { id: 3, key: 'role', value: 'monitoring' },
        { id: 11, key: 'app', value: 'crm' },
        { id: 21, key: 'env', value: 'prod' },
      ],
      labelGroups: [],
      services: [{ id: 5, servicePorts: [{ proto: 6, port: 5432 }] }],
      ipLists: [
        {
          id: 7,
          ipRanges: [
            { fromIp: '192.168.0.0/24', exclusion: false },
            { fromIp: '192.168.0.128/25', exclusion: true },
          ],
        },
      ],
      ruleSets: [
        {
          id: 100,
          enabled: true,
          scopes: [[lab(11), lab(21)]],
          rules: [
            { id: 1001, enabled: true, providers: [lab(2)], consumers: [lab(1), { kind: 'ip_list', id: 7 }], ingressServices: [{ kind: 'service', id: 5 }], unscopedConsumers: false },
            { id: 1002, enabled: true, providers: [{ kind: 'ams' }], consumers: [lab(3)], ingressServices: [{ kind: 'port', proto: 6, port: 9100 }], unscopedConsumers: true },
          ],
        },
      ],
    };
    const id = (n: number): string => `a1b2c3d4-0000-4000-8000-00000000000${n}`;
    const e = new PolicyCompiler(snap, [
      wl(id(1), [2, 11, 21], ['10.0.1.5', '10.0.1.6']),
      wl(id(2), [1, 11, 21], ['10.0.1.10'], 'selective'),
      wl(id(3), [1, 11, 21], ['10.0.1.11', '2001:db8::11']),
      wl(id(9), [3], ['10.9.0.1']),
    ]);
    const p = e.compile(id(1));
    expect(p?.ipSetIds).toEqual(['ls:3c670c0c205918897b29402322c6efd5', 'ls:f87e7feb75b180c25ad85add456a267b']);
    expect(p?.rulesHash).toBe('6784575c02b4dcdcbbefbd6cd63913ebd01b3742295986a9a45b465990d6527d');
    expect(e.ipSet('ls:3c670c0c205918897b29402322c6efd5')).toEqual({
      id: 'ls:3c670c0c205918897b29402322c6efd5',
      members: ['10.0.1.10-10.0.1.11', '192.168.0.0-192.168.0.127', '2001:db8::11'],
      hash: '7d4b861043f01c248a3cf8926dac836fcd9aade70a5423b121aa3b39a8813c2d',
    });
  });
});

describe('use_workload_subnets, by example', () => {
  const nets = (id: string, labels: number[], ips: string[], subnets: string[]): WorkloadFacts => ({ id, labels, ips, subnets, enforcementMode: 'full' });
  const FLEET: WorkloadFacts[] = [
    nets('web-1', [L.web], ['10.0.1.1'], ['10.0.1.0/24']),
    nets('web-2', [L.web], ['10.0.1.7'], ['10.0.1.7/24']), // host bits set: the same network
    nets('web-3', [L.web], ['10.0.9.9'], ['10.0.9.9']), // an interface without a prefix keeps its address
    nets('db-1', [L.db], ['10.0.2.5', '2001:db8:2::5'], ['10.0.2.0/24', '2001:db8:2::/64']),
  ];
  const compile = (extra: Partial<PolicyRule>, workloads = FLEET) => {
    const r = rule([lab(L.db)], [lab(L.web)], extra);
    const snap = snapshot([ruleSet(1, [[]], [r])]);
    const e = new PolicyCompiler(snap, workloads);
    assertEngineMatchesReference(snap, workloads, e);
    return { e, r };
  };

  it('without the flag each side is its workloads’ addresses', () => {
    const { e, r } = compile({});
    expect(peers(e, e.compile('db-1'), 'inbound')).toEqual({ [r.id]: ['10.0.1.1', '10.0.1.7', '10.0.9.9'] });
    expect(peers(e, e.compile('web-1'), 'outbound')).toEqual({ [r.id]: ['10.0.2.5', '2001:db8:2::5'] });
  });

  it('consumers: the providers are reached from the consumers’ subnets; the providers stay addresses', () => {
    const { e, r } = compile({ useWorkloadSubnets: ['consumers'] });
    expect(peers(e, e.compile('db-1'), 'inbound')).toEqual({ [r.id]: ['10.0.1.0-10.0.1.255', '10.0.9.9'] });
    expect(peers(e, e.compile('web-1'), 'outbound')).toEqual({ [r.id]: ['10.0.2.5', '2001:db8:2::5'] });
  });

  it('providers: the consumers reach the providers’ subnets (IPv6 too); the consumers stay addresses', () => {
    const { e, r } = compile({ useWorkloadSubnets: ['providers'] });
    expect(peers(e, e.compile('web-3'), 'outbound')).toEqual({ [r.id]: ['10.0.2.0-10.0.2.255', '2001:db8:2::-2001:db8:2:0:ffff:ffff:ffff:ffff'] });
    expect(peers(e, e.compile('db-1'), 'inbound')).toEqual({ [r.id]: ['10.0.1.1', '10.0.1.7', '10.0.9.9'] });
  });

  it('both sides, with an IP list on the provider side: subnets and list ranges merge', () => {
    const r = rule([lab(L.db), { kind: 'ip_list', id: 601 }], [lab(L.web)], { useWorkloadSubnets: ['providers', 'consumers'] });
    const snap = snapshot([ruleSet(1, [[]], [r])]);
    const e = new PolicyCompiler(snap, FLEET);
    assertEngineMatchesReference(snap, FLEET, e);
    expect(peers(e, e.compile('db-1'), 'inbound')).toEqual({ [r.id]: ['10.0.1.0-10.0.1.255', '10.0.9.9'] });
    expect(peers(e, e.compile('web-2'), 'outbound')).toEqual({ [r.id]: ['10.0.2.0-10.0.2.255', '10.1.0.0-10.1.4.255', '10.1.6.0-10.1.255.255', '2001:db8:2::-2001:db8:2:0:ffff:ffff:ffff:ffff'] });
  });

  it('a rule with the flag and one without over the same actors get different sets', () => {
    const a = rule([lab(L.db)], [lab(L.web)], { useWorkloadSubnets: ['consumers'] });
    const b = rule([lab(L.db)], [lab(L.web)]);
    const snap = snapshot([ruleSet(1, [[]], [a, b])]);
    const e = new PolicyCompiler(snap, FLEET);
    assertEngineMatchesReference(snap, FLEET, e);
    expect(peers(e, e.compile('db-1'), 'inbound')).toEqual({ [a.id]: ['10.0.1.0-10.0.1.255', '10.0.9.9'], [b.id]: ['10.0.1.1', '10.0.1.7', '10.0.9.9'] });
  });

  it('facts without subnets: the addresses stand for them', () => {
    const workloads = FLEET.map(({ subnets: _subnets, ...w }) => w);
    const { e, r } = compile({ useWorkloadSubnets: ['consumers'] }, workloads);
    expect(peers(e, e.compile('db-1'), 'inbound')).toEqual({ [r.id]: ['10.0.1.1', '10.0.1.7', '10.0.9.9'] });
  });

  it('a subnet change is an incremental set update: only the sets whose contents change, no rules', () => {
    const { e, r } = compile({ useWorkloadSubnets: ['consumers'] });
    const setId = e.compile('db-1')?.inbound[0]?.peers as string;
    const web3 = FLEET[2] as WorkloadFacts;
    // web-3's interface gets a prefix: its network joins the set
    expect(e.updateWorkload({ ...web3, subnets: ['10.0.9.9/30'] })).toEqual({ changedIpSets: [setId], rulesChanged: [] });
    expect(peers(e, e.compile('db-1'), 'inbound')).toEqual({ [r.id]: ['10.0.1.0-10.0.1.255', '10.0.9.8-10.0.9.11'] });
    // web-2 leaves: web-1 still holds 10.0.1.0/24, nothing changes
    expect(e.removeWorkload('web-2')).toEqual({ changedIpSets: [], rulesChanged: ['web-2'] });
    // a nested subnet adds nothing to what the set holds
    expect(e.updateWorkload(nets('web-4', [L.web], ['10.0.1.200'], ['10.0.1.128/25']))).toMatchObject({ changedIpSets: [] });
    // the address-only sets of the other direction do not move on a subnet change
    expect(e.updateWorkload({ ...(FLEET[3] as WorkloadFacts), subnets: ['10.0.2.0/23'] })).toEqual({ changedIpSets: [], rulesChanged: [] });
    expect(e.ipSet(setId).members).toEqual(['10.0.1.0-10.0.1.255', '10.0.9.8-10.0.9.11']);
    // web-1 leaves: web-4's /25 is what is left of 10.0.1.0/24
    expect(e.removeWorkload('web-1')).toEqual({ changedIpSets: [setId], rulesChanged: ['web-1'] });
    expect(e.ipSet(setId).members).toEqual(['10.0.1.128-10.0.1.255', '10.0.9.8-10.0.9.11']);
  });

  it('a bad subnet is refused like a bad address, only when a rule uses subnets', () => {
    const bad = [nets('web-1', [L.web], ['10.0.1.1'], ['10.0.1.0/33'])];
    expect(() => compile({ useWorkloadSubnets: ['consumers'] }, bad)).toThrow(InvalidIpError);
    expect(() => new PolicyCompiler(snapshot([ruleSet(1, [[]], [rule([lab(L.db)], [lab(L.web)])])]), bad)).not.toThrow();
  });
});

describe('resolve_labels_as, by example', () => {
  // a virtual service labelled db/crm, bound to the monitoring workload, with an address of its own
  const withVs = (rules: PolicyRule[]): PolicySnapshot => ({
    ...snapshot([ruleSet(1, [[]], rules)]),
    virtualServices: [{ id: 701, servicePorts: [{ proto: 6, port: 8443 }], ipRanges: [{ fromIp: '10.8.0.1', exclusion: false }], workloads: ['mon'], labels: [L.db, L.crm] }],
  });

  it('label providers resolved as workloads, virtual services or both; no ingress services take the matched virtual services’ ports', () => {
    const asWorkloads = rule([lab(L.db), lab(L.prod)], [lab(L.web)]);
    const asVs = rule([lab(L.db)], [lab(L.web)], { ingressServices: [], resolveLabelsAs: { providers: ['virtual_services'], consumers: ['workloads'] } });
    const asBoth = rule([lab(L.db), lab(L.prod)], [lab(L.erp)], { resolveLabelsAs: { providers: ['workloads', 'virtual_services'], consumers: ['workloads'] } });
    const snap = withVs([asWorkloads, asVs, asBoth]);
    const e = new PolicyCompiler(snap, WORKLOADS);
    assertEngineMatchesReference(snap, WORKLOADS, e);
    expect(peers(e, e.compile('web-prod'), 'outbound')).toEqual({ [asWorkloads.id]: ['10.0.1.2'], [asVs.id]: ['10.8.0.1', '10.9.0.1'] });
    expect(e.compile('web-prod')?.outbound.find((r) => r.ruleId === asVs.id)?.services).toEqual([{ proto: 6, port: 8443 }]);
    // db/prod matches no virtual service label set fully (the service is not prod): both = the workloads only
    expect(peers(e, e.compile('erp-web'), 'outbound')[asBoth.id]).toEqual(['10.0.1.2']);
    // the bound workload gets the inbound rule; db workloads do not (their labels resolve as virtual services only)
    expect(peers(e, e.compile('mon'), 'inbound')).toEqual({ [asVs.id]: ['10.0.1.1', '10.0.2.1', '10.0.3.1', '10.0.4.1'] });
    expect(e.compile('db-dev')?.inbound.map((r) => r.ruleId)).toEqual([]);
  });
});
