// SDK: SIGINT and SIGTERM end every running task as `cancelled` before the process goes. While
// tasks run, one listener per signal is installed; when they have ended, the signal is raised
// again so the process does what it would have done (unless the application listens itself).
type OnSignal = (signal: NodeJS.Signals) => Promise<unknown>;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
/** How long a signal waits for the tasks' `Task Ended` before the process goes anyway. */
const END_GRACE_MS = 5_000;
const running = new Set<OnSignal>();
/** The signal being handled: a task cancelled by it settles only after the signal was raised again. */
let handling: Promise<void> | undefined;

async function handle(signal: NodeJS.Signals): Promise<void> {
  const endings = [...running].map((onSignal) => onSignal(signal));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(endings), new Promise((done) => (timer = setTimeout(done, END_GRACE_MS)))]);
  clearTimeout(timer);
  uninstall();
  // Others listening decide for themselves; alone, restore the default: the process ends by this signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const listeners = new Map<NodeJS.Signals, () => void>();

function install(): void {
  for (const signal of SIGNALS) {
    const listener = () => void (handling = handle(signal));
    listeners.set(signal, listener);
    process.once(signal, listener);
  }
}

function uninstall(): void {
  for (const [signal, listener] of listeners) process.removeListener(signal, listener);
  listeners.clear();
}

/** Resolves once a signal's handling is over (when the process survives it: others listen to it). */
export function signalHandled(): Promise<void> {
  return handling ?? Promise.resolve();
}

/** Calls `onSignal` on SIGINT/SIGTERM while registered; returns the unregister function. */
export function onTerminationSignal(onSignal: OnSignal): () => void {
  if (running.size === 0) install();
  running.add(onSignal);
  return () => {
    running.delete(onSignal);
    if (running.size === 0) uninstall();
  };
}
