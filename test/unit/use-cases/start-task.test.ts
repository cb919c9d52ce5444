import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('startTask', () => {
  it('denies the concurrency cap with a reason delivered to the runtime', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ taskId: 'a' }));
    await startTask(engine, taskStarted({ taskId: 'b' }));
    const third = await startTask(engine, taskStarted({ taskId: 'c' }));
    expect(third).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/maximum 2/) });
    expect(engine.vault.secrets.get('taskbound/release-bot/c')?.payload).toMatchObject({ status: 'denied' });
    expect(engine.sessions.issued.size).toBe(2);
  });

  it('records an unregistered agent without delivering anything', async () => {
    const engine = fakeEngine();
    const result = await startTask(engine, taskStarted({ agentId: 'ghost-bot' }));
    expect(result).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/not registered/) });
    expect(engine.vault.secrets.size).toBe(0);
    expect(engine.events.of('Grant Denied')).toHaveLength(1);
  });

  it('stores a repeated scope once', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted({ scopes: ['repo-read', 'repo-read'] }));
    expect(started.grant.scopes).toEqual(['repo-read']);
  });
});
