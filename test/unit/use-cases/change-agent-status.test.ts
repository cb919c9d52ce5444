import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { suspendAgent, resumeAgent } from '../../../lambdas/use-cases/change-agent-status';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

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
});
