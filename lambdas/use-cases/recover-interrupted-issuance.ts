// Use case (local engine start, before its bus replays anything): issuance the previous
// process died in the middle of. The local engine is one process, so when it starts no
// issuance is running: a grant still `issuing` was interrupted (its credential may exist,
// unrecorded), and an `active` grant whose delivery does not hold its credential was never
// delivered. Neither credential can reach its runtime, and a redelivered Task Started is a
// duplicate that issues nothing, so without this the credential lives on until the sweep calls
// the grant stuck (minutes) or its TTL ends. Revoke it now and record why, unless an event the
// bus accepted before the crash (a Task Ended, a leak report) will revoke it when it is delivered
// again: that event names the real cause, and the audit chain should say it, not "a restart".
import { ENGINE_ACTOR, type Grant } from '../domain/grant';
import type { AgentRecord } from '../ports';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { closeAsFailed } from './issue-grant';
import { inBatches } from './in-batches';
import { revokeGrant, revokeTargetOf, type RevocationCause } from './revoke-grant';

export const INTERRUPTED_ISSUANCE_REASON =
  'issuance was interrupted by an engine restart; anything issued is revoked, and the delivery holds this denial in its place';
export const INTERRUPTED_DELIVERY_REASON =
  'an engine restart interrupted the delivery or the revocation of this credential (its delivery no longer holds it); it is revoked';

export interface RecoveryReport {
  /** `issuing` grants closed as failed, their credential (if any) revoked. */
  readonly closed: number;
  /** `active` grants whose credential never reached its delivery, revoked. */
  readonly revoked: number;
  /** `active` grants like those, left to an accepted event that revokes them once the bus delivers it again. */
  readonly leftToBacklog: number;
  /** Left to the sweep (an AWS call failed); still due. */
  readonly failed: number;
}

/**
 * Call only when no issuance can be in flight (at the local engine's start), before the bus
 * delivers anything. `revokedByBacklog` says which grants an event the bus holds will revoke.
 */
export async function recoverInterruptedIssuance(
  deps: EngineDeps,
  grants: readonly Grant[],
  revokedByBacklog: (grant: Grant) => boolean = () => false,
): Promise<RecoveryReport> {
  const logger = deps.logger ?? silentLogger;
  const standings = new Map<string, Promise<AgentRecord>>();
  const outcomes = await inBatches(grants, 8, async (grant): Promise<keyof RecoveryReport | undefined> => {
    try {
      if (grant.state === 'issuing') return (await closeInterrupted(deps, grant)) ? 'closed' : undefined;
      if (grant.state === 'active' && !(await deliveryHoldsCredential(deps, grant))) {
        // Its delivery was deleted by a revocation the crash cut short: the credential cannot reach a runtime, and
        // the event's own handler revokes it (idempotently) moments from now, recording who asked and why.
        if (revokedByBacklog(grant)) return 'leftToBacklog';
        await revokeGrant(deps, grant.grantId, await causeOf(deps, grant, standings));
        return 'revoked';
      }
      return undefined;
    } catch (error) {
      logger.error('could not settle an interrupted issuance; the sweep retries', {
        grantId: grant.grantId,
        state: grant.state,
        error: errorCode(error),
      });
      return 'failed';
    }
  });
  return {
    closed: outcomes.filter((outcome) => outcome === 'closed').length,
    revoked: outcomes.filter((outcome) => outcome === 'revoked').length,
    leftToBacklog: outcomes.filter((outcome) => outcome === 'leftToBacklog').length,
    failed: outcomes.filter((outcome) => outcome === 'failed').length,
  };
}

/** Whatever may have been issued is revoked first, then the grant ends `failed` and the runtime is told. */
async function closeInterrupted(deps: EngineDeps, grant: Grant): Promise<boolean> {
  const target = revokeTargetOf(grant);
  await deps.issuers[target.kind].revoke(target);
  return (await closeAsFailed(deps, grant, INTERRUPTED_ISSUANCE_REASON)) !== undefined;
}

/**
 * An `active` grant's revocation deletes its delivery before it writes the grant's end (one write,
 * not two): killed in between, the grant looks undelivered. When its agent is suspended (the kill
 * switch, whose event the bus replays too late to name the cause) or it is past its expiry, it says so.
 * A Task Ended or a leak report still on the bus is left to its event (above); any other cause (an
 * operator's revocation, whose request died with the process) is called an interruption.
 */
async function causeOf(deps: EngineDeps, grant: Grant, standings: Map<string, Promise<AgentRecord>>): Promise<RevocationCause> {
  let standing = standings.get(grant.agentId);
  if (!standing) standings.set(grant.agentId, (standing = deps.store.getAgent(grant.agentId)));
  const agent = await standing;
  const now = deps.clock.now().toISOString();
  if (agent.suspended)
    return {
      trigger: 'suspended',
      by: agent.by ?? ENGINE_ACTOR,
      reason: `agent suspended: ${agent.reason ?? 'no reason given'}`,
      noticeAt: agent.at ?? now,
    };
  // Due: its expiry (the timer or the sweep) was revoking it; said as expire-grant.ts says it.
  if (grant.expiresAt && Date.parse(grant.expiresAt) <= Date.parse(now))
    return { trigger: 'expired', by: ENGINE_ACTOR, reason: `TTL of ${grant.ttlSeconds ?? '?'} s elapsed`, noticeAt: grant.expiresAt };
  return { trigger: 'manual', by: ENGINE_ACTOR, reason: INTERRUPTED_DELIVERY_REASON, noticeAt: now };
}

async function deliveryHoldsCredential(deps: EngineDeps, grant: Grant): Promise<boolean> {
  if (!grant.deliverySecret || !grant.credential) return false;
  const delivery = await deps.vault.read(grant.deliverySecret);
  return delivery?.status === 'issued' && delivery.accessKeyId === grant.credential.accessKeyId;
}
