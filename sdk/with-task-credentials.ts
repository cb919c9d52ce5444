// SDK: a task's whole life around the runtime's work. Start, wait for the credential, run the
// work with a credential provider, and always end the task, whatever happens to the work.
import { GrantDeniedError, TaskCancelledError, TaskEndFailedError } from './errors';
import type { ProviderOptions, TaskCredentialProvider } from './provider';
import type { IssuedCredential, TaskEndedDetail, TaskOutcome, TaskRef, TaskStartedDetail } from './types';
import type { WaitOptions } from './wait';
import { onTerminationSignal, signalHandled } from './signals';
import { parseTaskStarted } from './validate';

/** What the work receives. */
export interface TaskContext {
  /** Hand it to any AWS SDK client: `new S3Client({ credentials })`. */
  readonly credentials: TaskCredentialProvider;
  readonly agentId: string;
  readonly taskId: string;
  readonly grantId: string;
  readonly kind: IssuedCredential['kind'];
  readonly scopes: readonly string[];
  readonly expiration?: Date;
  /** Aborted when the task is cancelled (your signal, SIGINT, SIGTERM): stop the work. */
  readonly signal: AbortSignal;
  /** Add what the work touched; it is sent with `Task Ended` and recorded in the audit chain. */
  readonly systemsTouched: string[];
}

export type TaskWork<T> = (context: TaskContext) => Promise<T>;

/** What a task's life needs of the Taskbound client. */
export interface TaskLifecycle {
  startTask(detail: TaskStartedDetail): Promise<string>;
  endTask(detail: TaskEndedDetail): Promise<string>;
  waitForCredentials(task: TaskRef, options?: WaitOptions): Promise<IssuedCredential>;
  credentialProvider(task: TaskRef, issued: IssuedCredential, options?: ProviderOptions): TaskCredentialProvider;
}

export interface WithTaskOptions extends Pick<WaitOptions, 'onPending' | 'strategy'> {
  /** Cancels the task: `Task Ended` (`cancelled`) is sent at once and the call rejects with `TaskCancelledError`. */
  readonly signal?: AbortSignal;
  /** End the task as `cancelled` on SIGINT/SIGTERM, then let the signal do what it would have done. Default true. */
  readonly handleSignals?: boolean;
  readonly provider?: ProviderOptions;
}

export async function runWithTaskCredentials<T>(
  taskbound: TaskLifecycle,
  request: TaskStartedDetail,
  work: TaskWork<T>,
  options: WithTaskOptions,
): Promise<T> {
  const task = { agentId: request.agentId, taskId: request.taskId };
  const cancel = new AbortController();
  const forwardAbort = () => cancel.abort(options.signal?.reason);
  if (options.signal?.aborted) forwardAbort();
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  const systemsTouched: string[] = [];
  let provider: TaskCredentialProvider | undefined;
  let ending: Promise<unknown> | undefined;
  /** Ends the task once, whichever of the work, the abort or a signal gets there first. */
  const end = (outcome: TaskOutcome) => {
    provider?.close();
    ending ??= taskbound.endTask({
      ...task,
      outcome,
      ...(systemsTouched.length > 0 ? { systemsTouched: [...new Set(systemsTouched)] } : {}),
    });
    return ending;
  };
  const cancelled = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new TaskCancelledError(task.agentId, task.taskId, cancel.signal.reason));
    if (cancel.signal.aborted) onAbort();
    else cancel.signal.addEventListener('abort', onAbort, { once: true });
  });
  cancelled.catch(() => undefined);
  let bySignal = false;
  const stopListening =
    options.handleSignals === false
      ? () => undefined
      : onTerminationSignal((signal) => {
          bySignal = true;
          cancel.abort(signal);
          return end('cancelled');
        });

  // Until the work runs, a failure (denied, timed out) means the runtime gave up: `cancelled`.
  let outcome: TaskOutcome = 'cancelled';
  let workError: unknown;
  let startSent = false;
  try {
    const detail = parseTaskStarted(request);
    if (cancel.signal.aborted) await cancelled;
    startSent = true;
    await taskbound.startTask(detail);
    const issued = await Promise.race([
      taskbound.waitForCredentials(task, {
        ...(options.onPending ? { onPending: options.onPending } : {}),
        ...(options.strategy ? { strategy: options.strategy } : {}),
        signal: cancel.signal,
      }),
      cancelled,
    ]);
    provider = taskbound.credentialProvider(task, issued, options.provider);
    outcome = 'failed';
    const running = work({
      credentials: provider,
      ...task,
      grantId: issued.grantId,
      kind: issued.kind,
      scopes: issued.scopes,
      ...(issued.expiration ? { expiration: issued.expiration } : {}),
      signal: cancel.signal,
      systemsTouched,
    });
    // Work that ignores the signal runs on after an abort: its result is dropped, its rejection handled here.
    running.catch(() => undefined);
    const result = await Promise.race([running, cancelled]);
    outcome = 'succeeded';
    return result;
  } catch (error) {
    workError = error;
    if (cancel.signal.aborted) outcome = 'cancelled';
    throw error;
  } finally {
    stopListening();
    options.signal?.removeEventListener('abort', forwardAbort);
    // Ended even when PutEvents for the start failed: it may have been accepted all the same.
    // A denial is final already: nothing to end.
    try {
      if (startSent && !(workError instanceof GrantDeniedError)) await end(outcome);
    } catch (endError) {
      // Thrown from `finally`, this replaces the work's own error, which it carries.
      // eslint-disable-next-line no-unsafe-finally
      throw new TaskEndFailedError(task.agentId, task.taskId, endError, workError);
    }
    // The process is about to die of the signal: settling now would race it with an unhandled rejection.
    if (bySignal) await signalHandled();
  }
}
