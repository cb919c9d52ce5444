import { describe, expect, it } from 'vitest';
import { rejectEvent } from '../../../lambdas/use-cases/reject-event';
import { fakeEngine } from '../../helpers/fake-engine';

describe('rejectEvent', () => {
  it('records an invalid event with its reason and answers Grant Denied when it names an agent and a task', async () => {
    const engine = fakeEngine();
    const raw = {
      id: 'evt-1',
      source: 'agent.runtime',
      'detail-type': 'Task Started',
      detail: { agentId: 'release-bot', taskId: 'task-9', scopes: 'not-a-list' },
    };

    const result = await rejectEvent(engine, raw, 'scopes: expected array');

    expect(result).toEqual({ outcome: 'rejected', reason: 'scopes: expected array' });
    expect(engine.store.rejected).toEqual([
      {
        at: '2026-11-28T12:00:00.000Z',
        detailType: 'Task Started',
        source: 'agent.runtime',
        reason: 'scopes: expected array',
        eventId: 'evt-1',
        excerpt: '{"agentId":"release-bot","taskId":"task-9","scopes":"not-a-list"}',
      },
    ]);
    expect(engine.events.of('Grant Denied')[0]?.detail).toMatchObject({
      agentId: 'release-bot',
      taskId: 'task-9',
      state: 'denied',
      reason: 'invalid Task Started event: scopes: expected array',
    });
    expect(engine.vault.secrets.size).toBe(0);
  });

  it('records an event naming no valid agent and task, and says nothing on the bus', async () => {
    const engine = fakeEngine();
    await rejectEvent(engine, { detail: { agentId: '../etc', taskId: 7 } }, 'agentId: invalid');
    expect(engine.store.rejected[0]).toMatchObject({
      detailType: '(missing detail-type)',
      source: '(missing source)',
      reason: 'agentId: invalid',
    });
    expect(engine.events.published).toEqual([]);
  });
});
