// CLI: grants as the evidence commands read them from the store. The table can be edited by
// hand; a grant whose audit chain was removed reads as one with no entries, which the chain's
// verification reports as broken, instead of crashing `audit verify`, `report` or `audit export`.
import type { Grant } from '../lambdas/domain/grant';

export function withReadableAudit(grant: Grant): Grant {
  const audit: unknown = grant.audit;
  return Array.isArray(audit) ? grant : { ...grant, audit: [] };
}

/** Every grant in the store, each readable as above. */
export async function storedGrants(store: { listGrants(): Promise<readonly Grant[]> }): Promise<readonly Grant[]> {
  return (await store.listGrants()).map(withReadableAudit);
}
