// Local engine, emulated AWS: makes the embedded store (dynalite 4.0.0) remember its tables' descriptions.
// dynalite reads a table's description from LevelDB (and parses its JSON) before every item operation,
// so a conditional write costs two LevelDB reads where one is the item's. On the main thread each read
// takes LevelDB's lock, which the writing threads hold: in a kill switch's profile these reads were
// 0.6 s of 10 s of CPU, half of them the table's. The description changes only through dynalite's
// own table writes (CreateTable, UpdateTable, DeleteTable), which this watches.
import { patchEveryDynaliteStore } from './dynalite-store-hook';

type Callback = (error: Error | null, value?: unknown) => void;

/** The part of a dynalite store (dynalite/db's `create`) this relies on. */
interface DynaliteStore {
  getTable(name: string, checkStatus: boolean | Callback, callback?: Callback): void;
  readonly tableDb: {
    put(key: string, value: unknown, callback?: Callback): void;
    del(key: string, callback?: Callback): void;
  };
}

/**
 * From now on, every dynalite store this thread creates answers its item operations' table
 * lookups from memory once it has read an ACTIVE table. Idempotent. Throws if dynalite no longer
 * has the shape this relies on (an upgrade must then look again rather than silently lose it).
 */
export function cacheDynaliteTables(): void {
  patchEveryDynaliteStore('table cache', rememberTables);
}

function rememberTables(store: DynaliteStore): void {
  const { tableDb } = store;
  const getTable = store.getTable.bind(store);
  const put = tableDb.put.bind(tableDb);
  const del = tableDb.del.bind(tableDb);
  if ([store.getTable, tableDb.put, tableDb.del].some((method) => typeof method !== 'function'))
    throw new Error("dynalite's store has no getTable or table writes: the table cache no longer applies");
  const tables = new Map<string, unknown>();
  // Bumped by every table write, when it starts and when it ends: a read that overlapped one is not remembered.
  let writes = 0;
  const forget = (name: string) => {
    writes++;
    tables.delete(name);
  };
  tableDb.put = (key, value, callback) => {
    forget(key);
    put(key, value, (error) => {
      forget(key);
      callback?.(error);
    });
  };
  tableDb.del = (key, callback) => {
    forget(key);
    del(key, (error) => {
      forget(key);
      callback?.(error);
    });
  };
  store.getTable = (name, checkStatus, callback) => {
    // As dynalite reads its arguments: `getTable(name, callback)` checks the status (item operations do).
    const done = (typeof checkStatus === 'function' ? checkStatus : callback) as Callback;
    const checking = typeof checkStatus === 'function' || checkStatus;
    // Only item operations, which never change the description they are given (UpdateTable and DeleteTable do: they read it fresh).
    if (!checking) return getTable(name, false, done);
    const known = tables.get(name);
    if (known !== undefined) return process.nextTick(done, null, known);
    const before = writes;
    getTable(name, true, (error, table) => {
      if (!error && before === writes && (table as { TableStatus?: unknown }).TableStatus === 'ACTIVE') tables.set(name, table);
      done(error, table);
    });
  };
}
