import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { expireGrant } from '../../../lambdas/use-cases/expire-grant';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('expireGrant', () => {
  it('ignores an early firing and revokes once expired', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ ttlSeconds: 60 }));
    const grantId = grantIdFor('release-bot', 'task-1');
    expect((await expireGrant(engine, grantId)).outcome).toBe('not-due');
    engine.clock.advance(60_000);
    expect((await expireGrant(engine, grantId)).outcome).toBe('verified');
    expect((await engine.store.get(grantId))?.revocation?.trigger).toBe('expired');
  });
});
