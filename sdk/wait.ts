// SDK: waiting for a task's credential. Reads the delivery secret with the AWS SDK's own waiter
// (exponential backoff with jitter), quickly until the engine has decided, slowly while people approve.
import { createWaiter, WaiterState } from '@smithy/util-waiter';
import { GrantDeniedError, CredentialRevokedError, TaskCancelledError, WaitTimeoutError } from './errors';
import type { DeliveryPayload, DeliveryReading, IssuedCredential, TaskRef } from './types';

/** How the SDK waits: one read per backoff step, never a fixed poll. */
export interface WaitStrategy {
  /** Give up on a delivery that never appears (the engine decides within seconds). Default 60 s. */
  readonly deliveryTimeoutMs: number;
  /** Give up altogether, approvals included. Default 15 minutes. */
  readonly timeoutMs: number;
  /**
   * Backoff while the engine decides: the first read comes after `minDelayMs`. Defaults 100 ms
   * to 2 s: the local engine issues in well under 100 ms when not saturated, so the first read
   * usually finds the credential; on AWS (about a second) it takes 4–5 reads.
   */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Backoff while the grant waits for people. Defaults 1 s to 10 s. */
  readonly pendingMinDelayMs: number;
  readonly pendingMaxDelayMs: number;
}

export const DEFAULT_WAIT_STRATEGY: WaitStrategy = {
  deliveryTimeoutMs: 60_000,
  timeoutMs: 15 * 60_000,
  minDelayMs: 100,
  maxDelayMs: 2_000,
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

type Reader = (task: TaskRef) => Promise<DeliveryReading>;
type Phase =
  { readonly done: true; readonly delivery: DeliveryPayload } | { readonly done: false; readonly last: 'absent' | 'pending_approval' };

/**
 * Waits for the task's delivery to say `issued` and returns the credential. Throws
 * `GrantDeniedError`, `WaitTimeoutError`, `TaskCancelledError` (signal) or
 * `CredentialRevokedError` (the delivery vanished after it had appeared).
 */
export async function waitForDelivery(read: Reader, client: unknown, task: TaskRef, options: WaitOptions = {}): Promise<IssuedCredential> {
  const strategy = { ...DEFAULT_WAIT_STRATEGY, ...options.strategy };
  const started = Date.now();
  let seen: DeliveryPayload | undefined;
  let skipNextRead = !options.readFirst;

  const poll = async (until: (reading: DeliveryReading) => boolean, minMs: number, maxMs: number, budgetMs: number): Promise<Phase> => {
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
        last = await read(task);
        if (last.status !== 'absent') seen = last;
        return { state: until(last) ? WaiterState.SUCCESS : WaiterState.RETRY };
      },
    );
    if (result.state === WaiterState.ABORTED) throw new TaskCancelledError(task.agentId, task.taskId, options.signal?.reason);
    if (result.state === WaiterState.SUCCESS && last.status !== 'absent') return { done: true, delivery: last };
    if (result.state === WaiterState.SUCCESS) return { done: false, last: 'absent' };
    return { done: false, last: last.status === 'pending_approval' ? 'pending_approval' : 'absent' };
  };
  const remaining = () => strategy.timeoutMs - (Date.now() - started);

  // Phase 1: until the engine has said anything at all.
  const first = await poll(
    (reading) => reading.status !== 'absent',
    strategy.minDelayMs,
    strategy.maxDelayMs,
    Math.min(strategy.deliveryTimeoutMs, strategy.timeoutMs),
  );
  if (!first.done) throw new WaitTimeoutError(task.agentId, task.taskId, Date.now() - started, 'absent');
  let delivery = first.delivery;
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
