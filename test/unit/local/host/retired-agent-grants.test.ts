import { describe, expect, it } from 'vitest';
import { retiredAgentWarnings } from '../../../../lambdas/local/host/retired-agent-grants';
import { InMemoryGrantStore } from '../../../helpers/in-memory-grant-store';
import { activeGrant, verifiedGrant } from '../../../helpers/grants';
import { testPolicy } from '../../../helpers/test-policy';

describe('retiredAgentWarnings', () => {
  it('names each agent the policy no longer lists that still holds a live grant, and how to revoke it', async () => {
    const store = new InMemoryGrantStore();
    const live = activeGrant({ agentId: 'retired-bot', taskId: 'still-running' });
    await store.create(live);
    await store.create(verifiedGrant({ agentId: 'gone-bot', taskId: 'finished' }));
    await store.create(activeGrant({ agentId: 'release-bot', taskId: 'listed' }));

    const warnings = await retiredAgentWarnings(testPolicy(), store);

    expect(warnings).toEqual([
      expect.stringContaining(`agent "retired-bot" is not in the policy but holds 1 live grant(s) (${live.grantId})`),
    ]);
    expect(warnings[0]).toContain('taskbound suspend retired-bot');
  });

  it('says nothing when every live grant belongs to an agent of the policy', async () => {
    const store = new InMemoryGrantStore();
    await store.create(activeGrant({ agentId: 'release-bot', taskId: 'listed' }));
    expect(await retiredAgentWarnings(testPolicy(), store)).toEqual([]);
  });
});
