// Local engine, emulated AWS: makes the embedded store (dynalite 4.0.0) close its LevelDB iterators.
// Its streams over abstract-level 3 call `iterator.return()`, which abstract-level's iterators do not
// have, and never `close()`: every Query and Scan left its iterator open in the database's resource
// set, with its buffers and, over LevelDB, the snapshot it pins (the soak's heap grew ~4 KiB and its
// RSS far more per lifecycle). Streams over the iterator's own async iteration close it both at the
// end and when dynalite stops reading early (a Query that reaches its `Limit` destroys its stream).
import { patchEveryDynaliteStore } from './dynalite-store-hook';
import { Readable } from 'node:stream';

/** The part of dynalite's LevelDB handle (abstract-level 3) its streams are built from. */
interface DynaliteLevelDb {
  values(options?: object): AsyncIterable<unknown>;
  keys(options?: object): AsyncIterable<unknown>;
  createValueStream(options?: object): Readable;
  createKeyStream(options?: object): Readable;
}

/** The part of a dynalite store (dynalite/db's `create`) this relies on. */
interface DynaliteStore {
  readonly db: DynaliteLevelDb;
}

/**
 * From now on, every dynalite store this thread creates reads through streams that close their
 * iterators. Idempotent. Throws if dynalite no longer has the shape this relies on (an upgrade
 * must then check whether the leak is fixed upstream rather than silently lose the fix).
 */
export function closeDynaliteIterators(): void {
  patchEveryDynaliteStore<DynaliteStore>('closes iterators', (store) => readThroughClosingStreams(store.db));
}

function readThroughClosingStreams(db: DynaliteLevelDb): void {
  const methods = [db.values, db.keys, db.createValueStream, db.createKeyStream];
  if (methods.some((method) => typeof method !== 'function'))
    throw new Error("dynalite's store has no values/keys streams: the iterator fix no longer applies");
  // Readable.from iterates with the iterator's own async iteration, whose `finally` closes it; destroying
  // the stream returns the iteration early, which runs that `finally` too.
  db.createValueStream = (options) => Readable.from(db.values(options));
  db.createKeyStream = (options) => Readable.from(db.keys(options));
}
