// Use case: the kill switch. Suspension is recorded first (so no new grant can start),
// then every live grant of the agent is revoked; resuming only lifts the block.
import type { AgentStatusChange } from '../domain/events';
import type { EngineDeps } from './engine-deps';
import { revokeGrant, type RevokeResult } from './revoke-grant';

export type SuspendResult =
  | { readonly outcome: 'suspended'; readonly revoked: readonly RevokeResult[] }
  | { readonly outcome: 'unknown-agent'; readonly revoked: readonly RevokeResult[]; readonly reason: string };

/** Revocations run a few at a time: a burst of IAM writes would only be throttled. */
const PARALLEL_REVOCATIONS = 8;

export async function suspendAgent(deps: EngineDeps, change: AgentStatusChange): Promise<SuspendResult> {
  const now = deps.clock.now().toISOString();
  const live = await deps.store.grantsOfAgent(change.agentId, { liveOnly: true });
  if (!deps.policy.agents[change.agentId] && live.length === 0) {
    // Most likely a typo: say so rather than pretend a kill switch was thrown. (An agent
    // dropped from the policy while it still holds grants is suspended and revoked as usual.)
    const reason = `agent "${change.agentId}" is not registered and holds no live grants: nothing to suspend`;
    await deps.store.recordRejectedEvent({ at: now, detailType: 'Agent Suspended', source: change.by, reason, excerpt: JSON.stringify(change).slice(0, 512) });
    return { outcome: 'unknown-agent', revoked: [], reason };
  }
  await deps.store.putAgent({ agentId: change.agentId, suspended: true, by: change.by, reason: change.reason, at: now });
  const revoked: RevokeResult[] = [];
  for (let index = 0; index < live.length; index += PARALLEL_REVOCATIONS) {
    const batch = live.slice(index, index + PARALLEL_REVOCATIONS);
    revoked.push(
      ...(await Promise.all(
        batch.map((grant) =>
          revokeGrant(deps, grant.grantId, { trigger: 'suspended', by: change.by, reason: `agent suspended: ${change.reason}`, noticeAt: now }),
        ),
      )),
    );
  }
  return { outcome: 'suspended', revoked };
}

export async function resumeAgent(deps: EngineDeps, change: AgentStatusChange): Promise<{ readonly outcome: 'resumed' }> {
  const now = deps.clock.now().toISOString();
  await deps.store.putAgent({ agentId: change.agentId, suspended: false, by: change.by, reason: change.reason, at: now });
  return { outcome: 'resumed' };
}
