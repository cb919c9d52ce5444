// Use case: a `Task Started` that failed validation (a TTL out of range, an empty purpose, ...).
// Recorded like any invalid event; when it names a registered agent and a well-formed task id, the
// refusal is also delivered where that agent's runtime polls (docs/contract.md §5), so a runtime in
// any language reads why at once instead of waiting for a delivery that would never come. Its
// `Grant Denied` says what the event said of its requester: the name, unverified, when it met the
// requester rule, else that it was not given or invalid (never the invalid text itself).
import { ENGINE_ACTOR, openGrant, transition, type Grant } from '../domain/grant';
import { requesterOfRefusedStart } from '../domain/events';
import { deliverySecretName, grantIdFor } from '../domain/ids';
import { announceDenial } from './deliver-status';
import type { EngineDeps } from './engine-deps';
import { namedTask, recordRejection, rejectEvent, type RawEvent } from './reject-event';

/**
 * Records the invalid start and, for a registered agent's task that has no grant yet, writes a
 * denied grant (it issues nothing and holds no slot) whose denial is delivered and published like
 * a policy's. A task that already has a grant keeps it untouched: an invalid event, forged or
 * duplicated, cannot overwrite a running task's delivery. Other invalid starts are refused as
 * before (`rejectEvent`). The outcome stays `rejected`.
 */
export async function refuseInvalidStart(
  deps: EngineDeps,
  raw: RawEvent,
  reason: string,
): Promise<{ readonly outcome: 'rejected'; readonly reason: string; readonly grant?: Grant }> {
  const named = namedTask(raw);
  const agent = named ? deps.policy.agents[named.agentId] : undefined;
  const requester = requesterOfRefusedStart(raw.detail);
  if (!named || !agent) return rejectEvent(deps, raw, reason, requester);

  const now = await recordRejection(deps, raw, reason);
  const denial = `invalid Task Started event: ${reason}`;
  const opened = openGrant({
    grantId: grantIdFor(named.agentId, named.taskId),
    taskId: named.taskId,
    agentId: named.agentId,
    at: now,
    actor: ENGINE_ACTOR,
    policyVersion: deps.policy.policyVersion,
    scopes: [],
    owner: agent.owner,
    reason: 'an invalid Task Started named this task',
  });
  const denied = transition(opened, {
    to: 'denied',
    at: now,
    actor: ENGINE_ACTOR,
    action: 'denied',
    reason: denial,
    changes: { reason: denial, deliverySecret: deliverySecretName(named.agentId, named.taskId) },
  });
  const created = await deps.store.create(denied);
  if (!created.created) return { outcome: 'rejected', reason };
  await announceDenial(deps, created.grant, denial, now, [], requester);
  return { outcome: 'rejected', reason, grant: created.grant };
}
