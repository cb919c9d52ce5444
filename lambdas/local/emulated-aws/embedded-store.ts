// Local engine, emulated AWS: the embedded DynamoDB-compatible store (dynalite over LevelDB) that the
// engine's real DynamoDB adapters talk to, in process, on a loopback port of its own.
//
// Durability: dynalite writes each item through LevelDB, whose write-ahead log is flushed
// to the operating system (a write(2) per write batch) before the write returns, without
// fsync. A `kill -9` of this process therefore loses nothing the store acknowledged; only
// an OS crash or power loss could lose the last writes. LevelDB replays its log on open.
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { closeDynaliteIterators } from './dynalite-iterators';
import { withTransactions } from './dynalite-transactions';

/**
 * Where a running store says its own endpoint, inside the data directory: for inspecting the
 * emulated services' tables, which the engine's DynamoDB endpoint hides. Anyone who can read the
 * data directory (this user: mode 0700) can read the store's files anyway, so this widens nothing.
 */
export const STORE_ENDPOINT_FILE = 'store-endpoint.json';

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
 * Starts dynalite on a free loopback port; tables are ACTIVE as soon as they are created.
 * It answers TransactWriteItems too (dynalite-transactions.ts).
 */
export async function startEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const path = options.dataDir === undefined ? undefined : join(options.dataDir, 'dynamodb');
  if (path) await mkdir(path, { recursive: true, mode: 0o700 });
  closeDynaliteIterators();
  const server = withTransactions(() => dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  if (options.dataDir) await writeFile(join(options.dataDir, STORE_ENDPOINT_FILE), `${JSON.stringify({ endpoint })}\n`, { mode: 0o600 });
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
