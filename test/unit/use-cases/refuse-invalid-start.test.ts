import { describe, expect, it } from 'vitest';
import { deliverySecretName, grantIdFor } from '../../../lambdas/domain/ids';
import { verifyChain } from '../../../lambdas/domain/audit';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { envelope, handlersOver, invoke } from '../handlers/handler-harness';

describe('an invalid Task Started (refuseInvalidStart, through the task-started handler)', () => {
  it('delivers the refusal where the runtime polls, so a runtime without the SDK reads why at once', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);

    const result = await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'long-1', ttlSeconds: 99_999 })));

    expect(result.outcome).toBe('rejected');
    const delivery = engine.vault.secrets.get(deliverySecretName('release-bot', 'long-1'));
    expect(delivery?.payload).toMatchObject({ status: 'denied', grantId: grantIdFor('release-bot', 'long-1') });
    expect(delivery?.payload.reason).toMatch(/^invalid Task Started event: detail\.ttlSeconds: at (most 43,200|least 60) seconds/);
    expect(engine.store.rejected).toHaveLength(1);
    expect(engine.events.of('Grant Denied')).toHaveLength(1);
    const grant = await engine.store.get(grantIdFor('release-bot', 'long-1'));
    expect(grant).toMatchObject({ state: 'denied', scopes: [] });
    expect(verifyChain(grant!.grantId, grant!.audit)).toEqual({ ok: true });
    expect(engine.sessions.issued.size + engine.keys.issued.size).toBe(0);
  });

  it('leaves a running task untouched: an invalid start for it cannot overwrite its delivery', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    expect((await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'run-1' })))).outcome).toBe('issued');
    const name = deliverySecretName('release-bot', 'run-1');
    const issued = engine.vault.secrets.get(name);

    const result = await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'run-1', purpose: '' })));

    expect(result.outcome).toBe('rejected');
    expect(engine.vault.secrets.get(name)).toBe(issued);
    expect((await engine.store.get(grantIdFor('release-bot', 'run-1')))?.state).toBe('active');
    expect(engine.events.of('Grant Denied')).toHaveLength(0);
    expect(engine.store.rejected).toHaveLength(1);
  });

  it('delivers nothing for an agent the policy does not know (no runtime to lock a delivery to), and says so on the bus', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);

    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ agentId: 'nobody-bot', taskId: 'x-1', ttlSeconds: 5 })));

    expect(engine.vault.secrets.size).toBe(0);
    expect(engine.store.all()).toEqual([]);
    expect(engine.events.of('Grant Denied')[0]?.detail.reason).toMatch(
      /^invalid Task Started event: detail\.ttlSeconds: at (most 43,200|least 60) seconds/,
    );
  });
});
