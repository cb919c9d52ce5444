import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedWrites } from '../../../../lambdas/local/emulated-aws/batched-writes';
import { startStateStore, type StateStore } from './state-store';

describe('batched writes to a state table', () => {
  let state: StateStore;

  beforeEach(async () => {
    state = await startStateStore();
  });
  afterEach(() => state.close());

  it('stores every write asked for together, more than one BatchWriteItem holds, before any caller resolves', async () => {
    const writes = new BatchedWrites(state.table('events'), 'id');

    await Promise.all(Array.from({ length: 60 }, (_, n) => writes.put({ id: `e${n}`, envelope: `{"n":${n}}` })));

    expect(await state.items('events')).toHaveLength(60);
  });

  it('writes a key once, with the later write, when both are asked for while the batch forms', async () => {
    await new BatchedWrites(state.table('events'), 'id').put({ id: 'kept', envelope: 'old' });
    const writes = new BatchedWrites(state.table('events'), 'id', { windowMs: 5 });

    await Promise.all([writes.put({ id: 'gone', envelope: 'first' }), writes.delete('gone'), writes.delete('kept'), writes.put({ id: 'kept', envelope: 'new' })]);

    expect(await state.items('events')).toEqual([{ id: 'kept', envelope: 'new' }]);
  });

  it('fails every caller of a batch the store refuses', async () => {
    const writes = new BatchedWrites(state.table('events'), 'id');

    const results = await Promise.allSettled([writes.put({ id: 'a', envelope: 'x' }), writes.put({ id: '', envelope: 'empty keys are refused' })]);

    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await state.items('events')).toEqual([]);
  });
});
