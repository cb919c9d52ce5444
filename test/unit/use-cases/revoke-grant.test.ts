import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

const ended = (overrides: Record<string, unknown> = {}) => ({
  agentId: 'release-bot',
  taskId: 'task-1',
  outcome: 'succeeded' as const,
  ...overrides,
});

describe('revokeGrant', () => {
  it('reports Revocation Failed and leaves the grant for the sweep, which finishes it', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    engine.sessions.failRevocations = 1;
    expect((await endTask(engine, ended())).outcome).toBe('revocation-failed');
    expect(engine.events.of('Revocation Failed')[0]?.detail.reason).toMatch(/Throttling/);
    engine.clock.advance(61_000);
    const report = await sweepDueGrants(engine);
    expect(report).toMatchObject({ dueGrants: 1, retried: 1, errors: 0 });
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('verified');
  });

  it('catches a credential still valid after revocation, reports how long, and revokes again', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    engine.sessions.stillValidForProbes = 2;
    expect((await endTask(engine, ended())).outcome).toBe('revoked-unverified');
    engine.clock.advance(61_000);
    const report = await sweepDueGrants(engine);
    expect(report.stillValid).toBe(1);
    const [finding] = engine.events.of('Credential Still Valid');
    expect(finding?.detail.stillValidAfterNoticeMs).toBe(61_000);
    expect(JSON.stringify(engine.events.published)).not.toMatch(/do-not-log/);
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('verified');
  });

  it('revoking an already verified grant by another trigger changes nothing and says nothing', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    await endTask(engine, ended());
    const published = engine.events.published.length;
    const { revokeGrant } = await import('../../../lambdas/use-cases/revoke-grant');
    const again = await revokeGrant(engine, grantIdFor('release-bot', 'task-1'), {
      trigger: 'manual',
      by: 'secops',
      reason: 'again',
      noticeAt: engine.clock.now().toISOString(),
    });
    expect(again.outcome).toBe('already-revoked');
    expect(engine.events.published).toHaveLength(published);
    // A redelivered Task Ended, though, says the outcome again (its first run may not have).
    await endTask(engine, ended());
    expect(engine.events.types().slice(published)).toEqual(['Grant Revoked', 'Revocation Verified']);
  });
});
