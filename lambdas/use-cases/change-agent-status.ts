// Use case: the kill switch. Suspension is recorded first (so no new grant can start),
// then every live grant of the agent is revoked; resuming only lifts the block.
import type { AgentStatusChange } from '../domain/events';
import type { EngineDeps } from './engine-deps';
import { revokeGrant, type RevokeResult } from './revoke-grant';

export interface SuspendResult {
  readonly outcome: 'suspended';
  readonly revoked: readonly RevokeResult[];
}

/** Revocations run a few at a time: a burst of IAM writes would only be throttled. */
const PARALLEL_REVOCATIONS = 8;

export async function suspendAgent(deps: EngineDeps, change: AgentStatusChange): Promise<SuspendResult> {
  const now = deps.clock.now().toISOString();
  await deps.store.putAgent({ agentId: change.agentId, suspended: true, by: change.by, reason: change.reason, at: now });
  const live = await deps.store.grantsOfAgent(change.agentId, { liveOnly: true });
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
