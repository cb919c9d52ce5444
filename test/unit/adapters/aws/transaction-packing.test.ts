import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TRANSACT_ACTIONS, MAX_TRANSACT_BYTES, packTransactions } from '../../../../lambdas/adapters/aws/transaction-packing';

const write = (id: number, items: string[], actions = items.length, bytes = 1_000) => ({ id, items, actions, bytes });

describe('packTransactions', () => {
  it('fills a call up to 100 actions, then starts the next', () => {
    const writes = Array.from({ length: 120 }, (_, id) => write(id, [`grant-${id}`, `slot-${id}`]));
    expect(packTransactions(writes).map((group) => group.length)).toEqual([50, 50, 20]);
  });

  it('never puts two writes of one item in a call', () => {
    const groups = packTransactions([write(1, ['grant-a']), write(2, ['grant-b']), write(3, ['grant-a'])]);
    expect(groups.map((group) => group.map((each) => each.id))).toEqual([[1, 2], [3]]);
  });

  it('keeps a call under the byte limit, and gives a write bigger than it a call of its own', () => {
    const groups = packTransactions([
      write(1, ['a'], 1, MAX_TRANSACT_BYTES - 10),
      write(2, ['b'], 1, 100),
      write(3, ['c'], 1, 5),
      write(4, ['d'], 1, MAX_TRANSACT_BYTES + 1),
    ]);
    expect(groups.map((group) => group.map((each) => each.id))).toEqual([[1, 3], [2], [4]]);
  });

  it('holds every write exactly once, in its order, with every call within the limits', () => {
    const writes = fc.array(
      fc.record({
        items: fc.uniqueArray(fc.constantFrom('g1', 'g2', 'g3', 'g4', 's1', 's2', 's3'), { minLength: 1, maxLength: 2 }),
        bytes: fc.integer({ min: 1, max: MAX_TRANSACT_BYTES / 2 }),
      }),
      { maxLength: 150 },
    );
    fc.assert(
      fc.property(writes, (generated) => {
        const all = generated.map(({ items, bytes }, id) => write(id, items, items.length, bytes));
        const groups = packTransactions(all);
        expect(
          groups
            .flat()
            .map((each) => each.id)
            .sort((a, b) => a - b),
        ).toEqual(all.map((each) => each.id));
        for (const group of groups) {
          expect(group.map((each) => each.id)).toEqual([...group.map((each) => each.id)].sort((a, b) => a - b));
          expect(group.reduce((sum, each) => sum + each.actions, 0)).toBeLessThanOrEqual(MAX_TRANSACT_ACTIONS);
          if (group.length > 1) expect(group.reduce((sum, each) => sum + each.bytes, 0)).toBeLessThanOrEqual(MAX_TRANSACT_BYTES);
          const items = group.flatMap((each) => each.items);
          expect(new Set(items).size).toBe(items.length);
        }
      }),
    );
  });
});
