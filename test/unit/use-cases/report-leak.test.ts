import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { LEAK_LOOKUP_AGAIN_MS, reportLeak } from '../../../lambdas/use-cases/report-leak';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('reportLeak', () => {
  it('revokes a leaked access key found by its id', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', scopes: ['bucket-read-key'] }));
    const keyId = engine.vault.secrets.get('taskbound/deploy-bot/task-1')!.payload.accessKeyId!;
    const result = await reportLeak(engine, { credentialId: keyId, reportedBy: 'scanner' });
    expect(result.outcome).toBe('verified');
    expect((await engine.store.get(grantIdFor('deploy-bot', 'task-1')))?.revocation?.trigger).toBe('leaked');
  });

  it('finds a leaked delivery secret by its ARN', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound/release-bot/task-1-Xy12Ab';
    expect((await reportLeak(engine, { credentialId: arn, reportedBy: 'scanner' })).outcome).toBe('verified');
  });

  it('says so when a leaked credential is not one of ours', async () => {
    expect((await reportLeak(fakeEngine(), { credentialId: 'AKIAUNKNOWN000000000', reportedBy: 'scanner' })).outcome).toBe(
      'unknown-credential',
    );
  });

  it('looks a key up once more after a short wait: a report made as the credential is issued still revokes it', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', scopes: ['bucket-read-key'] }));
    const keyId = engine.vault.secrets.get('taskbound/deploy-bot/task-1')!.payload.accessKeyId!;
    // The first look misses (the index has not caught up, or the grant is not recorded active yet).
    const find = engine.store.findByCredentialId.bind(engine.store);
    let looks = 0;
    engine.store.findByCredentialId = async (id) => (++looks === 1 ? undefined : find(id));
    const waits: number[] = [];
    const result = await reportLeak(
      { ...engine, sleep: async (ms) => void waits.push(ms) },
      { credentialId: keyId, reportedBy: 'scanner' },
    );

    expect(result.outcome).toBe('verified');
    expect(waits).toEqual([LEAK_LOOKUP_AGAIN_MS]);
    expect(looks).toBe(2);
  });
});
