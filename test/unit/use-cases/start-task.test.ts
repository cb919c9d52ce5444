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

  it('issues nothing when a suspension lands between its first read of the agent and its grant', async () => {
    const engine = fakeEngine();
    // The suspension listed the agent's grants before this one existed, so only the start can stop it.
    const create = engine.store.create.bind(engine.store);
    engine.store.create = async (grant) => {
      await engine.store.putAgent({
        agentId: 'release-bot',
        suspended: true,
        by: 'secops@example.com',
        reason: 'odd behaviour',
        at: grant.createdAt,
      });
      return create(grant);
    };
    const result = await startTask(engine, taskStarted());
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/suspended while the request was decided/) });
    expect(engine.sessions.issued.size).toBe(0);
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload).toMatchObject({ status: 'denied' });
  });
});
