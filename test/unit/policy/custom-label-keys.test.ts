/**
 * Label dimensions (issue 11): a custom label key (here `os`) in labels, a label group and a rule set scope
 * compiles like the built-in keys, in the engine and the reference compiler alike (the compiler is read here,
 * not changed: it treats keys as strings).
 */
import { describe, expect, it } from 'vitest';
import { PolicyCompiler } from '../../../shared/policy/compiler/index.ts';
import type { PolicySnapshot, WorkloadFacts } from '../../../shared/policy/model.ts';
import { assertEngineMatchesReference } from './helpers.ts';

const L = { web: 1, app: 2, linux: 41, windows: 42, bsd: 43 } as const;
const UNIX = 101;

const snapshot: PolicySnapshot = {
  version: 3,
  labels: [
    { id: L.web, key: 'role', value: 'web' },
    { id: L.app, key: 'role', value: 'app' },
    { id: L.linux, key: 'os', value: 'linux' },
    { id: L.windows, key: 'os', value: 'windows' },
    { id: L.bsd, key: 'os', value: 'bsd' },
  ],
  labelGroups: [{ id: UNIX, key: 'os', labels: [L.linux, L.bsd], subGroups: [] }],
  services: [{ id: 501, servicePorts: [{ proto: 6, port: 443 }] }],
  ipLists: [],
  ruleSets: [
    {
      id: 1,
      enabled: true,
      scopes: [[{ kind: 'label_group', id: UNIX }]],
      rules: [{ id: 1, enabled: true, providers: [{ kind: 'label', id: L.web }], consumers: [{ kind: 'label', id: L.app }], ingressServices: [{ kind: 'service', id: 501 }], unscopedConsumers: false }],
    },
  ],
};

const workloads: WorkloadFacts[] = [
  { id: 'web-linux', labels: [L.web, L.linux], ips: ['10.0.0.1'], enforcementMode: 'full' },
  { id: 'app-bsd', labels: [L.app, L.bsd], ips: ['10.0.0.2'], enforcementMode: 'full' },
  { id: 'web-windows', labels: [L.web, L.windows], ips: ['10.0.0.3'], enforcementMode: 'full' },
  { id: 'app-windows', labels: [L.app, L.windows], ips: ['10.0.0.4'], enforcementMode: 'full' },
];

describe('custom label keys (label dimensions) in the compiler', () => {
  it('scopes a rule set by a group of a custom key: only workloads with those labels get the rule', () => {
    const engine = new PolicyCompiler(snapshot, workloads);
    expect(engine.compile('web-linux')?.inbound.length).toBeGreaterThan(0);
    expect(engine.compile('app-bsd')?.outbound.length).toBeGreaterThan(0);
    expect(engine.compile('web-windows')?.inbound).toEqual([]);
    expect(engine.compile('app-windows')?.outbound).toEqual([]);
    assertEngineMatchesReference(snapshot, workloads, engine);
  });
});
