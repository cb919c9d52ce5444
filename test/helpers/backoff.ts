// Test helper: checks recorded waits against a backoff's ceilings. The retry's default jitter
// waits between half and all of each ceiling (lambdas/adapters/retry.ts).
import { expect } from 'vitest';

export function expectJitteredWaits(waits: readonly number[], ceilings: readonly number[]): void {
  expect(waits).toHaveLength(ceilings.length);
  waits.forEach((wait, index) => {
    expect(wait).toBeGreaterThanOrEqual(ceilings[index]! / 2);
    expect(wait).toBeLessThanOrEqual(ceilings[index]!);
  });
}
