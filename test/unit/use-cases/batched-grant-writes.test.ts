import { describe, expect, it } from 'vitest';
import type { GrantStore, GrantWrite, WriteOutcome } from '../../../lambdas/ports';
import { batchedGrantWrites } from '../../../lambdas/use-cases/batched-grant-writes';
import { advance, requestedGrant } from '../../helpers/grants';
import { InMemoryGrantStore } from '../../helpers/in-memory-grant-store';

/** The in-memory store, counting what the batching asks of it. */
function countingStore() {
  const store = new InMemoryGrantStore();
  const calls = { update: 0, updateAll: [] as number[] };
  const update = store.update.bind(store);
  store.update = (previous, next) => {
    calls.update++;
    return update(previous, next);
  };
  // As the store's own, but through the uncounted update.
  store.updateAll = (writes: readonly GrantWrite[]) => {
    calls.updateAll.push(writes.length);
    return Promise.allSettled(writes.map((write) => update(write.previous, write.next)));
  };
  return { store, calls };
}

async function created(store: GrantStore, count: number) {
  const grants = Array.from({ length: count }, (_, index) => requestedGrant({ taskId: `batched-${index}` }));
  for (const grant of grants) await store.create(grant);
  return grants;
}

describe('batchedGrantWrites', () => {
  it('sends a lone write at once, on its own (the store makes it as update: dynamodb-grant-store-update-all.test.ts)', async () => {
    const { store, calls } = countingStore();
    const [grant] = await created(store, 1);
    const issuing = advance(grant!, 'issuing');

    expect(await batchedGrantWrites(store).update(grant!, issuing)).toEqual({ ok: true, grant: issuing });
    expect(calls).toEqual({ update: 0, updateAll: [1] });
  });

  it('sends the writes made while one is on the wire together, 25 a call at most, each learning its own outcome', async () => {
    const { store, calls } = countingStore();
    const grants = await created(store, 60);
    const batched = batchedGrantWrites(store);
    // One grant moved on: only its own write is refused.
    await store.update(grants[30]!, advance(grants[30]!, 'issuing'));
    calls.update = 0;

    const outcomes = await Promise.all(grants.map((grant) => batched.update(grant, advance(grant, 'denied'))));

    // The first went alone (nothing was on the wire), the rest by the batch.
    expect(calls.update).toBe(0);
    expect(calls.updateAll).toEqual([1, 25, 25, 9]);
    outcomes.forEach((outcome, index) =>
      index === 30
        ? expect(outcome).toMatchObject({ ok: false, current: { state: 'issuing' } })
        : expect(outcome).toMatchObject({ ok: true }),
    );
    expect((await store.get(grants[59]!.grantId))?.state).toBe('denied');
  });

  it('fails only the write that failed', async () => {
    const { store } = countingStore();
    const grants = await created(store, 3);
    const updateAll = store.updateAll.bind(store);
    // The first write of a shared call fails (throttled, say); the others in it go through.
    store.updateAll = async (writes) => {
      const outcomes = await updateAll(writes);
      return outcomes.map((outcome, index) =>
        index === 0 && writes.length > 1 ? { status: 'rejected', reason: new Error('throttled') } : outcome,
      );
    };
    const batched = batchedGrantWrites(store);

    const outcomes = await Promise.allSettled(grants.map((grant) => batched.update(grant, advance(grant, 'denied'))));

    // The first went alone (nothing on the wire); the next two shared a call, whose first write failed.
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseFulfilledResult<WriteOutcome>).value.ok).toBe(true);
  });

  it("leaves the store's other methods its own", async () => {
    const { store } = countingStore();
    const [grant] = await created(store, 1);
    expect(await batchedGrantWrites(store).get(grant!.grantId)).toEqual(grant);
  });
});
