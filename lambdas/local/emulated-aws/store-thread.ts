// Local engine, emulated AWS: the embedded store on a worker thread of the engine's process
// (embedded-store.ts, `ownThread`). The engine reaches it over loopback HTTP as before; what moves
// off the engine's thread is dynalite's request handling and LevelDB's calls, which take LevelDB's
// lock on the calling thread (a kill switch's profile: a third of the engine thread's time).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** What the thread says: its port once listening, or that it has closed. */
type ThreadMessage = { readonly listening: number } | { readonly closed: true } | { readonly failed: string };

const CLOSE = 'close';
/** Marks the thread's data: other workers (a test runner's) load this module too, and must not start a store. */
const STORE_THREAD = 'taskboundStoreThread';

interface StoreThreadData {
  readonly [STORE_THREAD]: true;
  readonly path: string | undefined;
}

const isStoreThread = (data: unknown): data is StoreThreadData =>
  typeof data === 'object' && data !== null && (data as Record<string, unknown>)[STORE_THREAD] === true;

/**
 * Starts the store on a thread of its own and resolves once it listens. A failure of the thread
 * afterwards is thrown in this one (an engine without its store must stop, as it would in process).
 */
export async function startStoreThread(path: string | undefined): Promise<{ readonly port: number; close(): Promise<void> }> {
  const worker = new Worker(threadEntry(), { eval: true, workerData: { [STORE_THREAD]: true, path } satisfies StoreThreadData });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the embedded store's thread exited (${code}) before it listened`)));
    worker.once('message', (message: ThreadMessage) =>
      'listening' in message
        ? resolve(message.listening)
        : reject(new Error(`the embedded store did not start: ${JSON.stringify(message)}`)),
    );
  });
  worker.removeAllListeners();
  let closing = false;
  worker.on('error', (error) => {
    throw error;
  });
  worker.on('exit', (code) => {
    if (!closing) throw new Error(`the embedded store's thread exited (${code}) while the engine ran`);
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        worker.once('exit', () => resolve());
        worker.postMessage(CLOSE);
      }),
  };
}

/**
 * The thread's code: this module again, as JavaScript runs it (a built package) or through tsx's
 * loader (`npm start` runs TypeScript, and a worker inherits no loader).
 */
function threadEntry(): string {
  const self = import.meta.url;
  const load = `import(${JSON.stringify(self)})`;
  if (extname(fileURLToPath(self)) !== '.ts') return load;
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return ${load}; })`;
}

/** Inside the thread: listen, say the port, close when asked. */
async function runThread(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  // Imported here: the engine's thread loads this module too, and must not load dynalite twice for nothing.
  const { listenOnLoopback } = await import('./embedded-store');
  try {
    const store = await listenOnLoopback((workerData as StoreThreadData).path);
    port.on('message', (message) => {
      if (message !== CLOSE) return;
      void store.close().finally(() => port.close());
    });
    port.postMessage({ listening: store.port } satisfies ThreadMessage);
  } catch (error) {
    port.postMessage({ failed: error instanceof Error ? error.message : String(error) } satisfies ThreadMessage);
  }
}

if (!isMainThread && isStoreThread(workerData)) void runThread();
