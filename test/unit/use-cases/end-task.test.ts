import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { decideGrant } from '../../../lambdas/use-cases/decide-grant';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { verifyChain } from '../../../lambdas/domain/audit';
import { fakeEngine, refundDecision as decision, refundStarted as transact, taskStarted } from '../../helpers/fake-engine';

const ended = (overrides: Record<string, unknown> = {}) => ({
  agentId: 'release-bot',
  taskId: 'task-1',
  outcome: 'succeeded' as const,
  ...overrides,
});

describe('endTask', () => {
  it('issues, delivers, schedules expiry, then revokes, verifies and deletes the delivery', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted());
    expect(started.outcome).toBe('issued');
    const grantId = grantIdFor('release-bot', 'task-1');
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload).toMatchObject({ status: 'issued', grantId });
    expect(engine.expiry.scheduled.has(grantId)).toBe(true);

    const result = await endTask(engine, ended());
    expect(result.outcome).toBe('verified');
    expect(engine.sessions.isLive(grantId)).toBe(false);
    expect(engine.vault.secrets.has('taskbound/release-bot/task-1')).toBe(false);
    expect(engine.expiry.scheduled.has(grantId)).toBe(false);
    expect(engine.events.types()).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked', 'Revocation Verified']);
    const grant = await engine.store.get(grantId);
    expect(verifyChain(grantId, grant!.audit)).toEqual({ ok: true });
  });

  it('a repeated Task Ended changes nothing', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    await endTask(engine, ended());
    const before = await engine.store.get(grantIdFor('release-bot', 'task-1'));
    expect((await endTask(engine, ended())).outcome).toBe('already-revoked');
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.version).toBe(before?.version);
  });

  it('rotates the brokered secret after the task ends', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted(transact));
    await decideGrant(engine, decision('cfo@example.com'));
    await decideGrant(engine, decision('lead@example.com'));
    await endTask(engine, ended({ agentId: 'deploy-bot', taskId: 'refund-1' }));
    expect(engine.rotator.rotated).toEqual(['arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-AbCdEf']);
  });
});
