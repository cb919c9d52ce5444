import { describe, expect, it } from 'vitest';
import type { DeliveryPayload } from '../../../lambdas/ports';
import {
  INTERRUPTED_DELIVERY_REASON,
  INTERRUPTED_ISSUANCE_REASON,
  recoverInterruptedIssuance,
} from '../../../lambdas/use-cases/recover-interrupted-issuance';
import { fakeEngine } from '../../helpers/fake-engine';
import { activeGrant, advance, requestedGrant } from '../../helpers/grants';

const DELIVERY = 'taskbound/release-bot/delivered';

describe('recoverInterruptedIssuance', () => {
  it('closes an issuance the last process died in as failed, revoking whatever it may have issued, and tells the runtime', async () => {
    const engine = fakeEngine();
    const interrupted = {
      ...advance(requestedGrant({ agentId: 'release-bot', taskId: 'interrupted' }), 'issuing'),
      deliverySecret: 'taskbound/release-bot/interrupted',
    };
    await engine.store.create(interrupted);

    const report = await recoverInterruptedIssuance(engine, [interrupted]);

    expect(report).toEqual({ closed: 1, revoked: 0, leftToBacklog: 0, failed: 0 });
    expect(await engine.store.get(interrupted.grantId)).toMatchObject({ state: 'failed', reason: INTERRUPTED_ISSUANCE_REASON });
    expect(await engine.vault.read('taskbound/release-bot/interrupted')).toMatchObject({
      status: 'denied',
      reason: INTERRUPTED_ISSUANCE_REASON,
    });
    expect(engine.events.types()).toEqual(['Grant Denied']);
  });

  it('writes the denial into a delivery the dead process had only prepared (created empty and locked)', async () => {
    const engine = fakeEngine();
    const interrupted = {
      ...advance(requestedGrant({ agentId: 'release-bot', taskId: 'prepared' }), 'issuing'),
      deliverySecret: 'taskbound/release-bot/prepared',
    };
    await engine.store.create(interrupted);
    await engine.vault.prepare!({
      ...interrupted,
      name: 'taskbound/release-bot/prepared',
      readerArn: 'arn:aws:iam::111122223333:role/runtime',
    });

    await recoverInterruptedIssuance(engine, [interrupted]);

    expect(engine.vault.empty.size).toBe(0);
    expect(await engine.vault.read('taskbound/release-bot/prepared')).toMatchObject({
      status: 'denied',
      reason: INTERRUPTED_ISSUANCE_REASON,
    });
  });

  it('revokes an active grant whose delivery never got its credential, and leaves one whose delivery holds it', async () => {
    const engine = fakeEngine();
    const undelivered = activeGrant({ agentId: 'release-bot', taskId: 'undelivered', accessKeyId: 'ASIAUNDELIVERED00001' });
    const delivered = {
      ...activeGrant({ agentId: 'release-bot', taskId: 'delivered', accessKeyId: 'ASIADELIVERED0000001' }),
      deliverySecret: DELIVERY,
    };
    await engine.store.create(undelivered);
    await engine.store.create(delivered);
    const payload = {
      status: 'issued',
      grantId: delivered.grantId,
      scopes: delivered.scopes,
      accessKeyId: 'ASIADELIVERED0000001',
    } as unknown as DeliveryPayload;
    await engine.vault.deliver({
      name: DELIVERY,
      grantId: delivered.grantId,
      agentId: 'release-bot',
      taskId: 'delivered',
      readerArn: 'arn:aws:iam::111122223333:role/agent-runtime',
      payload,
    });

    const report = await recoverInterruptedIssuance(engine, [undelivered, delivered]);

    expect(report).toEqual({ closed: 0, revoked: 1, leftToBacklog: 0, failed: 0 });
    expect((await engine.store.get(undelivered.grantId))?.revocation).toMatchObject({
      trigger: 'manual',
      reason: INTERRUPTED_DELIVERY_REASON,
    });
    expect((await engine.store.get(delivered.grantId))?.state).toBe('active');
  });

  it("leaves an undelivered active grant to the event on the bus that will revoke it, so the trigger recorded is that event's", async () => {
    const engine = fakeEngine();
    const ending = activeGrant({ agentId: 'release-bot', taskId: 'ending', accessKeyId: 'ASIAENDING0000000001' });
    const interrupted = activeGrant({ agentId: 'release-bot', taskId: 'interrupted', accessKeyId: 'ASIAINTERRUPTED00001' });
    await engine.store.create(ending);
    await engine.store.create(interrupted);

    const report = await recoverInterruptedIssuance(engine, [ending, interrupted], (grant) => grant.grantId === ending.grantId);

    expect(report).toEqual({ closed: 0, revoked: 1, leftToBacklog: 1, failed: 0 });
    expect((await engine.store.get(ending.grantId))?.state).toBe('active');
    expect(engine.sessions.revokeCalls).toEqual([interrupted.grantId]);
    expect((await engine.store.get(interrupted.grantId))?.revocation).toMatchObject({ trigger: 'manual' });
  });

  it('leaves a grant it could not settle to the sweep, counted as failed, its state untouched', async () => {
    const engine = fakeEngine();
    engine.sessions.failRevocations = 1;
    engine.keys.failRevocations = 1;
    const interrupted = advance(requestedGrant({ agentId: 'release-bot', taskId: 'throttled' }), 'issuing');
    await engine.store.create(interrupted);

    const report = await recoverInterruptedIssuance(engine, [interrupted]);

    expect(report).toEqual({ closed: 0, revoked: 0, leftToBacklog: 0, failed: 1 });
    expect((await engine.store.get(interrupted.grantId))?.state).toBe('issuing');
  });
});
