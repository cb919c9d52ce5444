// Local engine start: live grants of agents the loaded policy no longer lists that are still live once
// the engine has revoked what the policy no longer allows (use-cases/revoke-unentitled.ts): a
// revocation that failed, or one under way. The operator is told at start.
import type { Policy } from '../../domain/policy';
import type { GrantStore } from '../../ports';

/** One warning line per agent the policy no longer lists that still holds live grants; none when there are none. */
export async function retiredAgentWarnings(policy: Policy, store: Pick<GrantStore, 'liveGrants'>): Promise<string[]> {
  const held = new Map<string, string[]>();
  for (const grant of await store.liveGrants()) {
    if (grant.agentId in policy.agents) continue;
    held.set(grant.agentId, [...(held.get(grant.agentId) ?? []), grant.grantId]);
  }
  return [...held.entries()].map(
    ([agentId, grantIds]) =>
      `agent "${agentId}" is not in the policy but holds ${grantIds.length} live grant(s) (${grantIds.join(', ')}): ` +
      `the engine revokes them (it tried at start, and tries again every tenth sweep); \`taskbound suspend ${agentId} --reason …\` revokes them now`,
  );
}
