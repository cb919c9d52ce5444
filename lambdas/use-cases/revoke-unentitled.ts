// Use case: live grants the policy in force no longer allows. An agent taken out of the policy, a
// scope withdrawn from it or undefined, must not leave credentials working until their tasks end or
// expire: they are revoked (fail closed), pending requests denied. Run when the engine reconciles
// (a process's first sweep, then with orphan reconciliation), since a policy changes only on a
// deploy or a restart. A scope whose statements were narrowed is not judged: its name still holds.
import { ENGINE_ACTOR, type Grant } from '../domain/grant';
import { evaluateTaskRequest, requestHeldBy } from '../domain/evaluate';
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

/** Why the policy in force no longer allows the grant, or undefined. Suspension is the kill switch's, not this. */
function lostEntitlement(deps: Pick<EngineDeps, 'policy'>, grant: Grant): string | undefined {
  const today = evaluateTaskRequest(deps.policy, requestHeldBy(grant), { suspended: false, liveGrants: 0 });
  return today.outcome === 'denied' ? `the policy in force (${deps.policy.policyVersion}) no longer allows it: ${today.reason}` : undefined;
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
