// CLI: the progress indicator. A nanospinner spinner on an interactive stderr; when stderr is
// a pipe or a file only a failure is written (the command's own output says the rest).
import { createSpinner } from 'nanospinner';
import type { Progress } from './context';

/** A progress indicator writing to stderr. */
export function stderrProgress(text: string): Progress {
  if (!process.stderr.isTTY) {
    return { update: () => undefined, succeed: () => undefined, fail: (why) => void process.stderr.write(`✖ ${why}\n`) };
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
