import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { UnissuableRequestError } from '../../../lambdas/domain/errors';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('issueGrant (run by startTask)', () => {
  it('turns a session policy that cannot fit into a denial and cleans up', async () => {
    const engine = fakeEngine();
    engine.sessions.failNextIssue = new UnissuableRequestError('session policy of 3000 characters exceeds 2048');
    const result = await startTask(engine, taskStarted());
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/exceeds 2048/) });
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('failed');
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload.status).toBe('denied');
  });

  it('delivers while the expiry is scheduled, and fails the run (to be retried) when the schedule could not be made', async () => {
    const engine = fakeEngine();
    engine.expiry.scheduleExpiry = async () => {
      throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
    };
    await expect(startTask(engine, taskStarted())).rejects.toThrow(/rate exceeded/);
    // The credential was recorded and delivered all the same; the due index expires it if the retry never comes.
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('active');
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload.status).toBe('issued');
  });
});
