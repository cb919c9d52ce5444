// Use case: an authenticated person's decision (operator endpoint or Slack) → apply separation
// of duties, count approvals, and issue once enough distinct eligible people have approved (or
// deny on the first eligible deny). Callers pass the person they authenticated as `approver`.
import { decideApproval } from '../domain/approval';
import { ENGINE_ACTOR, note, transition, type Grant } from '../domain/grant';
import { grantIdFor } from '../domain/ids';
import { evaluateTaskRequest, requestHeldBy, type RequestDecision } from '../domain/evaluate';
import type { GrantDecision } from '../domain/events';
import { widenedSinceRequest } from '../domain/narrowing';
import type { EngineDeps } from './engine-deps';
import { outbound } from './outbound';
import { announceDenial } from './deliver-status';
import { issueGrant } from './issue-grant';

export type DecideResult =
  | { readonly outcome: 'not-found'; readonly grantId: string }
  | { readonly outcome: 'refused'; readonly reason: string; readonly grant: Grant }
  | { readonly outcome: 'counted'; readonly remaining: number; readonly grant: Grant }
  | { readonly outcome: 'issued' | 'denied' | 'failed' | 'revoked-during-issue'; readonly grant: Grant };

const MAX_RACES = 5;

export async function decideGrant(deps: EngineDeps, decision: GrantDecision): Promise<DecideResult> {
  const grantId = decision.grantId ?? grantIdFor(decision.agentId ?? '', decision.taskId ?? '');
  for (let attempt = 0; attempt < MAX_RACES; attempt++) {
    const grant = await deps.store.get(grantId);
    if (!grant) return { outcome: 'not-found', grantId };
    const result = await applyDecision(deps, grant, decision);
    if (result !== 'lost-race') return result;
  }
  throw new Error(`grant ${grantId} kept changing while deciding`);
}

async function applyDecision(deps: EngineDeps, grant: Grant, decision: GrantDecision): Promise<DecideResult | 'lost-race'> {
  const now = deps.clock.now().toISOString();
  const today = await todaysVerdict(deps, grant);
  const { held, widened } = heldUnderToday(grant, today);
  const verdict = decideApproval(
    asTodaysPolicySeesIt(held, today),
    { decision: decision.decision, approver: decision.approver, reason: decision.reason, at: now },
    deps.policy.people,
  );
  const actor = decision.approver;
  // The agent may have been suspended, removed or its scopes withdrawn while the request waited.
  if (verdict.outcome === 'counted' && today.outcome === 'denied')
    return deny(deps, grant, `no longer allowed: ${today.reason}`, ENGINE_ACTOR, now);
  switch (verdict.outcome) {
    case 'refused': {
      // Recorded in the audit unless the grant is settled (then a replay must not grow it).
      if (grant.state === 'pending_approval') {
        const written = await deps.store.update(grant, note(grant, { at: now, actor, action: 'decision-refused', reason: verdict.reason }));
        if (!written.ok) return 'lost-race';
      }
      await deps.events.publish([
        outbound('Grant Decision Refused', grant, now, { reason: verdict.reason, approver: actor, decision: decision.decision }),
      ]);
      return { outcome: 'refused', reason: verdict.reason, grant };
    }
    case 'expired':
    case 'denied':
      return deny(deps, grant, verdict.reason, actor, now);
    case 'counted': {
      const counted = note(held, {
        at: now,
        actor,
        action: 'approved',
        reason: decision.reason,
        detail: { remaining: verdict.remaining, ...(widened ? { earlierApprovalsDropped: widened } : {}) },
        changes: { approvals: [...held.approvals, { approver: actor, at: now, reason: decision.reason }] },
      });
      const written = await deps.store.update(grant, counted);
      if (!written.ok) return 'lost-race';
      await deps.events.publish([
        outbound('Grant Pending Approval', written.grant, now, {
          requiredApprovals: grant.requiredApprovals,
          remaining: verdict.remaining,
          approver: actor,
        }),
      ]);
      return { outcome: 'counted', remaining: verdict.remaining, grant: written.grant };
    }
    case 'approved':
      return approve(deps, held, decision, today, now);
  }
}

async function approve(
  deps: EngineDeps,
  grant: Grant,
  decision: GrantDecision,
  entitlement: RequestDecision,
  now: string,
): Promise<DecideResult | 'lost-race'> {
  if (entitlement.outcome === 'denied') return deny(deps, grant, `no longer allowed: ${entitlement.reason}`, ENGINE_ACTOR, now);
  const approvals = [...grant.approvals, { approver: decision.approver, at: now, reason: decision.reason }];
  const issuing = transition(grant, {
    to: 'issuing',
    at: now,
    actor: decision.approver,
    action: 'approved',
    reason: decision.reason,
    detail: { approvers: approvals.map((approval) => approval.approver) },
    // What is issued is today's definition: the grant records it, so its revocation, the rotation of
    // its secrets and the next policy change are judged by what it holds, not what it asked for.
    changes: {
      approvals,
      policyVersion: deps.policy.policyVersion,
      actionClasses: entitlement.actionClasses,
      credentialKind: entitlement.credentialKind,
      account: entitlement.account,
      scopeDigests: entitlement.scopeDigests,
      brokeredSecrets: entitlement.brokeredSecrets,
    },
  });
  const written = await deps.store.update(grant, issuing);
  if (!written.ok) return 'lost-race';
  const issued = await issueGrant(deps, written.grant, { ...entitlement, ttlSeconds: grant.ttlSeconds ?? entitlement.ttlSeconds });
  return { outcome: issued.outcome, grant: issued.grant };
}

/**
 * Approvals given while the request's scopes were narrower than today's approved less than what
 * would now be issued: they stop counting, and the request records today's definition, the one the
 * next approvers see. A narrowing keeps them: they approved more than will be issued.
 */
function heldUnderToday(grant: Grant, today: RequestDecision): { readonly held: Grant; readonly widened?: string } {
  const widened = today.outcome === 'denied' ? undefined : widenedSinceRequest(grant, today);
  if (today.outcome === 'denied' || widened === undefined) return { held: grant };
  const held: Grant = {
    ...grant,
    approvals: [],
    actionClasses: today.actionClasses,
    credentialKind: today.credentialKind,
    account: today.account,
    scopeDigests: today.scopeDigests,
    brokeredSecrets: today.brokeredSecrets,
  };
  return { held, widened };
}

/** Today's policy and the agent's standing applied to the request the grant holds. */
async function todaysVerdict(deps: EngineDeps, grant: Grant): Promise<RequestDecision> {
  const standing = await deps.store.getAgent(grant.agentId);
  return evaluateTaskRequest(deps.policy, requestHeldBy(grant), { suspended: standing.suspended, liveGrants: 0 });
}

/**
 * A decision is judged by the policy in force when it is made, never more loosely than the one the
 * request was held under: only today's eligible approvers may decide (a person taken out of the
 * group, or who now owns the agent, no longer can), approvals they gave earlier stop counting, and
 * the larger of the two approval counts is needed.
 */
function asTodaysPolicySeesIt(grant: Grant, today: RequestDecision): Grant {
  if (today.outcome !== 'needs-approval') return grant;
  const eligible = today.eligibleApprovers;
  return {
    ...grant,
    eligibleApprovers: eligible,
    requiredApprovals: Math.max(grant.requiredApprovals, today.requiredApprovals),
    approvals: grant.approvals.filter((approval) => eligible.includes(approval.approver)),
  };
}

async function deny(deps: EngineDeps, grant: Grant, reason: string, actor: string, now: string): Promise<DecideResult | 'lost-race'> {
  const denied = transition(grant, { to: 'denied', at: now, actor, action: 'denied', reason, changes: { reason } });
  const written = await deps.store.update(grant, denied);
  if (!written.ok) return 'lost-race';
  await announceDenial(deps, written.grant, reason, now);
  return { outcome: 'denied', grant: written.grant };
}
