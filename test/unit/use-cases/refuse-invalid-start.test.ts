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

  it("says who the refused event named as requester, marked unverified, and redacts a secret in it as any requester's", async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'who-1', ttlSeconds: 5 })));
    await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ taskId: 'who-2', ttlSeconds: 5, requestedBy: `dev@example.com ${key}` })),
    );

    const [first, second] = engine.events.of('Grant Denied').map((event) => event.detail);
    expect(first).toMatchObject({ requestedBy: 'dev@example.com', requestedByStatus: 'unverified' });
    expect(second).toMatchObject({ requestedBy: 'dev@example.com [redacted: an AWS secret access key]', requestedByStatus: 'unverified' });
    expect(JSON.stringify(engine.events.of('Grant Denied'))).not.toContain(key);
  });

  it('says plainly when the requester was missing or invalid, and never copies the invalid text', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const { requestedBy: _dropped, ...withoutRequester } = taskStarted({ taskId: 'who-3' });
    const forged = 'dev@example.com\u001b[2Jxoxb-1234567890-abcdefgh';

    await invoke(handlers, 'task-started', envelope('Task Started', withoutRequester));
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'who-4', requestedBy: forged })));
    await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ agentId: 'nobody-bot', taskId: 'who-5', requestedBy: 42 })),
    );

    const denials = engine.events.of('Grant Denied').map((event) => event.detail);
    expect(denials.map((detail) => [detail.taskId, detail.requestedByStatus, detail.requestedBy])).toEqual([
      ['who-3', 'not given', undefined],
      ['who-4', 'invalid in the event', undefined],
      ['who-5', 'invalid in the event', undefined],
    ]);
    expect(JSON.stringify(denials)).not.toMatch(/xoxb|\\u001b/);
  });
});

describe("a Task Started's context, through the task-started handler", () => {
  it('is stored as validated: a token pasted into it is redacted in the grant record and its events', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const token = `ghp_${'a1'.repeat(18)}`;

    const result = await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ taskId: 'ctx-1', context: { ticket: 'OPS-1', note: `use ${token}` } })),
    );

    expect(result.outcome).toBe('issued');
    const grant = await engine.store.get(grantIdFor('release-bot', 'ctx-1'));
    expect(grant?.context).toEqual({ ticket: 'OPS-1', note: 'use [redacted: a GitHub token]' });
    expect(JSON.stringify([grant, engine.events.published])).not.toContain(token);
  });

  it('with a control character in a value is refused, the reason naming its path, and nothing is issued', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);

    const result = await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ taskId: 'ctx-2', context: { ticket: 'OPS-1\u001b]8;;https://evil.example\u0007' } })),
    );

    expect(result).toMatchObject({
      outcome: 'rejected',
      reason: 'detail.context.ticket: must not contain control characters or unpaired surrogates',
    });
    expect(engine.vault.secrets.get(deliverySecretName('release-bot', 'ctx-2'))?.payload).toMatchObject({ status: 'denied' });
    expect(engine.store.rejected).toHaveLength(1);
    expect(engine.sessions.issued.size + engine.keys.issued.size).toBe(0);
  });

  it('refused, leaves no secret it held in the record of the refusal', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const token = `ghp_${'a1'.repeat(18)}`;

    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'ctx-3', context: { note: `${token}\u0007` } })));

    expect(engine.store.rejected[0]?.reason).toBe('detail.context.note: must not contain control characters or unpaired surrogates');
    expect(engine.store.rejected[0]?.excerpt).toContain('[redacted: a GitHub token]');
    expect(JSON.stringify([engine.store.rejected, engine.events.published])).not.toContain(token);
  });
});
