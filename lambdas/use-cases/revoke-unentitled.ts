// Use case: live grants the policy in force no longer allows. An agent taken out of the policy, a
// scope withdrawn from it or undefined, must not leave credentials working until their tasks end or
// expire: they are revoked (fail closed), pending requests denied. An issued grant whose scope was
// narrowed or changed under the same name is revoked too (lambdas/domain/narrowing.ts): its credential
// cannot be narrowed in place. A pending request is judged again at its decision, and issued under
// the definition then in force (decide-grant). Run when the engine reconciles (a process's first
// sweep, then with orphan reconciliation), since a policy changes only on a deploy or a restart.
import { ENGINE_ACTOR, type Grant } from '../domain/grant';
import { evaluateTaskRequest, requestHeldBy } from '../domain/evaluate';
import { narrowedSinceIssue } from '../domain/narrowing';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { inBatches } from './in-batches';
import { revokeGrant } from './revoke-grant';

export interface UnentitledReport {
  /** Live grants read (the sparse live index). */
  readonly checked: number;
  readonly revoked: number;
  readonly errors: number;
}

/** Issuing and revoking grants are left to the issuance and the revocation under way (the next run sees what they leave). */
const JUDGED = new Set<Grant['state']>(['requested', 'pending_approval', 'active']);
const PARALLEL = 8;

/**
 * Why the policy in force no longer allows the grant, or undefined. Suspension is the kill switch's, not this.
 * Only an issued grant holds a credential to narrow: a request still waiting is judged by name here.
 */
function lostEntitlement(deps: Pick<EngineDeps, 'policy'>, grant: Grant): string | undefined {
  const today = evaluateTaskRequest(deps.policy, requestHeldBy(grant), { suspended: false, liveGrants: 0 });
  const version = deps.policy.policyVersion;
  if (today.outcome === 'denied') return `the policy in force (${version}) no longer allows it: ${today.reason}`;
  const narrowed = grant.state === 'active' ? narrowedSinceIssue(grant, today) : undefined;
  return narrowed ? `the policy in force (${version}) narrowed what it was issued: ${narrowed}` : undefined;
}

export async function revokeUnentitledGrants(deps: EngineDeps): Promise<UnentitledReport> {
  const live = await deps.store.liveGrants();
  const now = deps.clock.now().toISOString();
  const unentitled = live.flatMap((grant) => {
    const reason = JUDGED.has(grant.state) ? lostEntitlement(deps, grant) : undefined;
    return reason ? [{ grant, reason }] : [];
  });
  const outcomes = await inBatches(unentitled, PARALLEL, async ({ grant, reason }) => {
    try {
      await revokeGrant(deps, grant.grantId, { trigger: 'manual', by: ENGINE_ACTOR, reason, noticeAt: now });
      return 'revoked' as const;
    } catch (error) {
      // It stays live and unentitled: the next reconciliation tries again; the sweep's error count raises the alarm.
      (deps.logger ?? silentLogger).error('could not revoke a grant the policy no longer allows', {
        grantId: grant.grantId,
        error: errorCode(error),
      });
      return 'error' as const;
    }
  });
  return {
    checked: live.length,
    revoked: outcomes.filter((outcome) => outcome === 'revoked').length,
    errors: outcomes.filter((outcome) => outcome === 'error').length,
  };
}
