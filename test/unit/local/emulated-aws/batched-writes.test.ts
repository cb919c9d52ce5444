import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedWrites } from '../../../../lambdas/local/emulated-aws/batched-writes';
import type { StateTable } from '../../../../lambdas/local/emulated-aws/state-tables';
import { startStateStore, type StateStore } from './state-store';

describe('batched writes to a state table', () => {
  let state: StateStore;
  let batches: number;

  beforeEach(async () => {
    state = await startStateStore();
    batches = 0;
  });

  /** The table, counting the BatchWriteItem requests sent to it. */
  const countingBatches = (table: StateTable): StateTable => ({
    ...table,
    writes: {
      ...table.writes,
      batch: (writes) => {
        batches += 1;
        return table.writes.batch(writes);
      },
    },
  });
  afterEach(() => state.close());

  it('stores every write asked for together, more than one BatchWriteItem holds, before any caller resolves', async () => {
    const writes = new BatchedWrites(state.table('events'), 'id');

    await Promise.all(Array.from({ length: 60 }, (_, n) => writes.put({ id: `e${n}`, envelope: `{"n":${n}}` })));

    expect(await state.items('events')).toHaveLength(60);
  });

  it('writes a key once, with the later write, when both are asked for while the batch forms', async () => {
    await new BatchedWrites(state.table('events'), 'id').put({ id: 'kept', envelope: 'old' });
    const writes = new BatchedWrites(state.table('events'), 'id', { deleteWindowMs: 5 });

    await Promise.all([
      writes.put({ id: 'gone', envelope: 'first' }),
      writes.delete('gone'),
      writes.delete('kept'),
      writes.put({ id: 'kept', envelope: 'new' }),
    ]);

    expect(await state.items('events')).toEqual([{ id: 'kept', envelope: 'new' }]);
  });

  it('sends a waiting delete with the batch the next put starts, as one request', async () => {
    await new BatchedWrites(state.table('events'), 'id').put({ id: 'done', envelope: 'old' });
    const writes = new BatchedWrites(countingBatches(state.table('events')), 'id', { deleteWindowMs: 60_000 });

    const deleted = writes.delete('done');
    await writes.put({ id: 'accepted', envelope: 'new' });
    await deleted;

    expect(batches).toBe(1);
    expect(await state.items('events')).toEqual([{ id: 'accepted', envelope: 'new' }]);
  });

  it('sends a delete no put joins once its window has passed', async () => {
    await new BatchedWrites(state.table('events'), 'id').put({ id: 'done', envelope: 'old' });
    const writes = new BatchedWrites(countingBatches(state.table('events')), 'id', { deleteWindowMs: 30 });
    const started = performance.now();

    await writes.delete('done');

    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(batches).toBe(1);
    expect(await state.items('events')).toEqual([]);
  });

  it('fails every caller of a batch the store refuses', async () => {
    const writes = new BatchedWrites(state.table('events'), 'id');

    const results = await Promise.allSettled([
      writes.put({ id: 'a', envelope: 'x' }),
      writes.put({ id: '', envelope: 'empty keys are refused' }),
    ]);

    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await state.items('events')).toEqual([]);
  });
});
