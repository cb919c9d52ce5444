// CLI: the SDK client behind the runtime commands (`credentials`, `serve-credentials`), built from
// the same global flags as every other command, and the task they serve (flags, else environment).
import { z } from 'zod';
import { AGENT_ID_PATTERN, TASK_ID_PATTERN } from '../lambdas/domain/ids';
import { Taskbound } from '../sdk';
import { LOCAL_RUNTIME_CREDENTIALS } from '../sdk/taskbound';
import { resolveConnection, type ConnectionFlags } from './clients';
import { UsageError } from './context';
import { validated } from './validate';

/** `deliveryTable`: the `dynamodb-kms` mode's table (`--delivery-table`); else the SDK reads TASKBOUND_DELIVERY_TABLE. */
export function runtimeClient(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env, deliveryTable?: string): Taskbound {
  const connection = resolveConnection(flags, env);
  return new Taskbound({
    ...(deliveryTable ? { deliveryTable } : {}),
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    ...(connection.region ? { region: connection.region } : {}),
    ...(connection.localCredentials ? { credentials: LOCAL_RUNTIME_CREDENTIALS } : {}),
    busName: connection.bus,
    source: 'taskbound.cli.runtime',
  });
}

export interface TaskFlags {
  readonly agent?: string;
  readonly task?: string;
  /** `--delivery-table`: the deployment's `dynamodb-kms` delivery table. */
  readonly deliveryTable?: string;
}

const taskRefSchema = z.strictObject({
  agentId: z.string().regex(AGENT_ID_PATTERN, 'lower-case letters, digits and dashes'),
  taskId: z.string().regex(TASK_ID_PATTERN, '1-128 of A-Za-z0-9._:-'),
});

/**
 * `--agent`/`--task`, else TASKBOUND_AGENT_ID/TASKBOUND_TASK_ID: a runtime sets the task id in its
 * environment and one `credential_process` profile line serves every task it runs.
 */
export function taskOf(flags: TaskFlags, env: NodeJS.ProcessEnv = process.env) {
  return validated(taskRefSchema, { agentId: flags.agent ?? env.TASKBOUND_AGENT_ID, taskId: flags.task ?? env.TASKBOUND_TASK_ID }, 'task', {
    agentId: '--agent (or TASKBOUND_AGENT_ID)',
    taskId: '--task (or TASKBOUND_TASK_ID)',
  });
}

/** `--timeout 90` (seconds) as milliseconds. */
export function timeoutMsOf(seconds: string | undefined, what = '--timeout'): number | undefined {
  if (seconds === undefined) return undefined;
  if (!/^\d+$/.test(seconds) || Number(seconds) < 1) throw new UsageError(`${what}: "${seconds}" is not a whole number of seconds`);
  return Number(seconds) * 1000;
}
