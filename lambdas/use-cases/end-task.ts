// Use case: `Task Ended` → revoke the task's credential and prove it dead. A Task Ended
// that arrives first leaves a tombstone, so the late Task Started can never issue.
import { ENGINE_ACTOR, openGrant, transition, type Grant } from '../domain/grant';
import { grantIdFor } from '../domain/ids';
import type { TaskEnded } from '../domain/events';
import type { EngineDeps } from './engine-deps';
import { outbound } from './outbound';
import { revokeGrant, type RevokeResult } from './revoke-grant';

export type EndTaskResult = RevokeResult | { readonly outcome: 'ended-before-start'; readonly grant: Grant };

/** The task to end and why: a valid `Task Ended` gives its outcome, an invalid one what was wrong with it. */
export interface TaskToEnd {
  readonly agentId: string;
  readonly taskId: string;
  readonly reason: string;
  readonly systemsTouched?: readonly string[];
}

export function endTask(deps: EngineDeps, event: TaskEnded): Promise<EndTaskResult> {
  return closeTask(deps, { ...event, reason: `task ${event.outcome}` });
}

/** Revokes the task's credential, or leaves a tombstone when it has none yet. */
export async function closeTask(deps: EngineDeps, task: TaskToEnd): Promise<EndTaskResult> {
  const grantId = grantIdFor(task.agentId, task.taskId);
  const now = deps.clock.now().toISOString();
  const result = await revokeGrant(deps, grantId, {
    trigger: 'task_ended',
    by: task.agentId,
    reason: task.reason,
    noticeAt: now,
    ...(task.systemsTouched ? { systemsTouched: task.systemsTouched } : {}),
  });
  if (result.outcome !== 'not-found') return result;
  return recordEndBeforeStart(deps, grantId, task, now);
}

async function recordEndBeforeStart(deps: EngineDeps, grantId: string, event: TaskToEnd, now: string): Promise<EndTaskResult> {
  const reason = 'Task Ended arrived for a task never started; the task is closed and will issue nothing';
  const opened = openGrant({
    grantId,
    taskId: event.taskId,
    agentId: event.agentId,
    at: now,
    actor: event.agentId,
    policyVersion: deps.policy.policyVersion,
    scopes: [],
    action: 'ended-before-start',
  });
  const tombstone = transition(opened, {
    to: 'denied',
    at: now,
    actor: ENGINE_ACTOR,
    action: 'refused',
    reason,
    changes: { reason, endedBeforeStart: true, ...(event.systemsTouched ? { systemsTouched: event.systemsTouched } : {}) },
  });
  const created = await deps.store.create(tombstone);
  if (!created.created) {
    // The Task Started landed between our read and our write: revoke what it issued.
    return closeTask(deps, event);
  }
  await deps.events.publish([outbound('Grant Denied', created.grant, now, { reason })]);
  return { outcome: 'ended-before-start', grant: created.grant };
}
