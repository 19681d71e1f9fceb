import { describe, expect, it } from 'vitest';
import { labelUsesOf } from '../../shared/labels/label-uses.ts';

const source = (used: boolean) => ({ isLabelInUse: async () => used, usesLabel: async () => used });

describe('labelUsesOf', () => {
  it('names each kind of use of the label, none when unused', async () => {
    expect(await labelUsesOf({ policy: source(false), workloads: source(false), settings: source(false) })(1, 5)).toEqual([]);
    expect(await labelUsesOf({ policy: source(true), workloads: source(true), settings: source(true) })(1, 5)).toEqual([
      'draft or active policy objects',
      'at least one workload',
      'the workload settings (a timer scope)',
    ]);
  });

  it('asks the workloads whether some workload has the label, never for a list of them', async () => {
    const asked: [number, number][] = [];
    const workloads = {
      usesLabel: async (orgId: number, labelId: number) => {
        asked.push([orgId, labelId]);
        return labelId === 7;
      },
    };
    const usesOf = labelUsesOf({ policy: source(false), workloads, settings: source(false) });
    expect(await usesOf(3, 7)).toEqual(['at least one workload']);
    expect(await usesOf(3, 8)).toEqual([]);
    expect(asked).toEqual([
      [3, 7],
      [3, 8],
    ]);
  });
});
