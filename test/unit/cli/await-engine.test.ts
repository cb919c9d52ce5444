import { describe, expect, it } from 'vitest';
import { awaitEngine } from '../../../cli/await-engine';
import { silentProgress } from '../../../cli/progress';

describe('awaitEngine', () => {
  it('stops when the clock says the wait is over, even if each read is slow', async () => {
    let now = Date.parse('2026-11-30T00:00:00Z');
    let checks = 0;
    const deps = {
      progress: silentProgress,
      clock: { now: () => new Date(now) },
      // Each poll's read and sleep together take 4 s of the clock: a 10 s wait allows three reads, not 40.
      sleep: async () => void (now += 4_000),
    };

    const waited = await awaitEngine(deps, 'the engine', 10, async () => ({ done: false, value: ++checks }));

    expect(waited).toEqual({ done: false, last: 3 });
    expect(checks).toBe(3);
  });

  it('still ends by its count of polls when the clock does not move', async () => {
    const deps = { progress: silentProgress, clock: { now: () => new Date('2026-11-30T00:00:00Z') }, sleep: async () => undefined };
    let checks = 0;

    const waited = await awaitEngine(deps, 'the engine', 1, async () => ({ done: false, value: ++checks }));

    expect(waited).toEqual({ done: false, last: 4 });
  });
});
