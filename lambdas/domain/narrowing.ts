// Domain: whether the policy in force still gives a live grant everything it was issued. A credential
// cannot be narrowed in place, so anything it holds that today's entitlement does not cover (or that
// cannot be proven covered) revokes it (revoke-unentitled); a policy that only widens keeps it.
import type { Entitlement } from './evaluate';
import type { Grant } from './grant';
import { narrowedStatements } from './scope-digests';

/**
 * Why the issued `grant` holds more than `today` (the policy in force, applied to the request it
 * holds) gives, or undefined. Judged: its credential kind and account, the secrets it brokers, the
 * approvals it was given, and, on grants that recorded them, its scopes' statements. Its TTL is
 * judged by the evaluation itself (a lowered maximum denies the request).
 */
export function narrowedSinceIssue(grant: Grant, today: Entitlement): string | undefined {
  if (grant.credentialKind !== undefined && grant.credentialKind !== today.credentialKind) {
    return `its scopes now issue ${today.credentialKind}, not the ${grant.credentialKind} it holds`;
  }
  if (grant.account !== today.account) {
    return `its scopes now come from ${today.account ?? "the engine's own account"}, not ${grant.account ?? "the engine's own account"} where it was issued`;
  }
  const brokered = new Set(today.brokeredSecrets.map((secret) => secret.arn));
  const dropped = grant.brokeredSecrets.find((secret) => !brokered.has(secret.arn));
  if (dropped) return `its scopes no longer broker the secret ${dropped.arn}`;
  const approved = grant.approvals.filter((approval) => today.eligibleApprovers.includes(approval.approver)).length;
  if (today.requiredApprovals > approved) {
    return `it now needs ${today.requiredApprovals} approval(s) from people eligible today, and holds ${approved}`;
  }
  return grant.scopeDigests ? narrowedStatements(grant.scopeDigests, today.scopeDigests) : undefined;
}

/**
 * Why `today` gives a request waiting for approval more than the definition it recorded (the one its
 * approvers saw), or undefined: approvals given to less than what would now be issued do not cover it.
 * The same rule as narrowedSinceIssue, the other way round: whatever is not provably no wider counts as wider.
 */
export function widenedSinceRequest(grant: Grant, today: Entitlement): string | undefined {
  if (grant.credentialKind !== undefined && grant.credentialKind !== today.credentialKind) return 'its credential kind changed';
  if (grant.account !== today.account) return 'its account changed';
  const recorded = new Set(grant.brokeredSecrets.map((secret) => secret.arn));
  const added = today.brokeredSecrets.find((secret) => !recorded.has(secret.arn));
  if (added) return `its scopes now broker the secret ${added.arn}`;
  const widened = grant.scopeDigests ? narrowedStatements(today.scopeDigests, grant.scopeDigests) : undefined;
  return widened === undefined ? undefined : 'its scopes now allow more than when the request was made';
}
