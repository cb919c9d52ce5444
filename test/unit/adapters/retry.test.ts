import { describe, expect, it } from 'vitest';
import { backoffDelay, notYet, retry, settled } from '../../../lambdas/adapters/retry';

const recorder = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};

describe('retry', () => {
  it('stops at the first settled attempt, without waiting after it', async () => {
    const clock = recorder();
    const answer = await retry(
      { attempts: 5, baseDelayMs: 100 },
      async (attempt) => (attempt === 3 ? settled('done') : notYet(attempt)),
      clock,
    );
    expect(answer).toEqual({ settled: true, value: 'done', attempts: 3 });
    expect(clock.waits).toHaveLength(2);
  });

  it('gives up after the bounded number of attempts and hands back the last answer', async () => {
    const clock = recorder();
    let calls = 0;
    const answer = await retry({ attempts: 4, baseDelayMs: 100 }, async () => notYet(`try ${++calls}`), clock);
    expect(answer).toEqual({ settled: false, last: 'try 4', attempts: 4 });
    expect(calls).toBe(4);
    expect(clock.waits).toHaveLength(3);
  });

  it('doubles the ceiling each time and caps it', async () => {
    const clock = recorder();
    await retry({ attempts: 5, baseDelayMs: 100, maxDelayMs: 300 }, async () => notYet(undefined), { ...clock, random: () => 0.999999 });
    expect(clock.waits).toEqual([100, 200, 300, 300]);
  });

  it('waits between half and all of the ceiling by default (equal jitter)', () => {
    expect(backoffDelay({ attempts: 3, baseDelayMs: 1000 }, 1, () => 0)).toBe(500);
    expect(backoffDelay({ attempts: 3, baseDelayMs: 1000 }, 2, () => 0.5)).toBe(1500);
    for (let i = 0; i < 200; i += 1) {
      const wait = backoffDelay({ attempts: 3, baseDelayMs: 1000 }, 3);
      expect(wait).toBeGreaterThanOrEqual(2000);
      expect(wait).toBeLessThanOrEqual(4000);
    }
  });

  it('waits anywhere below the ceiling with full jitter', () => {
    expect(backoffDelay({ attempts: 3, baseDelayMs: 1000, jitter: 'full' }, 2, () => 0)).toBe(0);
    expect(backoffDelay({ attempts: 3, baseDelayMs: 1000, jitter: 'full' }, 2, () => 0.25)).toBe(500);
  });

  it('waits as long as an attempt asks instead, when it names a time (Retry-After)', async () => {
    const clock = recorder();
    await retry({ attempts: 2, baseDelayMs: 100 }, async () => notYet(undefined, 3000), clock);
    expect(clock.waits).toEqual([3000]);
  });

  it('lets an attempt that throws end the retry with its error', async () => {
    const clock = recorder();
    await expect(retry({ attempts: 3, baseDelayMs: 1 }, async () => Promise.reject(new Error('not retryable')), clock)).rejects.toThrow(
      'not retryable',
    );
    expect(clock.waits).toEqual([]);
  });

  it('refuses a schedule without a positive whole number of attempts', async () => {
    await expect(retry({ attempts: 0, baseDelayMs: 1 }, async () => settled(1))).rejects.toThrow(RangeError);
    await expect(retry({ attempts: 1.5, baseDelayMs: 1 }, async () => settled(1))).rejects.toThrow(RangeError);
  });
});
