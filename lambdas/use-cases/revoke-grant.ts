// Use case: revoke a grant's credential for any trigger, then prove it dead. Every step
// is a conditional write on the grant's current state, so duplicates and races are harmless.
import { bump, ENGINE_ACTOR, transition, type Grant, type RevocationTrigger } from '../domain/grant';
import type { DeliveryPayload, ProbePatience, RevokeTarget } from '../ports';
import { PROOF_PENDING } from '../domain/events';
import { firstRevokedAt, firstUseCheckAt } from '../domain/use-after-revocation';
import { TaskboundError } from '../domain/errors';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { outbound } from './outbound';
import { announceDenial } from './deliver-status';

export interface RevocationCause {
  readonly trigger: RevocationTrigger;
  readonly by: string;
  readonly reason: string;
  /** When the engine learnt the credential must die (the clock for "still valid after notice"). */
  readonly noticeAt: string;
  readonly systemsTouched?: readonly string[];
}

export type RevokeResult =
  | { readonly outcome: 'not-found'; readonly grant?: undefined }
  | { readonly outcome: 'already-revoked' | 'denied-before-issue' | 'verified' | 'revocation-failed'; readonly grant: Grant }
  | { readonly outcome: 'revoked-unverified'; readonly grant: Grant; readonly probe: 'accepted' | 'unknown' };

const MAX_RACES = 5;

/** What a caller revoking many grants at once (the kill switch) already knows. */
export interface RevokeOptions {
  /**
   * The grant as just listed, used instead of the first read. A stale copy costs nothing but a
   * refused conditional write, after which the grant is read again.
   */
  readonly listed?: Grant;
  /** Its credential is dead already (the agent-wide step, or a revoke made just before): `revoke` is not called again. */
  readonly credentialRevoked?: boolean;
  /**
   * The listed grant's delivery, read in a batch with others': used instead of reading it again
   * when the listed copy is the one revoked (and it holds that grant's credential).
   */
  readonly delivery?: DeliveryPayload;
  /**
   * The kill switch: a grant proven dead is recorded `verified` still naming its delivery, which the
   * caller deletes once every grant is verified (and the sweep, should it not). The proof waits for no
   * deletion, so 1,000 grants are not held behind Secrets Manager's 50 `DeleteSecret` a second.
   */
  readonly deferDeliveryDeletion?: boolean;
}

/** How a revocation is proven (verifyRevocation). */
export interface VerifyOptions {
  /** What the store holds: the grant itself (the default), or its `active` version when the claim rides with the result. */
  readonly stored?: Grant;
  /** The grant's delivery, read before in a batch. */
  readonly delivery?: DeliveryPayload;
  readonly patience?: ProbePatience;
  /** Leave the delivery to the caller (RevokeOptions.deferDeliveryDeletion). */
  readonly deferDeliveryDeletion?: boolean;
}

export function revokeTargetOf(grant: Grant): RevokeTarget {
  const issuedAt = grant.audit.find((entry) => entry.action === 'issued')?.at;
  return {
    grantId: grant.grantId,
    agentId: grant.agentId,
    taskId: grant.taskId,
    kind: grant.credentialKind ?? grant.credential?.kind ?? 'aws-sts-session',
    ...(grant.account ? { account: grant.account } : {}),
    ...(grant.credential ? { accessKeyId: grant.credential.accessKeyId } : {}),
    ...(grant.expiresAt ? { expiresAt: new Date(grant.expiresAt) } : {}),
    ...(issuedAt ? { issuedAt: new Date(issuedAt) } : {}),
  };
}

/** Revokes the grant's credential (if any), rotates what it touched, and verifies it dead. */
export async function revokeGrant(
  deps: EngineDeps,
  grantId: string,
  cause: RevocationCause,
  options: RevokeOptions = {},
): Promise<RevokeResult> {
  let credentialRevoked = options.credentialRevoked === true;
  for (let attempt = 0; attempt < MAX_RACES; attempt++) {
    // First the copy the caller listed or this process remembers (a stale one costs a refused write), then the store's.
    const guess = attempt === 0 ? (options.listed ?? deps.store.recent?.(grantId)) : undefined;
    const grant = guess ?? (await deps.store.get(grantId));
    if (!grant) return { outcome: 'not-found' };
    const claimed = await claim(deps, grant, cause);
    if (claimed === 'lost-race') continue;
    if ('outcome' in claimed) return claimed;
    // Killed already, its proof pending (handed on, or due for the sweep): one probe here, never a wait in this slot.
    if (claimed.state === 'revoked')
      return verifyRevocation(deps, claimed, { patience: patienceOf(deps), deferDeliveryDeletion: options.deferDeliveryDeletion });
    // An active grant's claim is not written first: the credential exists and is recorded, so
    // revoking at once is safe and the claim rides with the result (one write, and the
    // credential dies one round trip sooner). A crash before that write leaves the grant
    // `active`: the trigger's redelivery (or the expiry) revokes again, which is idempotent.
    const written = claimed.state === 'revoking' && grant.state === 'active' ? grant : claimed;
    const delivery = grant === options.listed ? options.delivery : undefined;
    const finished = await finishRevocation(deps, claimed, credentialRevoked, {
      stored: written,
      delivery,
      deferDeliveryDeletion: options.deferDeliveryDeletion,
    });
    if (finished === 'lost-race') continue;
    // The write was refused and the grant is still `active` (a stale listing, or another change
    // to it meanwhile): its credential is dead, but its record must say so too. Read it again.
    if (finished.outcome === 'already-revoked' && finished.grant.state === 'active') {
      credentialRevoked ||= grant.credential?.accessKeyId === finished.grant.credential?.accessKeyId;
      continue;
    }
    return finished;
  }
  throw new Error(`grant ${grantId} kept changing under revocation`);
}

type Claim = Grant | RevokeResult | 'lost-race';

/** Moves the grant into `revoking` (or `denied` if nothing was ever issued); an `active` grant's claim is returned unwritten. */
async function claim(deps: EngineDeps, grant: Grant, cause: RevocationCause): Promise<Claim> {
  const now = deps.clock.now().toISOString();
  switch (grant.state) {
    case 'verified':
      // Said again only for a redelivery of the trigger that revoked it (the first run may
      // have died before publishing); another trigger on a dead credential is news to no one.
      if (grant.revocation?.trigger === cause.trigger) {
        await deps.events.publish([outbound('Grant Revoked', grant, now), outbound('Revocation Verified', grant, now)]);
      }
      return { outcome: 'already-revoked', grant };
    case 'denied':
    case 'failed':
      return { outcome: 'already-revoked', grant };
    case 'revoking':
    case 'revoked':
      return grant;
    case 'requested':
    case 'pending_approval': {
      const reason = `${cause.trigger.replace('_', ' ')} before a credential was issued: ${cause.reason}`;
      const denied = transition(grant, { to: 'denied', at: now, actor: cause.by, action: 'denied', reason, changes: { reason } });
      const written = await deps.store.update(grant, denied);
      if (!written.ok) return 'lost-race';
      await announceDenial(deps, written.grant, reason, now);
      return { outcome: 'denied-before-issue', grant: written.grant };
    }
    case 'issuing':
    case 'active': {
      const revoking = transition(grant, {
        to: 'revoking',
        at: now,
        actor: cause.by,
        action: `revoke:${cause.trigger}`,
        reason: cause.reason,
        ...(cause.systemsTouched ? { detail: { systemsTouched: cause.systemsTouched } } : {}),
        changes: {
          revocation: { trigger: cause.trigger, noticeAt: cause.noticeAt, by: cause.by, reason: cause.reason },
          ...(cause.systemsTouched ? { systemsTouched: cause.systemsTouched } : {}),
        },
      });
      // `issuing`: the claim must be stored before anything is revoked, so the issuer's own
      // write fails and it revokes what it made. `active`: written with the result (revokeGrant).
      if (grant.state === 'active') return revoking;
      const written = await deps.store.update(grant, revoking);
      return written.ok ? written.grant : 'lost-race';
    }
  }
}

/**
 * Revokes the credential of `grant` (in `revoking`; `proof.stored` is what the store holds, the same
 * grant or its `active` version when the claim was not written yet), unless the caller revoked it
 * already. On failure the claim is written, `Revocation Failed` is said, and the sweep retries.
 */
async function finishRevocation(
  deps: EngineDeps,
  grant: Grant,
  credentialRevoked: boolean,
  proof: VerifyOptions & { readonly stored: Grant },
): Promise<RevokeResult | 'lost-race'> {
  const logger = deps.logger ?? silentLogger;
  const stored = proof.stored;
  const target = revokeTargetOf(grant);
  try {
    if (!credentialRevoked) await deps.issuers[target.kind].revoke(target);
  } catch (error) {
    const code = errorCode(error);
    logger.error('revocation failed; the sweep will retry', { grantId: grant.grantId, error: code });
    let claimed = grant;
    if (stored !== grant) {
      // The claim was to ride with the result: write it now, so the sweep finds the grant revoking.
      const written = await deps.store.update(stored, grant);
      if (!written.ok) return 'lost-race';
      claimed = written.grant;
    }
    const now = deps.clock.now().toISOString();
    await deps.events.publish([
      outbound('Revocation Failed', claimed, now, {
        reason: `revocation failed${claimed.account ? ` in account ${claimed.account}` : ''} (${explained(error, code)}); the sweep retries`,
      }),
    ]);
    return { outcome: 'revocation-failed', grant: claimed };
  }
  // Stamped as the revocation returns, before the cancel and rotation, so the propagation measured from it is not inflated by them.
  const now = deps.clock.now().toISOString();
  await Promise.all([cancelExpiry(deps, grant), rotateTouchedSecrets(deps, grant)]);
  const revoked = transition(grant, { to: 'revoked', at: now, actor: ENGINE_ACTOR, action: 'revoked', changes: { revokedAt: now } });
  return verifyRevocation(deps, revoked, { ...proof, patience: patienceOf(deps) });
}

/** One probe where a function of its own proves what that probe could not (the proof handed on), else until refused. */
const patienceOf = (deps: EngineDeps): ProbePatience => (deps.handOffProofs ? 'one-probe' : 'until-refused');

/**
 * Probes the credential. Rejected: the delivery secret is deleted and the grant is
 * `verified`, with the propagation time when a call was seen refused. Still accepted (IAM
 * takes seconds to forget a key or to enforce a session's deny): the grant stays `revoked`
 * and the sweep probes again; after a `one-probe` verification its `Grant Revoked` says
 * `proof: pending`, which the prove-revocation function acts on at once.
 */
export async function verifyRevocation(deps: EngineDeps, revoked: Grant, options: VerifyOptions = {}): Promise<RevokeResult> {
  const { stored = revoked, delivery, patience = 'until-refused', deferDeliveryDeletion = false } = options;
  const target = revokeTargetOf(revoked);
  // A delivery read before (in a batch) counts only if it holds this grant's credential; otherwise it is read now.
  const prefetched = delivery && sameCredential(delivery, revoked) ? delivery : undefined;
  const material = prefetched ?? (revoked.deliverySecret ? await deps.vault.read(revoked.deliverySecret) : undefined);
  const usable =
    material?.status === 'issued' && material.accessKeyId && material.secretAccessKey
      ? {
          accessKeyId: material.accessKeyId,
          secretAccessKey: material.secretAccessKey,
          ...(material.sessionToken ? { sessionToken: material.sessionToken } : {}),
        }
      : undefined;
  const verdict = await deps.issuers[target.kind].verify(target, usable, patience);
  const now = deps.clock.now().toISOString();
  // The proof handed on (one probe, still honoured): the prove-revocation function's route matches `proof`.
  const handedOn = patience === 'one-probe' && verdict.verdict !== 'rejected';
  const events = stored.state === 'revoked' ? [] : [outbound('Grant Revoked', revoked, now, handedOn ? { proof: PROOF_PENDING } : {})];
  if (verdict.verdict !== 'rejected') {
    // Already `revoked` (the sweep probing again): only the due time moves on.
    const next = revoked === stored ? bump(revoked, now, { reason: `verification pending (probe: ${verdict.verdict})` }) : revoked;
    const written = await deps.store.update(stored, next);
    if (!written.ok) return { outcome: 'already-revoked', grant: written.current ?? revoked };
    await deps.events.publish(events);
    return { outcome: 'revoked-unverified', grant: written.grant, probe: verdict.verdict };
  }
  if (revoked.deliverySecret && !deferDeliveryDeletion) await deps.vault.destroy(revoked.deliverySecret);
  const useCheck =
    deps.useCheckTiming && revoked.credential
      ? { misuseCheckAt: firstUseCheckAt({ ...revoked, verifiedAt: now }, deps.useCheckTiming) }
      : {};
  // Seen, not inferred: the time from the revocation's write to the first refused call.
  const revokedAt = firstRevokedAt(revoked);
  const propagationMs = verdict.observed && revokedAt ? Math.max(0, Date.parse(now) - Date.parse(revokedAt)) : undefined;
  const verified = transition(revoked, {
    to: 'verified',
    at: now,
    actor: ENGINE_ACTOR,
    action: 'verified',
    reason: verdict.observed
      ? `a call with the credential was refused (${verdict.code})`
      : `the platform shows the credential dead (${verdict.code}); not probed`,
    detail: { probe: verdict.code, observed: verdict.observed === true, ...(propagationMs !== undefined ? { propagationMs } : {}) },
    // A deferred deletion keeps the delivery's name on the record: the grant stays due until it is gone (due.ts).
    changes: { verifiedAt: now, ...(deferDeliveryDeletion ? {} : { deliverySecret: undefined }), ...useCheck },
  });
  const written = await deps.store.update(stored, verified);
  if (!written.ok) return { outcome: 'already-revoked', grant: written.current ?? verified };
  await deps.events.publish([
    ...events,
    outbound('Revocation Verified', written.grant, now, {
      reason: verdict.code,
      observed: verdict.observed === true,
      ...(propagationMs !== undefined ? { propagationMs } : {}),
    }),
  ]);
  return { outcome: 'verified', grant: written.grant };
}

/** A delivery read earlier still speaks for the grant if it holds the credential the grant records. */
function sameCredential(payload: DeliveryPayload, grant: Grant): boolean {
  return payload.grantId === grant.grantId && payload.accessKeyId !== undefined && payload.accessKeyId === grant.credential?.accessKeyId;
}

async function cancelExpiry(deps: EngineDeps, grant: Grant): Promise<void> {
  try {
    await deps.expiry.cancelExpiry(grant.grantId);
  } catch (error) {
    // A schedule left behind fires into a revoked grant, which is a no-op: log, don't fail.
    (deps.logger ?? silentLogger).warn('could not cancel expiry schedule', { grantId: grant.grantId, error: errorCode(error) });
  }
}

async function rotateTouchedSecrets(deps: EngineDeps, grant: Grant): Promise<void> {
  const toRotate = grant.brokeredSecrets.filter((secret) => secret.rotateAfterUse);
  if (toRotate.length === 0 || !deps.rotator) return;
  const rotator = deps.rotator;
  await Promise.all(
    toRotate.map(async (secret) => {
      try {
        await rotator.rotate(secret.arn);
      } catch (error) {
        const now = deps.clock.now().toISOString();
        await deps.events.publish([
          outbound('Revocation Failed', grant, now, {
            reason: `rotation of a brokered secret failed (${errorCode(error)})`,
            secretArn: secret.arn,
          }),
        ]);
      }
    }),
  );
}

/**
 * The error's code, with its message when the engine wrote it (a TaskboundError says what to fix:
 * a spoke it cannot reach, an account the policy no longer names); an AWS SDK error's message is
 * left out, as it may name sessions and principals.
 */
function explained(error: unknown, code: string): string {
  return error instanceof TaskboundError ? `${code}: ${error.message}` : code;
}

/**
 * Deletes a settled grant's delivery and records it gone: a denial's, once readable for its hour
 * (docs/contract.md §5), or a verified grant's once its kill switch's proofs are done (by it, else by the sweep). The grant as
 * written, or undefined when it had changed meanwhile (it stays due).
 */
export async function withoutDelivery(deps: EngineDeps, grant: Grant, now: string): Promise<Grant | undefined> {
  if (!grant.deliverySecret) return undefined;
  await deps.vault.destroy(grant.deliverySecret);
  const written = await deps.store.update(grant, bump(grant, now, { deliverySecret: undefined }));
  return written.ok ? written.grant : undefined;
}
