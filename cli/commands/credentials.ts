// CLI command: `taskbound credentials --agent A --task T`, an AWS `credential_process`. Prints the
// task's credential as the JSON every AWS SDK reads from it; waits with backoff while the grant is
// pending; exits 1 with a one-line reason on stderr when it is denied, revoked or does not come.
import type { Command } from 'commander';
import {
  CredentialRevokedError,
  GrantDeniedError,
  TaskboundError,
  WaitTimeoutError,
  type IssuedCredential,
  type Taskbound,
  type TaskRef,
} from '../../sdk';
import type { ConnectionFlags } from '../clients';
import { EXIT, type CliIo, type ExitCode } from '../context';
import { issuedCredentialOf } from '../../sdk/wait';
import { issuedMarks, type IssuedMarks } from '../issued-marks';
import { runtimeClient, taskOf, timeoutMsOf, type TaskFlags } from '../runtime-connection';

export interface CredentialsOptions extends TaskFlags {
  readonly timeout?: string;
}

export interface CredentialsDeps extends CliIo {
  readonly taskbound: Taskbound;
  readonly marks: IssuedMarks;
}

/** Set while a `credentials` runs: a nested one means its own AWS identity comes from itself. */
const GUARD = 'TASKBOUND_IN_CREDENTIAL_PROCESS';

/** The `credential_process` output (AWS SDKs' "sourcing credentials with an external process"). */
export function credentialProcessJson(credential: IssuedCredential): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credential.accessKeyId,
    SecretAccessKey: credential.secretAccessKey,
    ...(credential.sessionToken ? { SessionToken: credential.sessionToken } : {}),
    ...(credential.expiration ? { Expiration: credential.expiration.toISOString() } : {}),
  });
}

/** One line, no secret: what went wrong, for the SDK that runs us to show. */
export function reasonOf(error: unknown): string {
  if (error instanceof GrantDeniedError) return `denied: ${error.reason}`;
  if (error instanceof CredentialRevokedError) return `revoked: ${error.message}`;
  if (error instanceof WaitTimeoutError) return `timed out: ${error.message}`;
  if (error instanceof TaskboundError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The task's credential now, or once issued. The task usually started long before: read at once,
 * and tell "revoked" (issued here before, delivery gone) from "not yet" (wait with backoff).
 */
export async function credentialForTask(deps: CredentialsDeps, task: TaskRef, timeoutMs?: number): Promise<IssuedCredential> {
  const now = await deps.taskbound.readDelivery(task);
  if (now.status === 'absent' && (await deps.marks.has(task))) throw new CredentialRevokedError(task.agentId, task.taskId, 'revoked');
  if (now.status === 'denied') throw new GrantDeniedError(task.agentId, task.taskId, now.grantId, now.reason ?? 'no reason given');
  const credential =
    now.status === 'issued'
      ? issuedCredentialOf(task, now)
      : await deps.taskbound.waitForCredentials(task, {
          onPending: ({ grantId }) => deps.err(`taskbound: ${task.agentId}/${task.taskId} is waiting for approval (grant ${grantId})`),
          ...(timeoutMs ? { strategy: { timeoutMs, deliveryTimeoutMs: Math.min(timeoutMs, 60_000) } } : {}),
        });
  if (credential.expiration && credential.expiration.getTime() <= Date.now())
    throw new CredentialRevokedError(task.agentId, task.taskId, 'expired');
  await deps.marks.mark(task);
  return credential;
}

export async function printCredentials(
  deps: CredentialsDeps,
  options: CredentialsOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const task = taskOf(options, env);
  const timeoutMs = timeoutMsOf(options.timeout);
  if (env[GUARD]) {
    deps.err(
      'taskbound: credentials called itself: give it the runtime’s own AWS identity (another profile or environment variables), not the task profile',
    );
    deps.taskbound.destroy();
    return EXIT.failure;
  }
  env[GUARD] = '1';
  try {
    const credential = await credentialForTask(deps, task, timeoutMs);
    deps.out(credentialProcessJson(credential));
    return EXIT.ok;
  } catch (error) {
    deps.err(`taskbound: ${reasonOf(error)}`);
    return EXIT.failure;
  } finally {
    delete env[GUARD];
    deps.taskbound.destroy();
  }
}

export function addCredentialsCommand(program: Command, io: CliIo, run: (command: () => Promise<ExitCode>) => Promise<void>): void {
  program
    .command('credentials')
    .description('print the task’s credential for AWS credential_process (waits while it is pending)')
    .option('--agent <agentId>', 'the agent (env TASKBOUND_AGENT_ID)')
    .option('--task <taskId>', 'the task (env TASKBOUND_TASK_ID)')
    .option(
      '--delivery-table <name>',
      'the deployment delivers by KMS-encrypted DynamoDB items in this table (env TASKBOUND_DELIVERY_TABLE)',
    )
    .option(
      '--timeout <seconds>',
      'give up after this long (default 900); with no delivery at all (task not started or ended, agent unknown) after 60 at most',
    )
    .option('--json', 'accepted for symmetry: the output is always JSON')
    .action((options: CredentialsOptions) =>
      run(() =>
        printCredentials(
          { ...io, taskbound: runtimeClient(program.opts<ConnectionFlags>(), process.env, options.deliveryTable), marks: issuedMarks() },
          options,
        ),
      ),
    );
}
