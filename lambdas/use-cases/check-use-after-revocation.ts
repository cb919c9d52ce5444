// Use case: reads the platform's record of a revoked credential's calls (CloudTrail, minutes
// late) and reports any call after the revocation that was not the engine's own probe.
import { bump, ENGINE_ACTOR, note, type Grant } from '../domain/grant';
import { callsAfterRevocation, firstRevokedAt, useCheckWindow, type RecordedCall } from '../domain/use-after-revocation';
import type { EngineDeps } from './engine-deps';
import { outbound } from './outbound';

/** How many calls an event and an alert list; the count says how many there were. */
const LISTED_CALLS = 20;

export type UseCheckOutcome = 'none' | 'used';

/**
 * One read of the record for a `verified` grant that is due for it. Nothing found: the read
 * moves on quietly (the last read notes that the record was clean). Calls found: the audit
 * chain notes them and `Credential Used After Revocation` names each call, when and from where.
 */
export async function checkUseAfterRevocation(deps: EngineDeps, grant: Grant, now: Date): Promise<UseCheckOutcome> {
  const at = now.toISOString();
  const accessKeyId = grant.credential?.accessKeyId;
  const window = deps.useCheckTiming ? useCheckWindow(grant, now, deps.useCheckTiming) : undefined;
  if (!deps.useLog || !accessKeyId || !window) {
    // Nothing to read with (this platform keeps no record) or nothing to read: stop asking.
    await deps.store.update(grant, bump(grant, at, { misuseCheckAt: undefined }));
    return 'none';
  }
  const recorded = await deps.useLog.callsWith(accessKeyId, window.from, window.to, grant.account);
  const inWindow = recorded.filter((call) => call.eventTime >= window.from && call.eventTime < window.to);
  const suspicious = callsAfterRevocation(grant, inWindow);
  const changes = { misuseCheckAt: window.nextAt, useReadThrough: window.to.toISOString() };
  const span = `${window.from.toISOString()} to ${window.to.toISOString()}`;
  const revokedAt = firstRevokedAt(grant);
  const next =
    suspicious.length > 0
      ? note(grant, {
          at,
          actor: ENGINE_ACTOR,
          action: 'used-after-revocation',
          reason: `${suspicious.length} call(s) with the credential after its revocation at ${revokedAt} (possible misuse)`,
          detail: { from: window.from.toISOString(), to: window.to.toISOString(), calls: suspicious.slice(0, LISTED_CALLS).map(describe) },
          changes,
        })
      : window.nextAt === undefined
        ? note(grant, {
            at,
            actor: ENGINE_ACTOR,
            action: 'use-check',
            reason: `no call recorded after revocation (last read: ${span})`,
            changes,
          })
        : bump(grant, at, changes);
  const written = await deps.store.update(grant, next);
  if (!written.ok || suspicious.length === 0) return 'none';
  await deps.events.publish([
    outbound('Credential Used After Revocation', written.grant, at, {
      reason: `the credential was used ${suspicious.length} time(s) after it was revoked at ${revokedAt} (${span}): possible misuse`,
      possibleMisuse: true,
      revokedAt,
      firstUseAt: suspicious[0]!.eventTime.toISOString(),
      callCount: suspicious.length,
      calls: suspicious.slice(0, LISTED_CALLS).map(describe),
    }),
  ]);
  return 'used';
}

/** What a call is reported as: names, time, origin, refusal. Never parameters. */
function describe(call: RecordedCall) {
  return {
    eventName: call.eventName,
    eventSource: call.eventSource,
    eventTime: call.eventTime.toISOString(),
    ...(call.sourceIp ? { sourceIp: call.sourceIp } : {}),
    ...(call.errorCode ? { errorCode: call.errorCode } : {}),
    eventId: call.eventId,
  };
}
