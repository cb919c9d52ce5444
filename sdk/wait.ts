// SDK: waiting for a task's credential. Reads the delivery secret with the AWS SDK's own waiter
// (exponential backoff with jitter), quickly until the engine has decided, slowly while people approve.
// Once the client has seen a few of its tasks issued, the first read can be timed from how long
// they took (issuance-times.ts) and the reads after it keep within a third of the time waited: by
// default for a wait that is its client's only one once issuances take 500 ms (learnAloneFromMs),
// optionally for every wait (learnFirstRead, or learnFirstReadFromMs once issuances take that long).
import { createWaiter, WaiterState } from '@smithy/util-waiter';
import { GrantDeniedError, CredentialRevokedError, TaskCancelledError, WaitTimeoutError } from './errors';
import type { TimedReading } from './delivery-readers';
import type { IssuanceTimes } from './issuance-times';
import type { DeliveryPayload, DeliveryReading, IssuedCredential, TaskRef } from './types';

/** How the SDK waits: one read per backoff step, never a fixed poll. */
export interface WaitStrategy {
  /** Give up on a delivery that never appears (the engine decides within seconds). Default 60 s. */
  readonly deliveryTimeoutMs: number;
  /** Give up altogether, approvals included. Default 15 minutes. */
  readonly timeoutMs: number;
  /**
   * Backoff while the engine decides. Defaults 100 ms to 2 s: the first read comes after
   * `minDelayMs`, then the AWS SDK waiter's backoff. On the learnt schedule (below), once the
   * client has seen three of its tasks issued, the first read comes when the median of the client's
   * last 16 issuances says the credential is there (that median, at most `maxDelayMs`, ±50 %), and each step after
   * a miss is a third of the time since `Task Started` (at least 10 ms, at most `maxDelayMs`).
   */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * Read on the learnt schedule once the median of recent issuances is at least this. Default
   * `Infinity` (never by this rule). With 500: a wait that long costs the backoff four reads or
   * more, the learnt schedule about two (100 runtimes saturating the local engine: 2.0–2.2 reads
   * instead of 4.7; in a full bench 61.9 lifecycles a second against 56.9), while issuances quicker than that keep the
   * backoff, which reads once or twice there. Not the default because tasks of one client that
   * start together then read, end and start again nearly together, and the engine's revocations of
   * such a wave wait for each other: in that same saturated run, revocation p99 0.24–0.52 s instead
   * of 0.07–0.12 s (bench/README.md, "Session 16: learning only when issuance is slow").
   */
  readonly learnFirstReadFromMs: number;
  /**
   * Read on the learnt schedule once the median of recent issuances is at least this, when the
   * wait is its client's only one in flight. Default 500 ms. The herd the learnt read can make
   * (above) needs several tasks of one client waiting together; a runtime that runs one task at a
   * time cannot make one, and on AWS, where issuing takes about a second, the backoff costs it four
   * or five reads a task where the learnt schedule cost about two in session 16's saturated local
   * runs (not measured on AWS). Waits of one client that
   * overlap keep the backoff, and their reads share calls instead (batched-delivery-reads.ts).
   * `Infinity`: the backoff always.
   */
  readonly learnAloneFromMs: number;
  /** Read on the learnt schedule however quick the issuances (as soon as three are known). Default false. */
  readonly learnFirstRead: boolean;
  /** Backoff while the grant waits for people. Defaults 1 s to 10 s. */
  readonly pendingMinDelayMs: number;
  readonly pendingMaxDelayMs: number;
}

export const DEFAULT_WAIT_STRATEGY: WaitStrategy = {
  deliveryTimeoutMs: 60_000,
  timeoutMs: 15 * 60_000,
  minDelayMs: 100,
  maxDelayMs: 2_000,
  learnFirstReadFromMs: Number.POSITIVE_INFINITY,
  learnAloneFromMs: 500,
  learnFirstRead: false,
  pendingMinDelayMs: 1_000,
  pendingMaxDelayMs: 10_000,
};

export interface WaitOptions {
  /** Called once when the grant is held for approval; the wait goes on. */
  readonly onPending?: (pending: { readonly grantId: string; readonly agentId: string; readonly taskId: string }) => void;
  readonly signal?: AbortSignal;
  readonly strategy?: Partial<WaitStrategy>;
  /** Read at once instead of after the first backoff step (e.g. when the task may be long started). */
  readonly readFirst?: boolean;
}

/** What the client knows beyond the caller's options: when it sent the task's `Task Started`, and its tasks' issuance times. */
export interface WaitContext {
  /** Epoch ms at which PutEvents(`Task Started`) answered, when this client sent it. */
  readonly startedMs?: number;
  readonly issuance?: IssuanceTimes;
  /** No other wait of the same client is in flight (`learnAloneFromMs`). */
  readonly alone?: boolean;
}

type Reader = (task: TaskRef) => Promise<TimedReading>;
type Phase =
  { readonly done: true; readonly delivery: DeliveryPayload } | { readonly done: false; readonly last: 'absent' | 'pending_approval' };

/**
 * Waits for the task's delivery to say `issued` and returns the credential. Throws
 * `GrantDeniedError`, `WaitTimeoutError`, `TaskCancelledError` (signal) or
 * `CredentialRevokedError` (the delivery vanished after it had appeared).
 */
export async function waitForDelivery(
  read: Reader,
  client: unknown,
  task: TaskRef,
  options: WaitOptions = {},
  context: WaitContext = {},
): Promise<IssuedCredential> {
  const strategy = { ...DEFAULT_WAIT_STRATEGY, ...options.strategy };
  const started = Date.now();
  let seen: DeliveryPayload | undefined;
  const typical = learntIssuanceMs(strategy, options, context);
  // Not learnt yet: the waiter's first step only waits (the engine has rarely decided at once).
  let skipNextRead = !options.readFirst;
  let lastMissSentMs: number | undefined;
  let deliveredAtMs: number | undefined;
  let refusal: Error | undefined;
  const readOnce = async (): Promise<DeliveryReading> => {
    const sentMs = Date.now();
    const timed = await read(task);
    if (timed.reading.status !== 'absent') seen = timed.reading;
    else lastMissSentMs = sentMs;
    deliveredAtMs = timed.deliveredAtMs;
    refusal = timed.refused;
    return timed.reading;
  };
  const poll = async (until: (reading: DeliveryReading) => boolean, minMs: number, maxMs: number, budgetMs: number): Promise<Phase> => {
    const deadlineMs = Date.now() + budgetMs;
    let last: DeliveryReading = seen ?? { status: 'absent' };
    if (until(last)) return last.status === 'absent' ? { done: false, last: 'absent' } : { done: true, delivery: last };
    const result = await createWaiter(
      {
        client,
        minDelay: minMs / 1000,
        maxDelay: Math.max(minMs, maxMs) / 1000,
        maxWaitTime: Math.max(budgetMs, minMs + 1) / 1000,
        ...(options.signal ? { abortSignal: options.signal } : {}),
      },
      task,
      async () => {
        if (options.signal?.aborted) return { state: WaiterState.ABORTED };
        // The waiter checks at once; the engine has rarely decided by then, so the first step only waits.
        if (skipNextRead) {
          skipNextRead = false;
          return { state: WaiterState.RETRY };
        }
        last = await readOnce();
        return { state: until(last) ? WaiterState.SUCCESS : WaiterState.RETRY };
      },
    );
    if (result.state === WaiterState.ABORTED) throw new TaskCancelledError(task.agentId, task.taskId, options.signal?.reason);
    if (result.state === WaiterState.TIMEOUT && Date.now() < deadlineMs) {
      // The waiter gives up as soon as its next step would pass the deadline (a 3 s timeout could end
      // at 2.1 s): one last read at the deadline, so a wait lasts as long as it was given.
      await sleepUnlessAborted(deadlineMs - Date.now(), options.signal);
      if (options.signal?.aborted) throw new TaskCancelledError(task.agentId, task.taskId, options.signal.reason);
      last = await readOnce();
      if (until(last)) return last.status === 'absent' ? { done: false, last: 'absent' } : { done: true, delivery: last };
    }
    if (result.state === WaiterState.SUCCESS && last.status !== 'absent') return { done: true, delivery: last };
    if (result.state === WaiterState.SUCCESS) return { done: false, last: 'absent' };
    return { done: false, last: last.status === 'pending_approval' ? 'pending_approval' : 'absent' };
  };
  const remaining = () => strategy.timeoutMs - (Date.now() - started);

  // Phase 1: until the engine has said anything at all.
  const deliveryBudgetMs = Math.min(strategy.deliveryTimeoutMs, strategy.timeoutMs);
  const first =
    typical === undefined
      ? await poll((reading) => reading.status !== 'absent', strategy.minDelayMs, strategy.maxDelayMs, deliveryBudgetMs)
      : await readOnSchedule(
          readOnce,
          {
            typicalMs: typical,
            startedMs: context.startedMs ?? started,
            deadlineMs: started + deliveryBudgetMs,
            maxStepMs: strategy.maxDelayMs,
          },
          task,
          options.signal,
        );
  if (!first.done) throw new WaitTimeoutError(task.agentId, task.taskId, Date.now() - started, 'absent', refusal);
  let delivery = first.delivery;
  // Issued without waiting for people: how long this deployment takes to issue, for the next wait.
  if (delivery.status === 'issued' && context.startedMs !== undefined && !options.readFirst) {
    context.issuance?.record({
      startedMs: context.startedMs,
      foundMs: Date.now(),
      ...(lastMissSentMs !== undefined ? { lastMissSentMs } : {}),
      ...(deliveredAtMs !== undefined ? { deliveredAtMs } : {}),
    });
  }
  if (delivery.status === 'pending_approval') {
    options.onPending?.({ grantId: delivery.grantId, agentId: task.agentId, taskId: task.taskId });
    // Phase 2: people decide; the delivery leaves `pending_approval` (or vanishes: the task ended meanwhile).
    skipNextRead = true;
    const second = await poll(
      (reading) => reading.status !== 'pending_approval',
      strategy.pendingMinDelayMs,
      strategy.pendingMaxDelayMs,
      remaining(),
    );
    if (!second.done) {
      if (second.last === 'absent') throw new CredentialRevokedError(task.agentId, task.taskId, 'revoked');
      throw new WaitTimeoutError(task.agentId, task.taskId, Date.now() - started, 'pending_approval');
    }
    delivery = second.delivery;
  }
  if (delivery.status === 'denied')
    throw new GrantDeniedError(task.agentId, task.taskId, delivery.grantId, delivery.reason ?? 'no reason given');
  return issuedCredentialOf(task, delivery);
}

/** The median issuance time to read by, when the wait should read on the learnt schedule. */
function learntIssuanceMs(strategy: WaitStrategy, options: WaitOptions, context: WaitContext): number | undefined {
  if (options.readFirst) return undefined;
  const typical = context.issuance?.typicalMs();
  if (typical === undefined) return undefined;
  const slowEnough = typical >= strategy.learnFirstReadFromMs || (context.alone === true && typical >= strategy.learnAloneFromMs);
  return strategy.learnFirstRead || slowEnough ? typical : undefined;
}

/** The shortest step between reads after a learnt first read misses. */
const MIN_STEP_MS = 10;
/** A learnt first read comes within this share either side of the typical issuance time. */
const FIRST_READ_JITTER = 0.5;
/** After a learnt first read misses, each step is this share of the time since `Task Started` (±10 % jitter). */
const STEP_SHARE = 1 / 3;

interface LearntSchedule {
  /** The median issuance time of the client's recent tasks, ms after `Task Started`. */
  readonly typicalMs: number;
  /** Epoch ms: `Task Started` accepted (or the wait began, when the client did not send it). */
  readonly startedMs: number;
  readonly deadlineMs: number;
  readonly maxStepMs: number;
}

/**
 * Phase 1 once the client has learnt its deployment's issuance times: the first read when the
 * typical task has been issued, then steps of a third of the time elapsed since `Task Started`
 * (so a read comes at most a third later than the credential landed, and a slow issuance costs
 * a few reads, not one per fixed step). The first read is jittered, half the median either side:
 * without it, tasks of one client that started together (a fleet's first wave) read, end and start
 * again together, and each wave meets the engine at once; the jitter spreads a wave, it does not
 * undo it (bench/README.md). The median it is jittered around is at most the longest step: a
 * median learnt during a passing overload must not keep the next tasks waiting for it. Capped
 * before the jitter, not after: capped after, every read the jitter put later came at the cap
 * itself, a quarter of a saturated fleet's reads at one instant (time to dead p99 0.88–1.22 s
 * with 100 saturating runtimes, 0.40–0.52 s capped before: bench/README.md).
 */
async function readOnSchedule(
  readOnce: () => Promise<DeliveryReading>,
  schedule: LearntSchedule,
  task: TaskRef,
  signal: AbortSignal | undefined,
): Promise<Phase> {
  let nextMs =
    schedule.startedMs + Math.min(schedule.maxStepMs, schedule.typicalMs) * (1 - FIRST_READ_JITTER + 2 * FIRST_READ_JITTER * Math.random());
  for (;;) {
    await sleepUnlessAborted(nextMs - Date.now(), signal);
    if (signal?.aborted) throw new TaskCancelledError(task.agentId, task.taskId, signal.reason);
    const reading = await readOnce();
    if (reading.status !== 'absent') return { done: true, delivery: reading };
    const now = Date.now();
    const stepMs = Math.min(
      schedule.maxStepMs,
      Math.max(MIN_STEP_MS, (now - schedule.startedMs) * STEP_SHARE * (0.9 + 0.2 * Math.random())),
    );
    // The last read comes at the deadline rather than a step before it.
    if (now >= schedule.deadlineMs) return { done: false, last: 'absent' };
    nextMs = Math.min(now + stepMs, schedule.deadlineMs);
  }
}

/** Sleeps `ms` (nothing when not positive), or less if the signal aborts first. */
function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The credential fields of an issued delivery; a delivery that lacks them is the engine's bug, said plainly. */
export function issuedCredentialOf(task: TaskRef, delivery: DeliveryPayload): IssuedCredential {
  if (delivery.status !== 'issued' || !delivery.accessKeyId || !delivery.secretAccessKey || !delivery.kind) {
    throw new Error(`the delivery for ${task.agentId}/${task.taskId} says ${delivery.status} without a usable credential`);
  }
  return {
    grantId: delivery.grantId,
    kind: delivery.kind,
    accessKeyId: delivery.accessKeyId,
    secretAccessKey: delivery.secretAccessKey,
    ...(delivery.sessionToken ? { sessionToken: delivery.sessionToken } : {}),
    ...(delivery.expiration ? { expiration: new Date(delivery.expiration) } : {}),
    scopes: delivery.scopes,
  };
}
