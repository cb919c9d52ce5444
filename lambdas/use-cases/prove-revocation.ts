// Use case: `Grant Revoked` with `proof: pending` → prove the killed credential dead. The revoking
// function probed once and moved on (IAM enforces a deny, or forgets a key, only after seconds), so
// its reserved slot was free for the next kill; here the probes wait for the platform as long as the
// schedule allows, then the delivery is deleted and the grant recorded `verified`. Still honoured
// after that: the grant stays `revoked` and the sweep probes again, as it does for any revocation.
import type { Grant } from '../domain/grant';
import type { EngineDeps } from './engine-deps';
import { verifyRevocation, type RevokeResult } from './revoke-grant';

export type ProveResult = RevokeResult | { readonly outcome: 'nothing-to-prove'; readonly grant?: Grant };

export async function proveRevocation(deps: EngineDeps, grantId: string): Promise<ProveResult> {
  // Read, not remembered: the event may arrive after the sweep (or a duplicate of it) has proven it already.
  const grant = await deps.store.get(grantId);
  if (grant?.state !== 'revoked') return grant ? { outcome: 'nothing-to-prove', grant } : { outcome: 'nothing-to-prove' };
  return verifyRevocation(deps, grant);
}
