// CLI commands: `emit task-started` and `emit task-ended`, the events an agent runtime sends,
// for trying the engine by hand and for scripts that run tasks without an SDK. Each waits for the
// engine's answer (`--wait 0`: send and return), so a denial says why instead of "sent".
import type { Grant } from '../../lambdas/domain/grant';
import { INBOUND, taskEndedSchema, taskStartedSchema } from '../../lambdas/domain/events';
import { grantIdFor } from '../../lambdas/domain/ids';
import { awaitEngine, followUp, waitSeconds } from '../await-engine';
import { EXIT, UsageError, type BusEvent, type CliDeps, type ExitCode } from '../context';
import { json } from '../output';
import { dispatch, send } from '../send';
import { answersStart, endOutcome, refused, startOutcome } from '../task-outcome';
import { isSettled } from './revoke';
import { commaList, validated } from '../validate';

export interface TaskStartedOptions {
  readonly agent: string;
  readonly task: string;
  readonly purpose: string;
  readonly requestedBy: string;
  readonly scopes: string;
  readonly ttl?: string;
  readonly context?: string;
  readonly wait?: string;
  readonly json?: boolean;
}

export interface TaskEndedOptions {
  readonly agent: string;
  readonly task: string;
  readonly outcome: string;
  readonly systemsTouched?: string;
  readonly wait?: string;
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
  return emitAndAwait(deps, { detailType: INBOUND.taskStarted, detail }, options, {
    answered: answersStart,
    say: (grant) => startOutcome(grant, deps.clock.now(), deps.callRecord === 'local-engine'),
  });
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
  return emitAndAwait(deps, { detailType: INBOUND.taskEnded, detail }, options, { answered: isSettled, say: endOutcome });
}

interface Answer {
  /** Whether the grant, as read, is the engine's answer to this event. */
  readonly answered: (grant: Grant) => boolean;
  readonly say: (grant: Grant) => string;
}

/**
 * Sends a runtime's event and waits for the engine's answer in the task's grant. A `Task Started`
 * of a task already started is a duplicate the engine ignores: the grant as it stands is the answer.
 */
async function emitAndAwait(
  deps: CliDeps,
  event: BusEvent & { readonly detail: { readonly agentId: string; readonly taskId: string } },
  options: { readonly wait?: string; readonly json?: boolean },
  answer: Answer,
): Promise<ExitCode> {
  const seconds = waitSeconds(options.wait);
  const task = `${event.detail.agentId}/${event.detail.taskId}`;
  if (seconds === 0) return send(deps, event, `${event.detailType} sent for ${task}`, options.json);

  const grantId = grantIdFor(event.detail.agentId, event.detail.taskId);
  const before = await deps.store.get(grantId);
  const duplicate = before !== undefined && answer.answered(before);
  const eventId = await dispatch(deps, event);
  if (eventId === undefined) return EXIT.failure;
  const waited = await awaitEngine(
    deps,
    `${event.detailType} sent for ${task}`,
    seconds,
    async () => {
      const grant = await deps.store.get(grantId);
      return { done: grant !== undefined && answer.answered(grant), value: grant };
    },
    (grant) => (grant ? `${task}: ${grant.state}` : `${event.detailType} sent for ${task}, no grant yet`),
  );
  const grant = waited.done ? waited.value : waited.last;
  const outcome = waited.done
    ? `${answer.say(waited.value)}${duplicate ? ' (a duplicate: the engine had answered this task before)' : ''}`
    : undefined;
  const sent = { sent: true, detailType: event.detailType, eventId, detail: event.detail, grantId };
  if (options.json) deps.out(json({ ...sent, waited: true, answered: waited.done, duplicate, state: grant?.state, outcome, grant }));
  else if (outcome !== undefined) deps.out(outcome);
  if (!waited.done) {
    deps.err(`taskbound: ${task} is ${grant ? `still ${grant.state}` : 'not recorded'} after ${seconds}s; the engine keeps working on it.`);
    deps.err(followUp(grantId));
    return EXIT.failure;
  }
  return refused(waited.value) ? EXIT.failure : EXIT.ok;
}
