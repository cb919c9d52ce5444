// Use case: `Task Ended` → revoke the task's credential and prove it dead. A Task Ended
// that arrives first leaves a tombstone, so the late Task Started can never issue.
import { ENGINE_ACTOR, openGrant, transition, type Grant } from '../domain/grant';
import { grantIdFor } from '../domain/ids';
import type { TaskEnded } from '../domain/events';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { outbound } from './outbound';
import { revokeGrant, type RevokeResult } from './revoke-grant';

export type EndTaskResult = RevokeResult | { readonly outcome: 'ended-before-start'; readonly grant: Grant };

export async function endTask(deps: EngineDeps, event: TaskEnded): Promise<EndTaskResult> {
  const grantId = grantIdFor(event.agentId, event.taskId);
  const now = deps.clock.now().toISOString();
  await revokeBeforeReading(deps, grantId);
  const result = await revokeGrant(deps, grantId, {
    trigger: 'task_ended',
    by: event.agentId,
    reason: `task ${event.outcome}`,
    noticeAt: now,
    ...(event.systemsTouched ? { systemsTouched: event.systemsTouched } : {}),
  });
  if (result.outcome !== 'not-found') return result;
  return recordEndBeforeStart(deps, grantId, event, now);
}

/**
 * Kills the credential before the grant is read, where the platform can revoke by grant id alone.
 * Every Task Ended revokes whatever the grant holds, so nothing is revoked that the read would have
 * spared. A failure is logged and left to the revocation that follows, which tries again and says so.
 */
async function revokeBeforeReading(deps: EngineDeps, grantId: string): Promise<void> {
  if (!deps.revokeByGrantId) return;
  try {
    await deps.revokeByGrantId(grantId);
  } catch (error) {
    (deps.logger ?? silentLogger).warn('could not revoke ahead of the grant read; the revocation tries again', {
      grantId,
      error: errorCode(error),
    });
  }
}

async function recordEndBeforeStart(deps: EngineDeps, grantId: string, event: TaskEnded, now: string): Promise<EndTaskResult> {
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
    return endTask(deps, event);
  }
  await deps.events.publish([outbound('Grant Denied', created.grant, now, { reason })]);
  return { outcome: 'ended-before-start', grant: created.grant };
}
