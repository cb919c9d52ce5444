// CLI: the progress indicator. A nanospinner spinner on an interactive stderr; plain lines
// (start and outcome only) when stderr is a pipe or a file, so logs stay readable.
import { createSpinner } from 'nanospinner';
import type { Progress } from './context';

/** A progress indicator writing to stderr. */
export function stderrProgress(text: string): Progress {
  if (!process.stderr.isTTY) {
    process.stderr.write(`… ${text}\n`);
    return {
      update: () => undefined,
      succeed: (done) => process.stderr.write(`✔ ${done}\n`),
      fail: (why) => process.stderr.write(`✖ ${why}\n`),
    };
  }
  const spinner = createSpinner(text, { stream: process.stderr }).start();
  return {
    update: (next) => void spinner.update({ text: next }),
    succeed: (done) => void spinner.success({ text: done }),
    fail: (why) => void spinner.error({ text: why }),
  };
}

/** No indicator at all: for tests and for callers that print their own progress. */
export const silentProgress = (): Progress => ({ update: () => undefined, succeed: () => undefined, fail: () => undefined });
