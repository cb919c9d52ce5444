import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { suspendAgent, resumeAgent } from '../../../lambdas/use-cases/change-agent-status';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import type { AgentRecord } from '../../../lambdas/ports';

describe('suspendAgent and resumeAgent', () => {
  it('suspension revokes every live grant and denies new ones until resumed', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ taskId: 'a' }));
    await startTask(engine, taskStarted({ taskId: 'b' }));
    const suspended = await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(['verified', 'verified']);
    expect((await startTask(engine, taskStarted({ taskId: 'c' }))).outcome).toBe('denied');
    await resumeAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'fixed' });
    expect((await startTask(engine, taskStarted({ taskId: 'd' }))).outcome).toBe('issued');
  });

  it('a suspension of an unregistered agent with no grants is refused and recorded, not applied', async () => {
    const engine = fakeEngine();
    const result = await suspendAgent(engine, { agentId: 'nobody-bot', by: 'secops@example.com', reason: 'typo' });
    expect(result).toMatchObject({ outcome: 'unknown-agent', reason: expect.stringMatching(/not registered/) });
    expect((await engine.store.getAgent('nobody-bot')).suspended).toBe(false);
    expect(engine.store.rejected).toHaveLength(1);
  });

  it('a start that re-read the agent just before the suspension was written is still revoked by it', async () => {
    const engine = fakeEngine();
    // The suspension's write waits until a start has created its grant and re-read the agent.
    let writeSuspension!: () => void;
    const startHasRun = new Promise<void>((resolve) => (writeSuspension = resolve));
    const putAgent = engine.store.putAgent.bind(engine.store);
    engine.store.putAgent = async (agent: AgentRecord) => {
      await startHasRun;
      return putAgent(agent);
    };
    const suspending = suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    const started = await startTask(engine, taskStarted({ taskId: 'racing' }));
    writeSuspension();
    await suspending;
    expect(started.outcome).toBe('issued');
    expect((await engine.store.get(started.grant.grantId))?.state).toBe('verified');
  });

  it('a live grant the eventually consistent live index does not show yet is found by its concurrency slot', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted({ taskId: 'just-started' }));
    engine.store.grantsOfAgent = async () => [];
    const suspended = await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(['verified']);
    expect((await engine.store.get(started.grant.grantId))?.state).toBe('verified');
  });
});
