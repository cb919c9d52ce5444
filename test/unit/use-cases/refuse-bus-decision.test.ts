import { describe, expect, it } from 'vitest';
import { AUTHENTICATED_PATHS, refuseBusDecision } from '../../../lambdas/use-cases/refuse-bus-decision';
import { fakeEngine } from '../../helpers/fake-engine';
import { requestedGrant } from '../../helpers/grants';

describe('refuseBusDecision', () => {
  it('refuses an approval on the bus, records it, and answers it against the real grant so its watchers see the attempt', async () => {
    const engine = fakeEngine();
    const grant = requestedGrant({ agentId: 'deploy-bot', taskId: 'refund-1' });
    await engine.store.create(grant);

    const result = await refuseBusDecision(engine, {
      id: 'evt-1',
      source: 'attacker.app',
      'detail-type': 'Grant Decision',
      detail: { grantId: grant.grantId, decision: 'approve', approver: 'cfo@example.com' },
    });

    const reason = `Grant Decision on the bus (source "attacker.app") carries no authority: ${AUTHENTICATED_PATHS}`;
    expect(result).toEqual({ outcome: 'refused', reason });
    expect(engine.store.rejected).toEqual([
      {
        at: '2026-11-28T12:00:00.000Z',
        detailType: 'Grant Decision',
        source: 'attacker.app',
        reason,
        eventId: 'evt-1',
        excerpt: `{"grantId":"${grant.grantId}","decision":"approve","approver":"cfo@example.com"}`,
      },
    ]);
    expect(engine.events.of('Grant Decision Refused').map((event) => event.detail)).toEqual([
      expect.objectContaining({
        grantId: grant.grantId,
        agentId: 'deploy-bot',
        taskId: 'refund-1',
        reason,
        approver: 'cfo@example.com',
        decision: 'approve',
        refusedSource: 'attacker.app',
      }),
    ]);
    expect((await engine.store.get(grant.grantId))?.state).toBe('requested');
  });

  it('answers a decision naming no grant that exists by the ids it gave, and a bus resume with Agent Resume Refused', async () => {
    const engine = fakeEngine();
    await refuseBusDecision(engine, {
      id: 'evt-2',
      source: 'taskbound.cli',
      'detail-type': 'Grant Decision',
      detail: { agentId: 'deploy-bot', taskId: 'nothing-yet', decision: 'approve', approver: 'cfo@example.com' },
    });
    await refuseBusDecision(engine, {
      id: 'evt-3',
      source: 'taskbound.cli',
      'detail-type': 'Agent Resumed',
      detail: { agentId: 'deploy-bot', by: 'cfo@example.com' },
    });

    expect(engine.events.of('Grant Decision Refused')[0]?.detail).toMatchObject({
      agentId: 'deploy-bot',
      taskId: 'nothing-yet',
      approver: 'cfo@example.com',
    });
    expect(engine.events.of('Agent Resume Refused')[0]?.detail).toMatchObject({
      agentId: 'deploy-bot',
      claimedBy: 'cfo@example.com',
      refusedSource: 'taskbound.cli',
    });
    expect(engine.store.rejected.map((entry) => entry.detailType)).toEqual(['Grant Decision', 'Agent Resumed']);
  });

  it('records a malformed forgery but echoes none of its ids: nothing well-formed to answer about', async () => {
    const engine = fakeEngine();
    const result = await refuseBusDecision(engine, {
      id: 'evt-4',
      source: 'attacker.app',
      'detail-type': 'Agent Resumed',
      detail: { agentId: '../../etc/passwd', by: 'x'.repeat(5000) },
    });

    expect(result.outcome).toBe('refused');
    expect(engine.store.rejected).toHaveLength(1);
    expect(engine.store.rejected[0]?.excerpt.length).toBeLessThanOrEqual(1024);
    expect(engine.events.published).toEqual([]);
  });
});
