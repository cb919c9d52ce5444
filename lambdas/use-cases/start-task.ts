// Use case: `Task Started` → decide against the policy → issue, hold for approval, or deny.
// The grant record is written before any credential exists, so none can exist unrecorded.
import { ENGINE_ACTOR, note, openGrant, transition, type Grant } from '../domain/grant';
import { deliverySecretName, grantIdFor } from '../domain/ids';
import { concurrencyCapReason, evaluateTaskRequest, suspendedReason, type RequestDecision } from '../domain/evaluate';
import type { OutboundEvent, TaskStarted } from '../domain/events';
import type { EngineDeps } from './engine-deps';
import { outbound } from './outbound';
import { announceDenial, deliverStatus } from './deliver-status';
import { issueGrant } from './issue-grant';

export type StartTaskResult =
  | {
      readonly outcome: 'issued' | 'pending-approval' | 'denied' | 'failed' | 'revoked-during-issue';
      readonly grant: Grant;
      readonly reason?: string;
    }
  | { readonly outcome: 'duplicate'; readonly grant: Grant };

export async function startTask(deps: EngineDeps, request: TaskStarted): Promise<StartTaskResult> {
  const grantId = grantIdFor(request.agentId, request.taskId);
  const registered = deps.policy.agents[request.agentId];
  const now = deps.clock.now().toISOString();
  const opened = openGrant({
    grantId,
    taskId: request.taskId,
    agentId: request.agentId,
    at: now,
    actor: request.requestedBy,
    policyVersion: deps.policy.policyVersion,
    scopes: [...new Set(request.scopes)],
    purpose: request.purpose,
    requestedBy: request.requestedBy,
    ...(registered ? { owner: registered.owner } : {}),
    ...(request.ttlSeconds !== undefined ? { ttlSeconds: request.ttlSeconds } : {}),
    ...(request.context !== undefined ? { context: request.context } : {}),
  });
  // The agent's standing is not read first: the slot's write checks it (holdConcurrencySlot).
  const held = await holdConcurrencySlot(deps, request, opened, evaluateTaskRequest(deps.policy, request, { suspended: false }), now);
  if (held.outcome === 'exists') return handleExisting(deps, held.existing, request, now);
  const { decision } = held;
  // A refused request is recorded too: a denied grant, which holds no slot.
  const created =
    held.outcome === 'opened'
      ? { created: true as const, grant: held.grant }
      : await deps.store.create(applyDecision(opened, decision, now, deps.policy.approvalTimeoutSeconds));
  if (!created.created) return handleExisting(deps, created.existing, request, now);

  const requested = outbound('Grant Requested', { ...created.grant, state: 'requested', reason: undefined }, now);
  if (decision.outcome === 'denied') {
    await announceDenial(deps, created.grant, decision.reason, now, [requested]);
    return { outcome: 'denied', grant: created.grant, reason: decision.reason };
  }
  if (decision.outcome === 'needs-approval') {
    await deliverStatus(deps, created.grant, decision.agent.runtimePrincipal, { status: 'pending_approval' });
    await deps.events.publish([
      requested,
      outbound('Grant Pending Approval', created.grant, now, {
        requiredApprovals: decision.requiredApprovals,
        approvers: decision.eligibleApprovers,
        ttlSeconds: decision.ttlSeconds,
        riskTier: decision.agent.riskTier,
        approvalDeadline: created.grant.approvalDeadline,
      }),
    ]);
    return { outcome: 'pending-approval', grant: created.grant };
  }
  // `Grant Requested` goes out with the issue's own event: one PutEvents instead of two.
  const issued = await issueGrant(deps, created.grant, decision, [requested]);
  return issued.outcome === 'failed' ? { ...issued, reason: issued.reason } : issued;
}

/**
 * The concurrency cap and the kill switch, in the one write that opens the grant: a request the
 * policy allows takes one of the agent's slots, if one is free and the agent is not suspended,
 * together with writing its grant (GrantStore.openHoldingSlot). Simultaneous starts cannot all
 * pass a count read a moment earlier, and a suspension either refuses the grant or, written
 * after it, finds it among the agent's live grants: one of the two sees the other.
 */
type HeldDecision = RequestDecision & { readonly concurrencySlot?: number };
type Holding =
  | { readonly outcome: 'opened'; readonly grant: Grant; readonly decision: HeldDecision }
  | { readonly outcome: 'exists'; readonly existing: Grant }
  | { readonly outcome: 'refused'; readonly decision: HeldDecision & { readonly outcome: 'denied' } };

async function holdConcurrencySlot(
  deps: EngineDeps,
  request: TaskStarted,
  opened: Grant,
  decision: RequestDecision,
  now: string,
): Promise<Holding> {
  if (decision.outcome === 'denied') return { outcome: 'refused', decision };
  const { agent } = decision;
  const open = (slot: number) => applyDecision(opened, { ...decision, concurrencySlot: slot }, now, deps.policy.approvalTimeoutSeconds);
  const opening = await deps.store.openHoldingSlot(request.agentId, agent.maxConcurrentGrants, open, now);
  switch (opening.outcome) {
    case 'opened':
      return { outcome: 'opened', grant: opening.grant, decision };
    case 'exists':
      return opening;
    case 'suspended':
      return { outcome: 'refused', decision: { outcome: 'denied', reason: suspendedReason(request.agentId), agent } };
    case 'full':
      return {
        outcome: 'refused',
        decision: { outcome: 'denied', reason: concurrencyCapReason(request.agentId, opening.held, agent.maxConcurrentGrants), agent },
      };
  }
}

/** Records the policy's decision on the freshly opened grant: one write for both. */
function applyDecision(grant: Grant, decision: HeldDecision, now: string, approvalTimeoutSeconds: number): Grant {
  if (decision.outcome === 'denied') {
    return transition(grant, {
      to: 'denied',
      at: now,
      actor: ENGINE_ACTOR,
      action: 'denied',
      reason: decision.reason,
      changes: { reason: decision.reason, ...(decision.agent ? { deliverySecret: deliverySecretName(grant.agentId, grant.taskId) } : {}) },
    });
  }
  const changes = {
    actionClasses: decision.actionClasses,
    credentialKind: decision.credentialKind,
    ...(decision.account ? { account: decision.account } : {}),
    ttlSeconds: decision.ttlSeconds,
    scopeDigests: decision.scopeDigests,
    requiredApprovals: decision.requiredApprovals,
    eligibleApprovers: decision.eligibleApprovers,
    brokeredSecrets: decision.brokeredSecrets,
    deliverySecret: deliverySecretName(grant.agentId, grant.taskId),
    concurrencySlot: decision.concurrencySlot,
  };
  const accountDetail = decision.account ? { account: decision.account } : {};
  if (decision.outcome === 'needs-approval') {
    return transition(grant, {
      to: 'pending_approval',
      at: now,
      actor: ENGINE_ACTOR,
      action: 'held-for-approval',
      reason: `${decision.actionClasses.join(', ')} needs ${decision.requiredApprovals} approval(s)`,
      detail: { eligibleApprovers: decision.eligibleApprovers, ...accountDetail },
      changes: { ...changes, approvalDeadline: new Date(Date.parse(now) + approvalTimeoutSeconds * 1000).toISOString() },
    });
  }
  return transition(grant, {
    to: 'issuing',
    at: now,
    actor: ENGINE_ACTOR,
    action: 'auto-approved',
    reason: `policy approves ${decision.actionClasses.join(', ')} automatically`,
    ...(decision.account ? { detail: accountDetail } : {}),
    changes,
  });
}

/** A second `Task Started` for the same task: a duplicate, or one that arrived after its `Task Ended`. */
async function handleExisting(deps: EngineDeps, existing: Grant, request: TaskStarted, now: string): Promise<StartTaskResult> {
  if (!existing.endedBeforeStart || existing.purpose !== undefined) {
    // A redelivery may be Lambda retrying a run that wrote the state but failed to publish it:
    // publish the current state again (consumers tolerate duplicates; a lost event is worse).
    await deps.events.publish(currentStateEvents(existing, now));
    return { outcome: 'duplicate', grant: existing };
  }
  const reason = 'Task Started arrived after its Task Ended: nothing is issued for a finished task';
  const agent = deps.policy.agents[request.agentId];
  const recorded = {
    ...existing,
    purpose: request.purpose,
    requestedBy: request.requestedBy,
    scopes: [...new Set(request.scopes)],
    ...(agent ? { owner: agent.owner, deliverySecret: deliverySecretName(request.agentId, request.taskId) } : {}),
  };
  const next = note(recorded, { at: now, actor: request.requestedBy, action: 'refused', reason, changes: { reason } });
  const written = await deps.store.update(existing, next);
  if (!written.ok) return { outcome: 'duplicate', grant: written.current ?? existing };
  await announceDenial(deps, written.grant, reason, now);
  return { outcome: 'denied', grant: written.grant, reason };
}

function currentStateEvents(grant: Grant, now: string): OutboundEvent[] {
  switch (grant.state) {
    case 'active':
      return [outbound('Grant Issued', grant, now)];
    case 'pending_approval':
      return [
        outbound('Grant Pending Approval', grant, now, {
          requiredApprovals: grant.requiredApprovals,
          approvers: grant.eligibleApprovers,
          approvalDeadline: grant.approvalDeadline,
        }),
      ];
    case 'denied':
    case 'failed':
      return [outbound('Grant Denied', grant, now)];
    default:
      return [];
  }
}
