// Use case helper: one step over many items, a few at a time (a burst of AWS calls would only
// be throttled). Shared by the sweep, its slot reconciliation, and the kill switch.

/** Runs `step` on every item, at most `size` at once; the results in the items' order. */
export async function inBatches<T, R>(items: readonly T[], size: number, step: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let index = 0; index < items.length; index += size) {
    results.push(...(await Promise.all(items.slice(index, index + size).map(step))));
  }
  return results;
}
