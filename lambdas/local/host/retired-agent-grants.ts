// Local engine start: live grants the loaded policy no longer accounts for. Removing an agent from
// the policy stops new grants, not the credentials already issued, so the operator is told at start.
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
      `they keep their credentials until they end or expire; \`taskbound suspend ${agentId} --reason …\` revokes them now`,
  );
}
