/**
 * Workload ids that sort in creation order: UUID version 7 (RFC 9562), the creation time in milliseconds
 * in the first 48 bits, then a 12-bit sequence that keeps ids made in the same millisecond in the order
 * they were made (a bulk_create lists in request order), then 62 random bits. A workload's items are keyed
 * by its id (shared/storage/workload-keys.ts), so one Query in key order reads the oldest workloads first.
 */
import { randomBytes } from 'node:crypto';

export function timeOrderedIds(): (now: number) => string {
  let lastMs = -1;
  let seq = 0;
  return (now) => {
    let ms = Math.max(0, Math.floor(now));
    if (ms <= lastMs) {
      // same millisecond (or a clock step back): the next sequence number of the last one; past 4095, borrow the next millisecond
      ms = lastMs;
      seq++;
      if (seq > 0xfff) {
        ms++;
        seq = 0;
      }
    } else {
      seq = 0;
    }
    lastMs = ms;
    const rand = randomBytes(8);
    const hex = ms.toString(16).padStart(12, '0').slice(-12);
    const a = (0x7000 | seq).toString(16);
    const b = (((rand[0] ?? 0) & 0x3f) | 0x80).toString(16).padStart(2, '0') + (rand[1] ?? 0).toString(16).padStart(2, '0');
    const c = rand.subarray(2).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8)}-${a}-${b}-${c}`;
  };
}
