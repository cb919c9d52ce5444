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

/** What a leak report's credential id names: an access key id, or the grants a delivery's name or ARN may be (most likely first). */
export function namedByLeak(credentialId: string): { readonly accessKeyId: string } | { readonly grantIds: readonly string[] } {
  if (ACCESS_KEY_ID.test(credentialId)) return { accessKeyId: credentialId };
  const named = DELIVERY_NAME.exec(credentialId);
  if (!named) return { grantIds: [] };
  const [, agentId, taskId] = named as unknown as [string, string, string];
  if (!credentialId.includes(':secret:')) return { grantIds: [grantIdFor(agentId, taskId)] };
  // An ARN whose task id itself ends like a random suffix: the name as written is the second guess.
  const whole = credentialId.split(':secret:')[1] ?? '';
  const [, wholeAgent = '', wholeTask = ''] = whole.split('/');
  return { grantIds: [grantIdFor(agentId, taskId), grantIdFor(wholeAgent, wholeTask)] };
}

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
