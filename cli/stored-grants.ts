// CLI: grants as the evidence commands read them from the store: a grant whose audit chain was
// removed by hand reads as one with no entries (withReadableAudit), reported broken instead of
// crashing `audit verify`, `report` or `audit export`.
import { withReadableAudit, type Grant } from '../lambdas/domain/grant';

/** Every grant in the store, each readable as above. */
export async function storedGrants(store: { listGrants(): Promise<readonly Grant[]> }): Promise<readonly Grant[]> {
  return (await store.listGrants()).map(withReadableAudit);
}
