/** Nearest-rank percentile of ascending `sorted` values; `fraction` in 0..1 (0.99 = p99). NaN when empty. */
export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? NaN;
}
