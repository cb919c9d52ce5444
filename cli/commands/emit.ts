// CLI commands: `emit task-started` and `emit task-ended`, the events an agent runtime sends,
// for trying the engine by hand and for scripts that run tasks without an SDK.
import { INBOUND, taskEndedSchema, taskStartedSchema } from '../../lambdas/domain/events';
import { UsageError, type CliDeps, type ExitCode } from '../context';
import { send } from '../send';
import { commaList, validated } from '../validate';

export interface TaskStartedOptions {
  readonly agent: string;
  readonly task: string;
  readonly purpose: string;
  readonly requestedBy: string;
  readonly scopes: string;
  readonly ttl?: string;
  readonly context?: string;
  readonly json?: boolean;
}

export interface TaskEndedOptions {
  readonly agent: string;
  readonly task: string;
  readonly outcome: string;
  readonly systemsTouched?: string;
  readonly json?: boolean;
}

const FLAGS = {
  agentId: '--agent',
  taskId: '--task',
  purpose: '--purpose',
  requestedBy: '--requested-by',
  scopes: '--scopes',
  ttlSeconds: '--ttl',
  context: '--context',
  outcome: '--outcome',
  systemsTouched: '--systems-touched',
};

function ttlSeconds(ttl: string): number {
  if (!/^\d+$/.test(ttl)) throw new UsageError(`--ttl: "${ttl}" is not a whole number of seconds`);
  return Number(ttl);
}

function contextObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--context: not valid JSON (${error instanceof Error ? error.message : 'unreadable'})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--context: must be a JSON object');
  return value as Record<string, unknown>;
}

/** Sends `Task Started` for an agent's task, once it is known to be well formed. */
export async function emitTaskStarted(deps: CliDeps, options: TaskStartedOptions): Promise<ExitCode> {
  const detail = validated(
    taskStartedSchema,
    {
      taskId: options.task,
      agentId: options.agent,
      purpose: options.purpose,
      requestedBy: options.requestedBy,
      scopes: commaList(options.scopes),
      ...(options.ttl !== undefined ? { ttlSeconds: ttlSeconds(options.ttl) } : {}),
      ...(options.context !== undefined ? { context: contextObject(options.context) } : {}),
    },
    'Task Started',
    FLAGS,
  );
  return send(deps, { detailType: INBOUND.taskStarted, detail }, `Task Started sent for ${detail.agentId}/${detail.taskId}`, options.json);
}

/** Sends `Task Ended`: the engine revokes the task's credential. */
export async function emitTaskEnded(deps: CliDeps, options: TaskEndedOptions): Promise<ExitCode> {
  const detail = validated(
    taskEndedSchema,
    {
      taskId: options.task,
      agentId: options.agent,
      outcome: options.outcome,
      ...(options.systemsTouched !== undefined ? { systemsTouched: commaList(options.systemsTouched) } : {}),
    },
    'Task Ended',
    FLAGS,
  );
  return send(deps, { detailType: INBOUND.taskEnded, detail }, `Task Ended sent for ${detail.agentId}/${detail.taskId}`, options.json);
}
