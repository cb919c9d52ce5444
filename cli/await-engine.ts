// CLI: waiting for the engine's answer. An action is an event on the bus; the engine's answer
// is what it writes to the store. So the CLI polls the store, with a progress indicator and a
// bounded number of polls, until the engine has acted or the wait runs out.
import type { CliDeps } from './context';
import { UsageError } from './context';

/** How long commands wait for the engine unless told (`--wait SECONDS`). */
const DEFAULT_WAIT_SECONDS = 30;
const POLL_MS = 250;

export type Waited<T> = { readonly done: true; readonly value: T } | { readonly done: false; readonly last: T | undefined };

/**
 * Polls `check` until it returns `{ done: true }` or `seconds` have passed: by the clock (slow
 * reads count), and by the number of polls (so a test's sleep that does not wait still ends).
 * `describe` keeps the indicator current.
 */
export async function awaitEngine<T>(
  deps: Pick<CliDeps, 'progress' | 'sleep' | 'clock'>,
  what: string,
  seconds: number,
  check: () => Promise<{ readonly done: boolean; readonly value: T | undefined }>,
  describe: (value: T | undefined) => string = () => what,
): Promise<Waited<T>> {
  const progress = deps.progress(what);
  const polls = Math.max(1, Math.ceil((seconds * 1000) / POLL_MS));
  const deadline = deps.clock.now().getTime() + seconds * 1000;
  let last: T | undefined;
  for (let poll = 0; poll < polls && (poll === 0 || deps.clock.now().getTime() < deadline); poll++) {
    const result = await check();
    last = result.value;
    if (result.done && result.value !== undefined) {
      progress.succeed(describe(result.value));
      return { done: true, value: result.value };
    }
    progress.update(`${describe(last)} (${Math.round(((poll + 1) * POLL_MS) / 1000)}s)`);
    await deps.sleep(POLL_MS);
  }
  progress.fail(`no answer from the engine within ${seconds}s`);
  return { done: false, last };
}

/** What to run when a wait for one grant ran out. */
export const followUp = (grantId: string) => `follow it with \`taskbound grants show ${grantId}\`, or wait longer with --wait SECONDS`;

/** `--wait SECONDS`: 0 sends and returns at once. */
export function waitSeconds(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WAIT_SECONDS;
  if (!/^\d{1,4}$/.test(value)) throw new UsageError(`--wait: "${value}" is not a whole number of seconds (0 to send without waiting)`);
  return Number(value);
}
