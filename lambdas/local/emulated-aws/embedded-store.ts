// Local engine, emulated AWS: starts the embedded store (embedded-store-server.ts) for the engine,
// in this thread or, with `ownThread`, in a worker thread of its own. The engine's event loop is
// its bottleneck (handlers, the emulated services, SigV4, every SDK call's both ends); dynalite's
// share of each store call then runs on the machine's other core. A worker thread, not a child
// process: it dies with the engine, so `kill -9` leaves no store behind holding the LevelDB lock.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { listenEmbeddedStore, type EmbeddedStore, type EmbeddedStoreOptions } from './embedded-store-server';

export type { EmbeddedStore } from './embedded-store-server';

/**
 * Where a running store says its own endpoint, inside the data directory: for inspecting the
 * emulated services' tables, which the engine's DynamoDB endpoint hides. Anyone who can read the
 * data directory (this user: mode 0700) can read the store's files anyway, so this widens nothing.
 */
export const STORE_ENDPOINT_FILE = 'store-endpoint.json';

export interface StartEmbeddedStoreOptions extends EmbeddedStoreOptions {
  /**
   * Run the store in a worker thread of its own (the local engine does); default: in this thread.
   * A failure of that thread after it started is thrown: the engine cannot go on without its store.
   */
  readonly ownThread?: boolean;
}

/** Starts the store on a free loopback port; tables are ACTIVE as soon as they are created. */
export async function startEmbeddedStore(options: StartEmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const { ownThread, ...storeOptions } = options;
  const store = ownThread ? await startInWorker(storeOptions) : await listenEmbeddedStore(storeOptions);
  if (options.dataDir)
    await writeFile(join(options.dataDir, STORE_ENDPOINT_FILE), `${JSON.stringify({ endpoint: store.endpoint })}\n`, { mode: 0o600 });
  return store;
}

type ThreadMessage = { readonly endpoint: string } | { readonly closed: boolean; readonly error?: string };

async function startInWorker(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  // The engine runs from its TypeScript sources (npm start, tests; it is not compiled): the thread
  // loads its entry through tsx, as the engine was loaded.
  const entry = new URL('./store-thread.ts', import.meta.url).href;
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const worker = new Worker(`import(${tsx}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`, {
    eval: true,
    workerData: options,
  });
  let closing = false;
  const endpoint = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the embedded store's thread exited (${code}) before it listened`)));
    worker.once('message', (message: ThreadMessage) => {
      if ('endpoint' in message) resolve(message.endpoint);
    });
  });
  worker.removeAllListeners('error').removeAllListeners('exit');
  const failed = (error: Error) => {
    if (!closing) throw error;
  };
  worker.on('error', failed);
  worker.on('exit', (code) => failed(new Error(`the embedded store's thread exited (${code})`)));
  return {
    endpoint,
    async close() {
      closing = true;
      const closed = new Promise<ThreadMessage>((resolve) => worker.once('message', resolve));
      worker.postMessage('close');
      const answer = await closed;
      await worker.terminate();
      if ('closed' in answer && !answer.closed) throw new Error(`the embedded store did not close: ${answer.error ?? 'unknown'}`);
    },
  };
}
