import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyCompiler } from '../../../shared/policy/compiler/index.ts';
import { scenarioArb } from './arbitraries.ts';
import { assertEngineMatchesReference } from './helpers.ts';

describe('PolicyCompiler == ReferenceCompiler on random policies', () => {
  it('every workload of every random policy compiles to the same normalised rules', () => {
    fc.assert(
      fc.property(scenarioArb, ({ snapshot, workloads }) => assertEngineMatchesReference(snapshot, workloads)),
      { numRuns: 2000 },
    );
  }, 300_000);

  it('unknown workloads compile to null', () => {
    fc.assert(
      fc.property(scenarioArb, ({ snapshot, workloads }) => {
        expect(new PolicyCompiler(snapshot, workloads).compile('no-such-workload')).toBeNull();
      }),
      { numRuns: 20 },
    );
  });
});
