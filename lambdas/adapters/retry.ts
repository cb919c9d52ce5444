// Adapters: the one retry. Bounded attempts, exponential backoff with jitter, and an injected
// sleep and random source, so tests neither wait nor guess. Each adapter says what counts as
// settled (a value, a final failure); this module says only how long to wait and when to stop.
// Calls to AWS are already retried by the SDK's own strategy (aws-clients.ts); this retries
// what the SDK cannot see: IAM's eventual consistency, partial PutEvents failures, polling.
import { realSleep, type Sleep } from './sleep';

/** How often to try and how long to wait between tries. */
export interface Backoff {
  /** Attempts in all, the first included (a positive integer). */
  readonly attempts: number;
  /** Ceiling of the first wait; doubled before each later one. */
  readonly baseDelayMs: number;
  /** No wait is longer than this. */
  readonly maxDelayMs?: number;
  /**
   * `equal` (the default): between half and all of the ceiling, so a wait is never much shorter
   * than the schedule promises; `full`: anywhere below it. Either spreads concurrent retries apart.
   */
  readonly jitter?: 'equal' | 'full';
}

/** What a retry waits with; injected so tests pin the jitter and do not wait for real. */
export interface Waiting {
  readonly sleep?: Sleep;
  /** In [0, 1); Math.random by default. */
  readonly random?: () => number;
}

/** One attempt's answer: settled (stop, with this value) or not yet (with what to report if it never is). */
export type Attempt<T, L> =
  | { readonly settled: true; readonly value: T }
  | {
      readonly settled: false;
      readonly last: L;
      /** Overrides the backoff for this wait (a server's Retry-After). */ readonly waitMs?: number;
    };

/** An attempt that settled: stop and answer `value`. */
export const settled = <T>(value: T) => ({ settled: true, value }) as const;
/** An attempt that did not settle: try again; `last` is the answer if none ever settles. */
export const notYet = <L>(last: L, waitMs?: number) => ({ settled: false, last, ...(waitMs === undefined ? {} : { waitMs }) }) as const;

/** The wait before retry number `retry` (1 for the wait after the first attempt). */
export function backoffDelay(backoff: Backoff, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxDelayMs ?? Number.POSITIVE_INFINITY, backoff.baseDelayMs * 2 ** (retry - 1));
  const fraction = backoff.jitter === 'full' ? random() : 0.5 + random() / 2;
  return Math.round(fraction * ceiling);
}

/**
 * Runs `attempt` (numbered from 1) until it settles or the attempts run out, waiting between
 * tries. Returns the settled answer, or the last unsettled one, with the number of attempts made.
 * An attempt that throws ends the retry: only outcomes the adapter judged retryable are retried.
 */
export async function retry<T, L>(
  backoff: Backoff,
  attempt: (attemptNumber: number) => Promise<Attempt<T, L>>,
  waiting: Waiting = {},
): Promise<Attempt<T, L> & { readonly attempts: number }> {
  if (!Number.isInteger(backoff.attempts) || backoff.attempts < 1) throw new RangeError('retry attempts must be a positive integer');
  const sleep = waiting.sleep ?? realSleep;
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    const answer = await attempt(attemptNumber);
    if (answer.settled || attemptNumber >= backoff.attempts) return { ...answer, attempts: attemptNumber };
    await sleep(answer.waitMs ?? backoffDelay(backoff, attemptNumber, waiting.random));
  }
}
