// Local engine, emulated AWS: the embedded store's own thread. The engine's event loop runs the
// handlers and the emulated services; dynalite (request parsing, condition checks, LevelDB) runs
// here, on the machine's other core, and answers on its own loopback port as before.
import { parentPort, workerData } from 'node:worker_threads';
import { listenEmbeddedStore, type EmbeddedStoreOptions } from './embedded-store-server';

const port = parentPort;
if (!port) throw new Error('store-thread.ts runs as a worker thread');
const listening = await listenEmbeddedStore(workerData as EmbeddedStoreOptions);
port.postMessage({ endpoint: listening.endpoint });
port.on('message', (message: unknown) => {
  if (message !== 'close') return;
  listening.close().then(
    () => port.postMessage({ closed: true }),
    (error: unknown) => port.postMessage({ closed: false, error: String(error) }),
  );
});
