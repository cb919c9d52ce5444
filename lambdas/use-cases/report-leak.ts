// Use case: `Credential Leaked` (or AWS Health's exposed-key event) → find the grant that
// issued the credential and revoke it at once, then prove it dead.
import { namedByLeak } from '../domain/leak-target';
import type { Grant } from '../domain/grant';
import type { CredentialLeaked } from '../domain/events';
import type { EngineDeps } from './engine-deps';
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

export async function reportLeak(deps: EngineDeps, report: CredentialLeaked): Promise<LeakResult> {
  const grant = await findGrant(deps, report.credentialId.trim());
  if (!grant) {
    // Not ours (or not any more): kept as a refused event so someone looks at it.
    await deps.store.recordRejectedEvent({
      at: deps.clock.now().toISOString(),
      detailType: 'Credential Leaked',
      source: report.reportedBy.slice(0, 256),
      reason: 'the reported credential was not issued by Taskbound (no grant holds it)',
      excerpt: JSON.stringify({ credentialId: report.credentialId.slice(0, 128), reportedBy: report.reportedBy }),
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
