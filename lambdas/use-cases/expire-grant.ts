// Use case: a grant's expiry fired (scheduler, TTL stream or sweep) → revoke with trigger
// `expired`. Early or duplicate firings are harmless: only an active, expired grant moves.
import type { EngineDeps } from './engine-deps';
import { revokeGrant, type RevokeResult } from './revoke-grant';

export type ExpireResult = RevokeResult | { readonly outcome: 'not-due'; readonly expiresAt: string };

export async function expireGrant(deps: EngineDeps, grantId: string): Promise<ExpireResult> {
  const grant = await deps.store.get(grantId);
  if (!grant) return { outcome: 'not-found' };
  if (grant.state === 'active' && grant.expiresAt && Date.parse(grant.expiresAt) > deps.clock.now().getTime()) {
    // Fired early (a re-armed estimate, a clock step): arm it again rather than lose the expiry.
    await deps.expiry.scheduleExpiry(grantId, new Date(grant.expiresAt));
    return { outcome: 'not-due', expiresAt: grant.expiresAt };
  }
  return revokeGrant(deps, grantId, {
    trigger: 'expired',
    by: 'taskbound',
    reason: `TTL of ${grant.ttlSeconds ?? '?'} s elapsed`,
    noticeAt: grant.expiresAt ?? deps.clock.now().toISOString(),
  });
}
