// Domain: when a grant next needs the engine's attention. The store indexes this time so
// the sweep reads only grants that are due, never the whole table.
import type { Grant } from './grant';

export interface DueTiming {
  /** A grant still `requested`/`issuing` this long after its last change is stuck. */
  readonly stuckAfterMs: number;
  /** How long after a failed revocation or an inconclusive probe to try again. */
  readonly retryAfterMs: number;
  /** How long a denied request's delivery secret stays readable (docs/contract.md §5: an hour). */
  readonly deniedRetentionMs: number;
}

export const DEFAULT_DUE_TIMING: DueTiming = {
  stuckAfterMs: 5 * 60_000,
  retryAfterMs: 60_000,
  deniedRetentionMs: 60 * 60_000,
};

const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** The moment the grant is next due for the sweep, or undefined when nothing is left to do. */
export function dueAtOf(grant: Grant, timing: DueTiming = DEFAULT_DUE_TIMING): string | undefined {
  switch (grant.state) {
    case 'requested':
      return plus(grant.updatedAt, timing.stuckAfterMs);
    case 'issuing': {
      // If issuance died after the credential was delivered but before it was recorded, the
      // credential must still die on time: due at the earlier of "stuck" and the TTL's end.
      const stuck = plus(grant.updatedAt, timing.stuckAfterMs);
      const ttlEnd = grant.ttlSeconds !== undefined ? plus(grant.updatedAt, grant.ttlSeconds * 1000) : stuck;
      return ttlEnd < stuck ? ttlEnd : stuck;
    }
    case 'pending_approval':
      return grant.approvalDeadline ?? plus(grant.updatedAt, timing.stuckAfterMs);
    case 'active':
      return grant.expiresAt ?? grant.updatedAt;
    case 'revoking':
    case 'revoked':
      return plus(grant.updatedAt, timing.retryAfterMs);
    // A failed grant's delivery says `denied` with the reason, as a denial's does, and is kept as long,
    // so a runtime waiting on it learns why (an approval a restart interrupted) instead of finding it gone.
    case 'denied':
    case 'failed':
      return grant.deliverySecret ? plus(grant.updatedAt, timing.deniedRetentionMs) : undefined;
    // A delivery the kill switch has not deleted yet (revoke-grant.ts, deferDeliveryDeletion) is due
    // for the sweep a retry interval on, or at the use check if that comes first.
    case 'verified': {
      if (!grant.deliverySecret) return grant.misuseCheckAt;
      const cleanup = plus(grant.updatedAt, timing.retryAfterMs);
      return grant.misuseCheckAt !== undefined && grant.misuseCheckAt < cleanup ? grant.misuseCheckAt : cleanup;
    }
  }
}
