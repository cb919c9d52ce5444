// Local engine, emulated AWS: the embedded DynamoDB-compatible store (dynalite over LevelDB) that the
// engine's real DynamoDB adapters talk to, on a loopback port of its own, in the thread that calls
// `listenEmbeddedStore` (embedded-store.ts runs it in a thread of its own for the engine).
//
// Durability: dynalite writes each item through LevelDB, whose write-ahead log is flushed
// to the operating system (a write(2) per write batch) before the write returns, without
// fsync. A `kill -9` of this process therefore loses nothing the store acknowledged; only
// an OS crash or power loss could lose the last writes. LevelDB replays its log on open.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { closeDynaliteIterators } from './dynalite-iterators';
import { withTransactions } from './dynalite-transactions';

export interface EmbeddedStoreOptions {
  /** The engine's data directory; the store lives in `<dataDir>/dynamodb`. In memory when absent. */
  readonly dataDir?: string;
}

export interface EmbeddedStore {
  /** `http://127.0.0.1:<port>`, for a DynamoDB client's `endpoint`. */
  readonly endpoint: string;
  /** Stops listening and closes the database once pending writes are done. */
  close(): Promise<void>;
}

/**
 * Starts dynalite on a free loopback port in this thread; tables are ACTIVE as soon as they are created.
 * It answers TransactWriteItems too (dynalite-transactions.ts).
 */
export async function listenEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const path = options.dataDir === undefined ? undefined : join(options.dataDir, 'dynamodb');
  if (path) {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await assertNotInUse(path);
  }
  closeDynaliteIterators();
  const server = withTransactions(() => dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** The part of `level` (dynalite's LevelDB binding) the check below uses. */
interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * LevelDB lets one process at a time open a database. dynalite opens it lazily and, when another
 * engine holds it, fails its first request with "Database is closed"; open it here first, so a second
 * engine on the same data directory stops at once, saying why.
 */
async function assertNotInUse(path: string): Promise<void> {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = fromDynalite('level') as { Level: new (location: string) => LevelDatabase };
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(
      `the data directory's store ${path} cannot be opened (${cause}): is another Taskbound engine using this data directory?`,
      {
        cause: error,
      },
    );
  }
  await db.close();
}
