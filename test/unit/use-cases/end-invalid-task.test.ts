import { describe, expect, it } from 'vitest';
import { deliverySecretName, grantIdFor } from '../../../lambdas/domain/ids';
import { verifyChain } from '../../../lambdas/domain/audit';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { envelope, handlersOver, invoke } from '../handlers/handler-harness';

const INVALID_ENDS: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['an outcome the contract does not name', { outcome: 'done' }],
  ['no outcome', {}],
  ['a field the schema does not know', { outcome: 'succeeded', summary: 'all good' }],
  ['systemsTouched as a string', { outcome: 'succeeded', systemsTouched: 's3' }],
];

describe('an invalid Task Ended (endInvalidTask, through the task-ended handler)', () => {
  it.each(INVALID_ENDS)('with %s still ends its task: the credential is revoked and proven dead', async (_case, fields) => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'end-1' })));
    const grantId = grantIdFor('release-bot', 'end-1');

    const result = await invoke(handlers, 'task-ended', envelope('Task Ended', { agentId: 'release-bot', taskId: 'end-1', ...fields }));

    expect(result).toMatchObject({ outcome: 'rejected', grant: { grantId, state: 'verified' } });
    expect(engine.sessions.isLive(grantId)).toBe(false);
    expect(engine.vault.secrets.has(deliverySecretName('release-bot', 'end-1'))).toBe(false);
    expect(engine.store.rejected.at(-1)?.reason).toBe(result.reason);
    expect(engine.events.of('Grant Denied')).toHaveLength(0);
    const grant = await engine.store.get(grantId);
    expect(grant?.revocation).toMatchObject({
      trigger: 'task_ended',
      reason: `task ended by an invalid Task Ended event (${result.reason})`,
    });
    expect(verifyChain(grantId, grant!.audit)).toEqual({ ok: true });
  });

  it('records nothing the invalid event claimed: not its outcome, not its systemsTouched', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'end-2' })));

    await invoke(
      handlers,
      'task-ended',
      envelope('Task Ended', { agentId: 'release-bot', taskId: 'end-2', outcome: 'won', systemsTouched: ['x'] }),
    );

    const grant = await engine.store.get(grantIdFor('release-bot', 'end-2'));
    expect(JSON.stringify(grant)).not.toMatch(/"won"|systemsTouched/);
  });

  it('closes a task never started, so its late Task Started issues nothing', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);

    await invoke(handlers, 'task-ended', envelope('Task Ended', { agentId: 'release-bot', taskId: 'end-3', outcome: 'ok' }));
    const late = await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'end-3' })));

    expect(late.outcome).toBe('denied');
    expect(engine.sessions.issued.size + engine.keys.issued.size).toBe(0);
  });

  it('ends nothing when it names no well-formed task: recorded and refused as before', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'end-4' })));

    const result = await invoke(handlers, 'task-ended', envelope('Task Ended', { agentId: 'release-bot', taskId: 'end 4', outcome: 'ok' }));

    expect(result.outcome).toBe('rejected');
    expect(engine.sessions.isLive(grantIdFor('release-bot', 'end-4'))).toBe(true);
    expect(engine.store.rejected).toHaveLength(1);
  });
});
