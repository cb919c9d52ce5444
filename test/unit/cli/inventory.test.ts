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

describe('taskbound agents show', () => {
  it('shows the suspension in force and, when the kill switch was thrown again, its latest repeat', async () => {
    const cli = harness();
    await cli.store.recordSuspension({ agentId: 'release-bot', by: 'sre@example.com', reason: 'leak', at: '2026-11-28T11:00:00.000Z' });
    await cli.store.recordSuspension({
      agentId: 'release-bot',
      by: 'oncall@example.com',
      reason: 'still odd',
      at: '2026-11-28T11:30:00.000Z',
    });

    const [text, asJson, list] = await Promise.all([
      cli.run('agents', 'show', 'release-bot'),
      cli.run('agents', 'show', 'release-bot', '--json'),
      cli.run('agents', 'list'),
    ]);

    expect(text.code).toBe(0);
    expect(text.out).toMatch(
      /status:\s+suspended by sre@example\.com .*: leak; thrown again once, last by oncall@example\.com .*: still odd/,
    );
    expect(JSON.parse(asJson.out).agent.status).toEqual({
      state: 'suspended',
      by: 'sre@example.com',
      at: '2026-11-28T11:00:00.000Z',
      reason: 'leak',
      repeatCount: 1,
      lastRepeatedBy: 'oncall@example.com',
      lastRepeatedAt: '2026-11-28T11:30:00.000Z',
      lastRepeatedReason: 'still odd',
    });
    expect(list.out.split('\n').find((line) => line.startsWith('release-bot'))).toContain('(thrown again 1x)');
  });
});
