import { describe, expect, it } from 'vitest';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { handlersOver, invoke } from './handler-harness';

describe('sweep handler', () => {
  it("judges every live grant by the policy on a container's first sweep and on the hourly reconciliation, not on every sweep", async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ taskId: 'before-deploy' }));
    // A deploy: new containers, built with a policy that no longer lists release-bot.
    const deployed = { ...engine, policy: { ...engine.policy, agents: { 'deploy-bot': engine.policy.agents['deploy-bot']! } } };
    const handlers = handlersOver(deployed);

    const first = (await invoke(handlers, 'sweep', {})) as unknown as { unentitled?: { revoked: number } };
    expect(first.unentitled).toEqual({ checked: 1, revoked: 1, errors: 0 });
    expect(engine.sessions.isLive(grantIdFor('release-bot', 'before-deploy'))).toBe(false);

    const second = (await invoke(handlers, 'sweep', {})) as unknown as { unentitled?: unknown };
    expect(second.unentitled).toBeUndefined();
    const hourly = (await invoke(handlers, 'sweep', { reconcileOrphans: true })) as unknown as { unentitled?: unknown };
    expect(hourly.unentitled).toEqual({ checked: 0, revoked: 0, errors: 0 });
  });
});
