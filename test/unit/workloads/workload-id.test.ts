/** Time-ordered workload ids: valid UUIDs whose order is the order they were made in. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWorkloadId } from '../../../shared/storage/workload-keys.ts';
import { parseWorkloadFilter, isEmptyWorkloadFilter } from '../../../shared/workloads/filter.ts';
import { timeOrderedIds } from '../../../shared/workloads/workload-id.ts';

describe('timeOrderedIds', () => {
  it('makes version-7 UUIDs that sort in the order they were made, same millisecond or not, even when the clock steps back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 47 }), { minLength: 1, maxLength: 200 }), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 200 }), (starts, steps) => {
        const next = timeOrderedIds();
        let now = starts[0] ?? 0;
        const ids = [...steps, 0].map((step) => {
          now = step === 5 ? Math.max(0, now - 1000) : now + step;
          return next(now);
        });
        for (const id of ids) {
          expect(isWorkloadId(id)).toBe(true);
          expect(id[14]).toBe('7');
          expect('89ab').toContain(id[19]);
        }
        expect([...ids].sort()).toEqual(ids);
        expect(new Set(ids).size).toBe(ids.length);
      }),
    );
  });

  it('keeps order past 4,096 ids in one millisecond', () => {
    const next = timeOrderedIds();
    const ids = Array.from({ length: 10_000 }, () => next(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
  });

  it('a list without any filter is one the storage can page', () => {
    expect(isEmptyWorkloadFilter(parseWorkloadFilter(1, {}))).toBe(true);
    expect(isEmptyWorkloadFilter(parseWorkloadFilter(1, { labels: '[]', max_results: '5' }))).toBe(true);
    expect(isEmptyWorkloadFilter(parseWorkloadFilter(1, { name: 'x' }))).toBe(false);
    expect(isEmptyWorkloadFilter(parseWorkloadFilter(1, { managed: 'false' }))).toBe(false);
  });
});
