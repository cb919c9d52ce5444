import { describe, expect, it } from 'vitest';
import { activeGrant, harness, revokedGrant } from './cli-harness';

describe('taskbound agents list', () => {
  it('lists an agent the policy no longer names while it still holds a live grant, marked as not in the policy', async () => {
    const cli = harness();
    cli.store.seed(
      activeGrant('retired-bot', 'still-running'),
      revokedGrant(activeGrant('gone-bot', 'finished'), { noticeAt: '2026-11-28T10:05:00.000Z', revokedAfterMs: 20, verifiedAfterMs: 30 }),
    );

    const [text, asJson] = await Promise.all([cli.run('agents', 'list'), cli.run('agents', 'list', '--json')]);

    expect(text.code).toBe(0);
    const row = text.out.split('\n').find((line) => line.startsWith('retired-bot')) ?? '';
    expect(row).toMatch(/^retired-bot\s+not in policy\s+-\s+active\s+1\s/);
    expect(text.out).not.toContain('gone-bot');
    const { agents } = JSON.parse(asJson.out);
    expect(agents.at(-1)).toMatchObject({ agentId: 'retired-bot', inPolicy: false, liveGrants: [{ taskId: 'still-running' }] });
    expect(agents.map((agent: { agentId: string }) => agent.agentId)).toEqual([
      'release-bot',
      'deploy-bot',
      'ops-bot',
      'finance-bot',
      'retired-bot',
    ]);
  });
});
