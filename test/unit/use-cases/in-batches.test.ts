import { describe, expect, it } from 'vitest';
import { inBatches } from '../../../lambdas/use-cases/in-batches';

describe('inBatches', () => {
  it('runs at most `size` steps at once, and starts the next batch only when the last one is done', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const step = async (item: number) => {
      started.push(item);
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      running -= 1;
      return item * 10;
    };

    const results = await inBatches([1, 2, 3, 4, 5, 6, 7], 3, step);

    expect(most).toBe(3);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
  });

  it('returns the results in the items’ order, whichever step finishes first', async () => {
    const results = await inBatches(['slow', 'fast'], 2, async (item) => {
      if (item === 'slow') await new Promise((resolve) => setImmediate(resolve));
      return item.toUpperCase();
    });
    expect(results).toEqual(['SLOW', 'FAST']);
  });

  it('calls nothing for no items, and fails as the first failing step fails', async () => {
    expect(await inBatches([], 4, async () => 'never')).toEqual([]);
    await expect(inBatches([1, 2], 1, async (item) => (item === 2 ? Promise.reject(new Error('step 2 failed')) : item))).rejects.toThrow(
      'step 2 failed',
    );
  });
});
