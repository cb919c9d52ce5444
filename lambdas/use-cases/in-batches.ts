// Use case helper: one step over many items, a few at a time (a burst of AWS calls would only
// be throttled). Shared by the sweep, its slot reconciliation, and the kill switch.

/**
 * Runs `step` on every item, at most `size` at once; the results in the items' order. A pool, not
 * lockstep batches: a slow item holds up one slot, not the next `size` items.
 */
export async function inBatches<T, R>(items: readonly T[], size: number, step: (item: T) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, not ${size}`);
  const results = new Array<R>(items.length);
  let next = 0;
  // After a failure no new item starts (those in flight finish), as the caller has its answer.
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await step(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}
