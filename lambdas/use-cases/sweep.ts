// Use case: the sweep. Reads only grants that are due, and for each one makes the record
// true: expired credentials revoked, revocations retried, dead credentials proved dead,
// still-working ones re-revoked and reported, use after revocation read, stuck requests closed.
import { ENGINE_ACTOR, transition, type Grant } from '../domain/grant';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { outbound } from './outbound';
import { revokeGrant, revokeTargetOf, verifyRevocation, withoutDelivery } from './revoke-grant';
import { closeAsFailed } from './issue-grant';
import { checkUseAfterRevocation } from './check-use-after-revocation';
import { releaseStaleSlots } from './release-stale-slots';
import { inBatches } from './in-batches';

export interface SweepReport {
  readonly dueGrants: number;
  readonly itemsRead: number;
  readonly expired: number;
  readonly verified: number;
  readonly stillValid: number;
  /** Revoked credentials whose recorded calls (CloudTrail) showed use after revocation. */
  readonly usedAfterRevocation: number;
  readonly retried: number;
  readonly closed: number;
  /** Concurrency slots freed because their holder was no longer live. */
  readonly slotsReleased: number;
  readonly errors: number;
}

type Action = 'expired' | 'verified' | 'stillValid' | 'usedAfterRevocation' | 'retried' | 'closed' | 'none';

const PARALLEL = 8;

export async function sweepDueGrants(deps: EngineDeps, limit = 1000): Promise<SweepReport> {
  const now = deps.clock.now();
  const page = await deps.store.dueGrants(now, limit);
  const counts = { expired: 0, verified: 0, stillValid: 0, usedAfterRevocation: 0, retried: 0, closed: 0, none: 0, errors: 0 };
  for (const action of await inBatches(page.grants, PARALLEL, (grant) => sweepOne(deps, grant)))
    counts[action === 'error' ? 'errors' : action]++;
  const slotsReleased = await releaseStaleSlots(deps).catch((error: unknown) => {
    (deps.logger ?? silentLogger).error('sweep could not reconcile concurrency slots', { error: errorCode(error) });
    counts.errors++;
    return 0;
  });
  return { dueGrants: page.grants.length, itemsRead: page.itemsRead, ...counts, slotsReleased };
}

async function sweepOne(deps: EngineDeps, grant: Grant): Promise<Action | 'error'> {
  try {
    return await settle(deps, grant);
  } catch (error) {
    // One bad grant must not stop the sweep; it stays due and is tried again next time.
    (deps.logger ?? silentLogger).error('sweep could not settle a grant', {
      grantId: grant.grantId,
      state: grant.state,
      error: errorCode(error),
    });
    return 'error';
  }
}

async function settle(deps: EngineDeps, grant: Grant): Promise<Action> {
  const now = deps.clock.now().toISOString();
  switch (grant.state) {
    case 'active': {
      await revokeGrant(deps, grant.grantId, {
        trigger: 'expired',
        by: ENGINE_ACTOR,
        reason: 'expired (found by the sweep)',
        noticeAt: grant.expiresAt ?? now,
      });
      return 'expired';
    }
    case 'revoking': {
      await revokeGrant(deps, grant.grantId, revocationCauseOf(grant, now));
      return 'retried';
    }
    case 'revoked':
      return probeRevoked(deps, grant, now);
    case 'pending_approval': {
      if (!grant.approvalDeadline || now <= grant.approvalDeadline) return 'none';
      await revokeGrant(deps, grant.grantId, {
        trigger: 'expired',
        by: ENGINE_ACTOR,
        reason: `approval window closed at ${grant.approvalDeadline}`,
        noticeAt: now,
      });
      return 'closed';
    }
    case 'requested':
    case 'issuing':
      return closeStuck(deps, grant, now);
    case 'denied':
    case 'failed':
      return (await withoutDelivery(deps, grant, now)) ? 'closed' : 'none';
    case 'verified': {
      // A delivery a kill switch left (revoke-grant.ts, deferDeliveryDeletion) goes first; the use check when it is due.
      const current = grant.deliverySecret ? await withoutDelivery(deps, grant, now) : grant;
      if (!current) return 'none';
      if (current.misuseCheckAt !== undefined && current.misuseCheckAt <= now)
        return (await checkUseAfterRevocation(deps, current, new Date(now))) === 'used' ? 'usedAfterRevocation' : 'none';
      return grant.deliverySecret ? 'closed' : 'none';
    }
  }
}

function revocationCauseOf(grant: Grant, now: string) {
  return grant.revocation ?? { trigger: 'manual' as const, noticeAt: now, by: ENGINE_ACTOR, reason: 'revocation retried by the sweep' };
}

/** A revoked credential is probed again; if it still works it is reported and revoked again. */
async function probeRevoked(deps: EngineDeps, grant: Grant, now: string): Promise<Action> {
  const result = await verifyRevocation(deps, grant);
  if (result.outcome === 'verified') return 'verified';
  if (result.outcome !== 'revoked-unverified' || result.probe !== 'accepted') return 'none';
  const target = revokeTargetOf(grant);
  const noticeAt = grant.revocation?.noticeAt ?? grant.revokedAt ?? now;
  const stillValidAfterNoticeMs = Date.parse(now) - Date.parse(noticeAt);
  const current = result.grant;
  const again = transition(current, {
    to: 'revoking',
    at: now,
    actor: ENGINE_ACTOR,
    action: 'still-valid',
    reason: `credential still accepted ${Math.round(stillValidAfterNoticeMs / 1000)} s after notice; revoking again`,
  });
  const written = await deps.store.update(current, again);
  if (!written.ok) return 'none';
  await deps.events.publish([
    outbound('Credential Still Valid', written.grant, now, {
      stillValidAfterNoticeMs,
      reason: 'the probe was accepted after revocation',
      credentialId: target.accessKeyId,
    }),
  ]);
  await revokeGrant(deps, grant.grantId, revocationCauseOf(grant, now));
  return 'stillValid';
}

/** Issuance that never finished: whatever may exist is revoked and the grant closed as failed. */
async function closeStuck(deps: EngineDeps, grant: Grant, now: string): Promise<Action> {
  const reason = `stuck in ${grant.state} since ${grant.updatedAt}`;
  if (grant.state === 'requested') {
    await revokeGrant(deps, grant.grantId, { trigger: 'manual', by: ENGINE_ACTOR, reason, noticeAt: now });
    return 'closed';
  }
  const target = revokeTargetOf(grant);
  try {
    await deps.issuers[target.kind].revoke(target);
  } catch (error) {
    // A credential may exist that no record names as issued: say so, as a failed revocation
    // would. The grant stays `issuing` and due, so the next sweep tries again.
    const why = `revocation of an unfinished issuance failed (${errorCode(error)}); the sweep retries`;
    await deps.events.publish([outbound('Revocation Failed', grant, now, { reason: why })]);
    return 'retried';
  }
  return (await closeAsFailed(deps, grant, reason)) ? 'closed' : 'none';
}
