import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('sweepDueGrants', () => {
  it('the sweep expires a grant whose timer was lost', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ ttlSeconds: 60 }));
    engine.clock.advance(61_000);
    expect(await sweepDueGrants(engine)).toMatchObject({ expired: 1 });
  });
});
