// Use case: `Credential Leaked` (or AWS Health's exposed-key event) → find the grant that
// issued the credential and revoke it at once, then prove it dead.
import { grantIdFor } from '../domain/ids';
import type { Grant } from '../domain/grant';
import type { CredentialLeaked } from '../domain/events';
import type { EngineDeps } from './engine-deps';
import { revokeGrant, type RevokeResult } from './revoke-grant';

export type LeakResult = RevokeResult | { readonly outcome: 'unknown-credential'; readonly credentialId: string };

const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
/** `taskbound/<agent>/<task>`, bare or inside a Secrets Manager ARN (which appends `-XXXXXX`). */
const DELIVERY_NAME = /(?:^|:secret:)taskbound\/([a-z0-9][a-z0-9-]{0,62})\/([A-Za-z0-9._:-]{1,128}?)(?:-[A-Za-z0-9]{6})?$/;

async function findGrant(deps: EngineDeps, credentialId: string): Promise<Grant | undefined> {
  if (ACCESS_KEY_ID.test(credentialId)) return deps.store.findByCredentialId(credentialId);
  const named = DELIVERY_NAME.exec(credentialId);
  if (!named) return undefined;
  const [, agentId, taskId] = named as unknown as [string, string, string];
  const exact = await deps.store.get(grantIdFor(agentId, taskId));
  if (exact || !credentialId.includes(':secret:')) return exact;
  // An ARN whose task id itself ends like a random suffix: try the name as written.
  const whole = credentialId.split(':secret:')[1] ?? '';
  const [, wholeAgent = '', wholeTask = ''] = whole.split('/');
  return deps.store.get(grantIdFor(wholeAgent, wholeTask));
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
