/** Latency samples as the benchmarks report them: p50, p99 and max in whole ms (null when there are none). */
import { percentile } from '../../shared/runtime/stats.ts';

export interface LatencySummary {
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
}

export function latencySummary(samplesMs: readonly number[]): LatencySummary {
  if (samplesMs.length === 0) return { p50_ms: null, p99_ms: null, max_ms: null };
  const s = [...samplesMs].sort((a, b) => a - b);
  return { p50_ms: Math.round(percentile(s, 0.5)), p99_ms: Math.round(percentile(s, 0.99)), max_ms: Math.round(s.at(-1) ?? NaN) };
}
