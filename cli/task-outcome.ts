// CLI: what an `emit` came to. A runtime's event is only a request; the engine's answer is what it
// writes to the grant (issued, waiting for people, denied; or revoked and proven dead), so `emit`
// waits for that answer as `revoke` and `suspend` do, and says it in one line.
import type { Grant, GrantState } from '../lambdas/domain/grant';
import { FINAL_STATES } from '../lambdas/domain/grant';
import { deliverySecretName } from '../lambdas/domain/ids';
import { outcomeOf } from './commands/revoke';
import { relative } from './output';

/** States in which the engine has answered a `Task Started` (the grant may still go on: a person may approve it). */
const STARTED_ANSWERS: readonly GrantState[] = ['pending_approval', 'active', 'revoking', 'revoked', ...FINAL_STATES];

/** What a `Task Started` waits for: the engine's first answer. */
export const answersStart = (grant: Grant) => STARTED_ANSWERS.includes(grant.state);

/** A refused or failed grant: the command that asked for it did not get what it asked for (exit 1). */
export const refused = (grant: Grant) => grant.state === 'denied' || grant.state === 'failed';

/**
 * The engine's answer to a `Task Started`, for people: what the runtime does next. `local`: against the
 * local engine, where a decision is signed with `--as PERSON` (docs/cli.md), so the hint names it.
 */
export function startOutcome(grant: Grant, now: Date, local: boolean): string {
  const task = `${grant.agentId}/${grant.taskId}`;
  if (grant.state === 'active') {
    const expires = grant.expiresAt ? `, expires ${relative(grant.expiresAt, now)}` : '';
    return `${task}: issued as ${grant.grantId} (${grant.scopes.join(', ')}${expires}); the runtime reads it from ${deliverySecretName(grant.agentId, grant.taskId)}`;
  }
  if (grant.state === 'pending_approval') {
    if (local && grant.eligibleApprovers.length > 0) {
      return `${task}: waiting for approval as ${grant.grantId}; one of ${grant.eligibleApprovers.join(', ')} decides with \`taskbound approve ${grant.grantId} --as PERSON --reason …\` (or deny)`;
    }
    return `${task}: waiting for approval as ${grant.grantId}; a person the policy names decides with \`taskbound approve ${grant.grantId} --reason …\` (or deny)`;
  }
  return `${task}: ${outcomeOf(grant)}`;
}

/** The engine's answer to a `Task Ended`, for people. */
export const endOutcome = (grant: Grant) => `${grant.agentId}/${grant.taskId}: ${outcomeOf(grant)}`;
