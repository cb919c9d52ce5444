// Use case: the kill switch. Suspension is recorded first (so no new grant can start),
// then every live grant of the agent is revoked; resuming only lifts the block.
import type { AgentStatusChange } from '../domain/events';
import type { EngineDeps } from './engine-deps';
import { revokeGrant, type RevokeResult } from './revoke-grant';
import { inBatches } from './in-batches';

export type SuspendResult =
  | { readonly outcome: 'suspended'; readonly revoked: readonly RevokeResult[] }
  | { readonly outcome: 'unknown-agent'; readonly revoked: readonly RevokeResult[]; readonly reason: string };

/** Revocations run a few at a time: a burst of IAM writes would only be throttled. */
const PARALLEL_REVOCATIONS = 8;

export async function suspendAgent(deps: EngineDeps, change: AgentStatusChange): Promise<SuspendResult> {
  const now = deps.clock.now().toISOString();
  const registered = deps.policy.agents[change.agentId] !== undefined;
  // An unregistered agent cannot start a grant, so its live grants can be listed before the write.
  const listedFirst = registered ? undefined : await deps.store.grantsOfAgent(change.agentId, { liveOnly: true });
  if (listedFirst?.length === 0) {
    // Most likely a typo: say so rather than pretend a kill switch was thrown. (An agent
    // dropped from the policy while it still holds grants is suspended and revoked as usual.)
    const reason = `agent "${change.agentId}" is not registered and holds no live grants: nothing to suspend`;
    await deps.store.recordRejectedEvent({ at: now, detailType: 'Agent Suspended', source: change.by, reason, excerpt: JSON.stringify(change).slice(0, 512) });
    return { outcome: 'unknown-agent', revoked: [], reason };
  }
  await deps.store.putAgent({ agentId: change.agentId, suspended: true, by: change.by, reason: change.reason, at: now });
  // Listed only now: a start re-reads the agent after writing its grant, so either it sees this
  // suspension or its grant is found here. The live index is eventually consistent; the slots
  // (read consistently) name the grants it may not show yet.
  const [live, slots] = await Promise.all([listedFirst ?? deps.store.grantsOfAgent(change.agentId, { liveOnly: true }), deps.store.slotHolders(change.agentId)]);
  const listed = new Set(live.map((grant) => grant.grantId));
  const unlisted = [...new Set(slots.map((slot) => slot.grantId))].filter((grantId) => !listed.has(grantId));
  const cause = { trigger: 'suspended' as const, by: change.by, reason: `agent suspended: ${change.reason}`, noticeAt: now };
  const grantIds = [...listed, ...unlisted];
  const revoked = await inBatches(grantIds, PARALLEL_REVOCATIONS, (grantId) => revokeGrant(deps, grantId, cause));
  // A slot whose grant is not written yet (its start will see the suspension) or no longer live revoked nothing.
  const revokedSomething = (result: RevokeResult, index: number) => index < listed.size || (result.outcome !== 'not-found' && result.outcome !== 'already-revoked');
  return { outcome: 'suspended', revoked: revoked.filter(revokedSomething) };
}

export async function resumeAgent(deps: EngineDeps, change: AgentStatusChange): Promise<{ readonly outcome: 'resumed' }> {
  const now = deps.clock.now().toISOString();
  await deps.store.putAgent({ agentId: change.agentId, suspended: false, by: change.by, reason: change.reason, at: now });
  return { outcome: 'resumed' };
}
