// Domain: approval decisions with separation of duties (docs/contract.md §4). The owner and the
// requester never approve, each approver counts once, and a late decision is refused. An agent's
// owner never lifts its suspension alone.
import type { Grant } from './grant';
import { designates, type People } from './people';

export interface GrantDecisionInput {
  readonly decision: 'approve' | 'deny';
  /** The authenticated person (a person id under `people`), never a name taken from an event. */
  readonly approver: string;
  readonly reason: string;
  readonly at: string;
}

export type DecisionOutcome =
  | { readonly outcome: 'refused'; readonly reason: string }
  | { readonly outcome: 'expired'; readonly reason: string }
  | { readonly outcome: 'counted'; readonly remaining: number }
  | { readonly outcome: 'approved' }
  | { readonly outcome: 'denied'; readonly reason: string };

/** `people` lets an owner or requester be recognised however they were written (an ARN, a Slack id). */
export function decideApproval(grant: Grant, input: GrantDecisionInput, people: People = {}): DecisionOutcome {
  if (grant.state !== 'pending_approval') {
    return { outcome: 'refused', reason: `grant is ${grant.state}, not pending approval` };
  }
  if (grant.approvalDeadline !== undefined && input.at > grant.approvalDeadline) {
    return { outcome: 'expired', reason: `approval window closed at ${grant.approvalDeadline}` };
  }
  if (designates(people, input.approver, grant.owner)) {
    return { outcome: 'refused', reason: `${input.approver} owns agent "${grant.agentId}" and may not decide its grants` };
  }
  if (designates(people, input.approver, grant.requestedBy)) {
    return { outcome: 'refused', reason: `${input.approver} requested this task and may not decide it` };
  }
  if (!grant.eligibleApprovers.includes(input.approver)) {
    return { outcome: 'refused', reason: `${input.approver} is not in the approver group for this grant` };
  }
  if (input.decision === 'deny') return { outcome: 'denied', reason: `denied by ${input.approver}: ${input.reason}` };
  if (grant.approvals.some((approval) => approval.approver === input.approver)) {
    return { outcome: 'refused', reason: `${input.approver} has already approved; one approver counts once` };
  }
  const remaining = grant.requiredApprovals - grant.approvals.length - 1;
  return remaining > 0 ? { outcome: 'counted', remaining } : { outcome: 'approved' };
}

/**
 * Why `person` may not resume the agent owned by `owner`, or undefined when they may. The person
 * answerable for an agent does not alone decide that it is safe again, as they may not approve its grants.
 */
export function resumeRefusal(person: string, agentId: string, owner: string | undefined, people: People = {}): string | undefined {
  if (owner === undefined || !designates(people, person, owner)) return undefined;
  return `${person} owns agent "${agentId}" and may not lift its suspension; ask another person from the policy`;
}
