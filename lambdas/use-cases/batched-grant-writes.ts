// Use case helper: the grant writes of many revocations at once (the kill switch) sent together,
// in the store's `updateAll`, rather than one call per write. While one call is on the wire, the
// writes made meanwhile wait for it and then go in one call (Nagle's algorithm, as the local
// engine's events do): a lone write goes at once, and a busy run writes by the batch.
// Each write keeps its own condition and learns only its own outcome.
import type { Grant } from '../domain/grant';
import type { GrantStore, GrantWrite, WriteOutcome } from '../ports';

/**
 * Writes held for one call at most: 25 closing writes are 50 of a transaction's 100 actions, and a
 * bigger batch would only make the writes that start it wait longer.
 */
const WRITES_PER_CALL = 25;

interface Waiting {
  readonly write: GrantWrite;
  readonly resolve: (outcome: WriteOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** The store, with `update` batched as above; every other method is the store's own. */
export function batchedGrantWrites(store: GrantStore): GrantStore {
  const waiting: Waiting[] = [];
  let inFlight = 0;
  const send = async (batch: readonly Waiting[]) => {
    inFlight++;
    try {
      // A lone write is the store's to make as `update` makes it (updateAll does).
      const outcomes = await store.updateAll(batch.map((held) => held.write));
      batch.forEach((held, index) => {
        const outcome = outcomes[index];
        if (outcome?.status === 'fulfilled') held.resolve(outcome.value);
        else held.reject(outcome ? outcome.reason : new Error('the store answered fewer writes than it was given'));
      });
    } catch (error) {
      for (const held of batch) held.reject(error);
    } finally {
      inFlight--;
      sendWhatIsReady();
    }
  };
  // A full batch goes at once; a partial one only when nothing is on the wire (else it waits for more company).
  const sendWhatIsReady = () => {
    while (waiting.length > 0 && (inFlight === 0 || waiting.length >= WRITES_PER_CALL)) void send(waiting.splice(0, WRITES_PER_CALL));
  };
  const update = (previous: Grant, next: Grant) =>
    new Promise<WriteOutcome>((resolve, reject) => {
      waiting.push({ write: { previous, next }, resolve, reject });
      sendWhatIsReady();
    });
  return new Proxy(store, {
    get(target, property) {
      if (property === 'update') return update;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
