// Use case step: issue an approved grant's credential, deliver it, schedule its expiry.
// Shared by start-task (auto-approved) and decide-grant (approved by people).
import { ENGINE_ACTOR, FINAL_STATES, transition, type Grant } from '../domain/grant';
import { UnissuableRequestError } from '../domain/errors';
import type { Entitlement } from '../domain/evaluate';
import type { DeliveryPayload, IssuedCredential } from '../ports';
import { deliverySecretName } from '../domain/ids';
import type { OutboundEvent } from '../domain/events';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { outbound } from './outbound';
import { revokeGrant, revokeTargetOf, type RevocationCause } from './revoke-grant';
import { announceDenial, deliverStatus, prepareDelivery, stageDelivery } from './deliver-status';

export type IssueResult =
  | { readonly outcome: 'issued'; readonly grant: Grant }
  | { readonly outcome: 'failed'; readonly grant: Grant; readonly reason: string }
  | { readonly outcome: 'revoked-during-issue'; readonly grant: Grant };

/**
 * `grant` must be in `issuing`; the credential exists only after this returns `issued`.
 * `earlier` are events still to publish (e.g. `Grant Requested`); they go out with this step's own.
 */
export async function issueGrant(
  deps: EngineDeps,
  grant: Grant,
  entitlement: Entitlement,
  earlier: readonly OutboundEvent[] = [],
): Promise<IssueResult> {
  const logger = deps.logger ?? silentLogger;
  const issuer = deps.issuers[entitlement.credentialKind];
  const expiresAt = new Date(deps.clock.now().getTime() + entitlement.ttlSeconds * 1000);
  // The delivery is created and locked while the credential is made: once it exists, only its value is left to write.
  const prepared = prepareDelivery(deps, grant, entitlement.agent.runtimePrincipal, expiresAt.toISOString());
  let credential: IssuedCredential;
  try {
    credential = await issuer.issue({
      grantId: grant.grantId,
      taskId: grant.taskId,
      agentId: grant.agentId,
      kind: entitlement.credentialKind,
      ...(grant.account ? { account: grant.account } : {}),
      statements: entitlement.statements,
      brokeredSecretArns: entitlement.brokeredSecrets.map((secret) => secret.arn),
      ttlSeconds: entitlement.ttlSeconds,
      expiresAt,
    });
  } catch (error) {
    const refused = error instanceof UnissuableRequestError;
    const reason = refused ? error.message : `credential issuance failed (${errorCode(error)})`;
    logger.error('credential issuance failed', { grantId: grant.grantId, error: errorCode(error) });
    // The denial goes into the delivery once its preparation has settled, not beside it.
    await prepared;
    // A request the platform refused left nothing behind; anything else may have half-issued.
    return failIssue(deps, grant, reason, earlier, !refused);
  }

  const now = deps.clock.now().toISOString();
  const active = transition(grant, {
    to: 'active',
    at: now,
    actor: ENGINE_ACTOR,
    action: 'issued',
    detail: { credentialId: credential.accessKeyId, principalArn: credential.principalArn, expiresAt: credential.expiresAt.toISOString() },
    changes: {
      credential: {
        kind: credential.kind,
        accessKeyId: credential.accessKeyId,
        principalArn: credential.principalArn,
        expiresAt: credential.expiresAt.toISOString(),
      },
      expiresAt: credential.expiresAt.toISOString(),
    },
  });
  const issued: Omit<DeliveryPayload, 'grantId' | 'scopes'> = {
    status: 'issued',
    kind: credential.kind,
    accessKeyId: credential.accessKeyId,
    secretAccessKey: credential.secretAccessKey,
    ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
    expiration: credential.expiresAt.toISOString(),
  };
  const runtime = entitlement.agent.runtimePrincipal;
  // The delivery's secret exists before the grant goes `active` (prepared, or staged with the
  // credential where the delivery key locks the value): a revoker claims an active grant only after
  // that, so its delete comes after our create, and the write below then fails instead of landing
  // in a secret it already deleted (and recorded gone).
  const staged = await stageDelivery(deps, grant, runtime, issued, credential.expiresAt.toISOString());
  const preparedAddress = await prepared;
  // Recorded before it is delivered: whatever the runtime can hold, the store knows of (a leak
  // report by its key id finds it; a crash from here on still expires it on time).
  const written = await deps.store.update(grant, active);
  if (!written.ok) {
    // The task ended (or the agent was suspended) while we were issuing: the grant is now
    // revoking and the revoker may have run before our credential existed. Finish the job.
    const revoked = await revokeAfterIssue(deps, grant, earlier, { trigger: 'task_ended', reason: 'revoked while issuing', noticeAt: now });
    // A revoker that settled the grant before our credential existed revoked nothing, and a settled
    // grant is not revoked again: revoke ours here, or it would live to its TTL. A failure fails the run.
    if (revoked && FINAL_STATES.includes(revoked.state))
      await issuer.revoke({ ...revokeTargetOf(grant), accessKeyId: credential.accessKeyId, expiresAt: credential.expiresAt });
    // The revoker may have deleted the delivery before our preparation (or staging) created it, and recorded it gone: delete it again.
    const createdAhead = preparedAddress?.name ?? (staged === 'created' ? deliverySecretName(grant.agentId, grant.taskId) : undefined);
    if (createdAhead && revoked && !revoked.deliverySecret) await deps.vault.destroy(createdAhead);
    return { outcome: 'revoked-during-issue', grant: revoked ?? grant };
  }
  // The expiry and the delivery do not depend on each other: both at once (the runtime is waiting).
  const [scheduled, delivered] = await Promise.allSettled([
    deps.expiry.scheduleExpiry(grant.grantId, credential.expiresAt),
    deliverStatus(deps, written.grant, runtime, issued, credential.expiresAt.toISOString(), { prepared, staged }),
  ]);
  // Neither prepared nor staged (that failed, or the credential's expiry differs from the one tagged):
  // the delivery created the secret itself, perhaps after a revoker had deleted it. Look once.
  if (delivered.status === 'fulfilled' && !delivered.value.createdAhead) await removeIfRevoked(deps, written.grant);
  if (delivered.status === 'rejected') {
    // A credential its runtime cannot receive serves no one: revoke it now rather than at its TTL.
    const reason = `delivery failed (${errorCode(delivered.reason)})`;
    logger.error('delivery failed; revoking the credential', { grantId: grant.grantId, error: errorCode(delivered.reason) });
    const revoked = await revokeAfterIssue(deps, grant, earlier, { trigger: 'manual', reason, noticeAt: deps.clock.now().toISOString() });
    return { outcome: 'failed', grant: revoked ?? written.grant, reason };
  }
  // Delivered but not scheduled: the run fails and is retried; the due index expires it meanwhile.
  if (scheduled.status === 'rejected') throw scheduled.reason;
  // The approval that completed a held request reaches no `Grant Pending Approval`: name its person
  // here, so the request's message lists every approver, not all but the last.
  const completedBy = written.grant.approvals.at(-1)?.approver;
  await deps.events.publish([
    ...earlier,
    outbound('Grant Issued', written.grant, now, {
      ttlSeconds: entitlement.ttlSeconds,
      ...(completedBy === undefined ? {} : { approver: completedBy }),
    }),
  ]);
  return { outcome: 'issued', grant: written.grant };
}

/** A revoker that ran while the delivery was created had nothing to delete yet: delete what we wrote. */
async function removeIfRevoked(deps: EngineDeps, issued: Grant): Promise<void> {
  const now = await deps.store.get(issued.grantId);
  if (now && now.state !== 'active' && issued.deliverySecret) await deps.vault.destroy(issued.deliverySecret);
}

/** Issued, but not to be used: the pending events go out first, then the revocation's own. */
async function revokeAfterIssue(
  deps: EngineDeps,
  grant: Grant,
  earlier: readonly OutboundEvent[],
  cause: Pick<RevocationCause, 'trigger' | 'reason' | 'noticeAt'>,
): Promise<Grant | undefined> {
  if (earlier.length > 0) await deps.events.publish(earlier);
  return (await revokeGrant(deps, grant.grantId, { ...cause, by: ENGINE_ACTOR })).grant;
}

async function failIssue(
  deps: EngineDeps,
  grant: Grant,
  reason: string,
  earlier: readonly OutboundEvent[],
  mayHaveIssued: boolean,
): Promise<IssueResult> {
  // Issuance may have half-happened (a user without a key, a key without a delivery): clean up first.
  // Not for a refused request: revoking a session that never existed would still spend the
  // agent role's deny budget on it.
  if (mayHaveIssued) await deps.issuers[revokeTargetOf(grant).kind].revoke(revokeTargetOf(grant));
  const closed = await closeAsFailed(deps, grant, reason, earlier);
  return { outcome: 'failed', grant: closed ?? grant, reason };
}

/**
 * An issuance that did not complete, its credential (if any) already revoked: the grant ends
 * `failed` and the runtime is told why. Undefined when the grant changed under us (a task
 * end or a suspension took it over, and says so itself).
 */
export async function closeAsFailed(
  deps: EngineDeps,
  grant: Grant,
  reason: string,
  earlier: readonly OutboundEvent[] = [],
): Promise<Grant | undefined> {
  const now = deps.clock.now().toISOString();
  const failed = transition(grant, { to: 'failed', at: now, actor: ENGINE_ACTOR, action: 'issue-failed', reason, changes: { reason } });
  const written = await deps.store.update(grant, failed);
  if (!written.ok) return undefined;
  await announceDenial(deps, written.grant, reason, now, earlier);
  return written.grant;
}
