// SDK entry (`taskbound/sdk`): what an agent runtime imports to run tasks under task-scoped
// AWS credentials. The functions use one shared client configured from the environment
// (AWS_REGION, AWS_ENDPOINT_URL, the AWS SDK's credential chain); `new Taskbound(config)` for more.
import { Taskbound } from './taskbound';
import type { IssuedCredential, TaskEndedDetail, TaskRef, TaskRequest, TaskStartedDetail } from './types';
import type { WaitOptions } from './wait';
import type { TaskWork, WithTaskOptions } from './with-task-credentials';

export { Taskbound, type TaskboundConfig } from './taskbound';
export * from './errors';
export type * from './types';
export { DEFAULT_WAIT_STRATEGY, type WaitOptions, type WaitStrategy } from './wait';
export type { ProviderOptions, TaskCredentialProvider } from './provider';
export type { TaskContext, TaskWork, WithTaskOptions } from './with-task-credentials';

let shared: Taskbound | undefined;
const client = () => (shared ??= new Taskbound());

/** Sends `Task Started` (docs/contract.md §1) after checking it with the engine's schema; returns the event id. */
export const startTask = (detail: TaskStartedDetail): Promise<string> => client().startTask(detail);

/** Sends `Task Ended`: the engine revokes the task's credential and proves it dead. */
export const endTask = (detail: TaskEndedDetail): Promise<string> => client().endTask(detail);

/**
 * Waits with backoff and jitter for the task's credential. Resolves when issued; rejects with
 * `GrantDeniedError` (with the reason), `WaitTimeoutError`, or `TaskCancelledError`;
 * `onPending` hears when the grant is held for approval while the wait goes on.
 */
export const waitForCredentials = (task: TaskRef, options?: WaitOptions): Promise<IssuedCredential> =>
  client().waitForCredentials(task, options);

/**
 * Runs `work` under the task's credential and always ends the task:
 * ```ts
 * await withTaskCredentials({ agentId: 'release-bot', purpose: 'bump lodash', requestedBy: 'dev@example.com', scopes: ['repo-read'] },
 *   async ({ credentials }) => new STSClient({ credentials }).send(new GetCallerIdentityCommand({})));
 * ```
 */
export const withTaskCredentials = <T>(request: TaskRequest, work: TaskWork<T>, options?: WithTaskOptions): Promise<T> =>
  client().withTaskCredentials(request, work, options);
