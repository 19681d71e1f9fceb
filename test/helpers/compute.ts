/**
 * A small compute world for tests: a two-role policy (web may reach db on one port) and compute
 * runtimes (Lambda execution environments) sharing one compiled-policy store and one set of facts.
 */
import { ComputeService } from '../../shared/compute/compute-service.ts';
import type { CompiledPolicyStore, ManagedWorkloadFacts, VersionedSnapshot } from '../../shared/compute/ports.ts';
import { PolicyCompiler } from '../../shared/policy/compiler/engine.ts';
import type { PolicySnapshot } from '../../shared/policy/model.ts';

export const webToDbPolicy = (version: number, port: number): PolicySnapshot => ({
  version,
  labels: [
    { id: 1, key: 'role', value: 'web' },
    { id: 2, key: 'role', value: 'db' },
  ],
  labelGroups: [],
  services: [],
  ipLists: [],
  ruleSets: [{ id: 1, enabled: true, scopes: [[]], rules: [{ id: 1, enabled: true, providers: [{ kind: 'label', id: 2 }], consumers: [{ kind: 'label', id: 1 }], ingressServices: [{ kind: 'port', proto: 6, port }], unscopedConsumers: false }] }],
});

export function computeWorld(store: CompiledPolicyStore, initialFacts: ManagedWorkloadFacts[], options: { selfFqdn?: string; now?: () => number } = {}) {
  let active: VersionedSnapshot = { version: 1, snapshot: webToDbPolicy(1, 5432) };
  let facts = initialFacts;
  let duringRead: () => Promise<void> = async () => undefined;
  /** a compute runtime over the shared store and facts */
  const runtime = () =>
    new ComputeService({
      selfFqdn: options.selfFqdn ?? 'me',
      policies: { getActive: async () => active, getVersion: async () => active },
      workloads: {
        listFacts: async () => {
          const read = facts;
          await duringRead();
          return read;
        },
      },
      compiled: store,
      createCompiler: (s, w) => new PolicyCompiler(s, w),
      ...(options.now ? { now: options.now } : {}),
    });
  return {
    runtime,
    setActive: (v: VersionedSnapshot) => (active = v),
    setFacts: (f: ManagedWorkloadFacts[]) => (facts = f),
    facts: () => facts,
    /** runs once while the next run reads the facts: something happening in the middle of a run */
    onNextRead: (fn: () => Promise<void>) =>
      (duringRead = async () => {
        duringRead = async () => undefined;
        await fn();
      }),
  };
}
