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

  it('issues nothing when a suspension lands just before its grant is opened', async () => {
    const engine = fakeEngine();
    // The suspension listed the agent's grants before this one existed, so only the start can stop it.
    const open = engine.store.openHoldingSlot.bind(engine.store);
    engine.store.openHoldingSlot = async (agentId, max, grantAt, at) => {
      await engine.store.putAgent({ agentId, suspended: true, by: 'secops@example.com', reason: 'odd behaviour', at });
      return open(agentId, max, grantAt, at);
    };
    const result = await startTask(engine, taskStarted());
    expect(result).toMatchObject({ outcome: 'denied', reason: 'agent "release-bot" is suspended' });
    expect(engine.sessions.issued.size).toBe(0);
    expect(engine.store.all().map((grant) => grant.state)).toEqual(['denied']);
    expect(await engine.store.slotHolders('release-bot')).toEqual([]);
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload).toMatchObject({ status: 'denied' });
  });

  it('lets a suspension written after its grant is opened find the grant among the agent’s live grants', async () => {
    const engine = fakeEngine();
    const open = engine.store.openHoldingSlot.bind(engine.store);
    let liveAtSuspension: readonly string[] = [];
    engine.store.openHoldingSlot = async (agentId, max, grantAt, at) => {
      const opened = await open(agentId, max, grantAt, at);
      await engine.store.putAgent({ agentId, suspended: true, by: 'secops@example.com', reason: 'odd behaviour', at });
      liveAtSuspension = (await engine.store.grantsOfAgent(agentId, { liveOnly: true })).map((grant) => grant.grantId);
      return opened;
    };
    const result = await startTask(engine, taskStarted());
    expect(liveAtSuspension).toEqual([result.grant.grantId]);
  });
});
