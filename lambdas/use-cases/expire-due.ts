// Use case: expiry without a schedule per grant (the `due-index` expiry mode, docs/scale.md §8).
// One reader of the fan-out: reads one shard of the sparse due index up to now and expires the
// active grants it finds there, as their schedules would have. Everything else that is due
// (retries, probes, stuck requests, use checks) stays for the sweep, which reads every shard.
import { ENGINE_ACTOR } from '../domain/grant';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { inBatches } from './in-batches';
import { revokeGrant } from './revoke-grant';

export interface DueShardReport {
  readonly shard: number;
  readonly itemsRead: number;
  readonly expired: number;
  /** Revocations the issuer refused: said on the bus (`Revocation Failed`), and the sweep retries them. */
  readonly failed: number;
  /** Grants the reader could not settle (a store or bus error): they stay due for the next reader. */
  readonly errors: number;
  /** Pages read: a shard with more due than a page holds is read again until it is drained. */
  readonly pages: number;
}

const PARALLEL = 8;
/** Items per page: a shard backlog beyond it takes more pages, each one Query. */
const PAGE = 500;
/** A reader gives up after this many pages; the next minute's reader goes on. */
const MAX_PAGES = 20;

/** Expires every active grant whose expiry has passed in `shard`; revocation errors leave it due for the next reader. */
export async function expireDueShard(deps: EngineDeps, shard: number): Promise<DueShardReport> {
  let itemsRead = 0;
  let expired = 0;
  let failed = 0;
  let errors = 0;
  let pages = 0;
  const unsettled = new Set<string>();
  for (;;) {
    const now = deps.clock.now();
    const page = await deps.store.dueGrants(now, PAGE, { shard });
    pages++;
    itemsRead += page.itemsRead;
    const expiring = page.grants.filter(
      (grant) =>
        grant.state === 'active' &&
        grant.expiresAt !== undefined &&
        Date.parse(grant.expiresAt) <= now.getTime() &&
        !unsettled.has(grant.grantId),
    );
    const outcomes = await inBatches(expiring, PARALLEL, async (grant) => {
      try {
        // The index holds the whole grant (projection ALL): no second read, and a stale copy only costs a refused write.
        const result = await revokeGrant(
          deps,
          grant.grantId,
          { trigger: 'expired', by: ENGINE_ACTOR, reason: `TTL of ${grant.ttlSeconds ?? '?'} s elapsed`, noticeAt: grant.expiresAt! },
          { listed: grant },
        );
        return result.outcome;
      } catch (error) {
        unsettled.add(grant.grantId);
        (deps.logger ?? silentLogger).error('expiry from the due index failed; the next reader retries', {
          grantId: grant.grantId,
          error: errorCode(error),
        });
        return 'error';
      }
    });
    for (const outcome of outcomes) {
      if (outcome === 'error') errors++;
      else if (outcome === 'revocation-failed') failed++;
      else expired++;
    }
    // A full page may hide more expiries behind the ones just moved out of the index: read again.
    if (page.grants.length < PAGE || expiring.length === 0 || pages >= MAX_PAGES) break;
  }
  return { shard, itemsRead, expired, failed, errors, pages };
}
