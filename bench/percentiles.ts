// Bench: percentiles by the nearest-rank method, the one the report names.

/** The nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Sorts a copy ascending (numbers, not strings). */
export const ascending = (samples: readonly number[]): number[] => [...samples].sort((a, b) => a - b);

export function median(samples: readonly number[]): number {
  return nearestRank(ascending(samples), 50);
}

/** Rounds to the hundredth for the report; NaN (no samples) stays NaN. */
export const round2 = (value: number): number => Math.round(value * 100) / 100;
