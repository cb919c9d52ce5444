// Use case: `Credential Leaked` (or AWS Health's exposed-key event) → find the grant that
// issued the credential and revoke it at once, then prove it dead.
import { namedByLeak } from '../domain/leak-target';
import { ENGINE_ACTOR, type Grant } from '../domain/grant';
import type { CredentialLeaked } from '../domain/events';
import { pause, type EngineDeps } from './engine-deps';
import { recordRejection, type RawEvent } from './reject-event';
import { revokeGrant, type RevokeResult } from './revoke-grant';

export type LeakResult = RevokeResult | { readonly outcome: 'unknown-credential'; readonly credentialId: string };

async function findGrant(deps: EngineDeps, credentialId: string): Promise<Grant | undefined> {
  const named = namedByLeak(credentialId);
  if ('accessKeyId' in named) return deps.store.findByCredentialId(named.accessKeyId);
  for (const grantId of named.grantIds) {
    const grant = await deps.store.get(grantId);
    if (grant) return grant;
  }
  return undefined;
}

/**
 * A reported id as it may be recorded: an access key id or a delivery's name or ARN is an
 * identifier; anything else may be the secret itself, pasted into the wrong field, so only its size is kept.
 */
function recordable(credentialId: string): string {
  const named = namedByLeak(credentialId.trim());
  const identifier = 'accessKeyId' in named || named.grantIds.length > 0;
  return identifier
    ? credentialId.slice(0, 128)
    : `(not recorded: ${credentialId.length} characters, not an access key id or delivery name)`;
}

/**
 * How long before a reported access key id is looked up once more. The grant records its key id
 * only once the credential exists, a moment after its delivery is readable (it is staged first:
 * docs/contract.md §5), and the index it is found by is eventually consistent on AWS: a report made
 * right after the issue would otherwise be taken for a key Taskbound never issued, and revoke nothing.
 */
export const LEAK_LOOKUP_AGAIN_MS = 2_000;

/** The grant, or after `LEAK_LOOKUP_AGAIN_MS` a second look for an access key id (a delivery's name is read consistently). */
async function findGrantPatiently(deps: EngineDeps, credentialId: string): Promise<Grant | undefined> {
  const found = await findGrant(deps, credentialId);
  if (found || !('accessKeyId' in namedByLeak(credentialId))) return found;
  await pause(deps, LEAK_LOOKUP_AGAIN_MS);
  return findGrant(deps, credentialId);
}

export async function reportLeak(deps: EngineDeps, report: CredentialLeaked): Promise<LeakResult> {
  const grant = await findGrantPatiently(deps, report.credentialId.trim());
  if (!grant) {
    // Not ours (or not any more): kept as a refused event so someone looks at it.
    await deps.store.recordRejectedEvent({
      at: deps.clock.now().toISOString(),
      detailType: 'Credential Leaked',
      source: report.reportedBy.slice(0, 256),
      reason: 'the reported credential was not issued by Taskbound (no grant holds it)',
      excerpt: JSON.stringify({ credentialId: recordable(report.credentialId), reportedBy: report.reportedBy }),
    });
    return { outcome: 'unknown-credential', credentialId: report.credentialId };
  }
  const now = deps.clock.now().toISOString();
  return revokeGrant(deps, grant.grantId, {
    trigger: 'leaked',
    by: report.reportedBy,
    // Evidence is whatever the reporter pasted, often the leaked secret itself: the reason goes
    // into events, the audit chain and Slack, so it only says that evidence was given.
    reason: report.evidence
      ? `reported leaked by ${report.reportedBy.slice(0, 128)} (evidence given, ${report.evidence.length} characters, not recorded)`
      : `reported leaked by ${report.reportedBy.slice(0, 128)}`,
    noticeAt: now,
  });
}

/**
 * A `Credential Leaked` that failed validation (evidence over 4 KB, a field the schema does not
 * know, no `reportedBy`): recorded like any invalid event, without its secret-bearing fields, and
 * when its `credentialId` names a credential Taskbound issued, that credential is revoked anyway.
 * Revoking only takes access away, and whoever may put this event on the bus may send a valid
 * one; refusing it would leave a credential someone saw leaked alive until its deadline.
 */
export async function reportInvalidLeak(
  deps: EngineDeps,
  raw: RawEvent,
  reason: string,
): Promise<{ readonly outcome: 'rejected'; readonly reason: string; readonly grant?: Grant }> {
  const detail = (raw.detail && typeof raw.detail === 'object' ? raw.detail : {}) as Record<string, unknown>;
  const { credentialId } = detail;
  const recorded = typeof credentialId === 'string' ? { ...raw, detail: { ...detail, credentialId: recordable(credentialId) } } : raw;
  const at = await recordRejection(deps, recorded, reason);
  const grant = typeof credentialId === 'string' && credentialId.length <= 2048 ? await findGrant(deps, credentialId.trim()) : undefined;
  if (!grant) return { outcome: 'rejected', reason };
  const revoked = await revokeGrant(deps, grant.grantId, {
    trigger: 'leaked',
    by: ENGINE_ACTOR,
    reason: `reported leaked by an invalid Credential Leaked event (${reason})`,
    noticeAt: at,
  });
  return { outcome: 'rejected', reason, ...(revoked.grant ? { grant: revoked.grant } : {}) };
}
