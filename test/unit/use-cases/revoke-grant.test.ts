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

  it('revokes an active grant with one store write, its claim riding with the verified state', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    const grantId = grantIdFor('release-bot', 'task-1');
    const writes: string[] = [];
    const update = engine.store.update.bind(engine.store);
    engine.store.update = async (previous, next) => {
      writes.push(`${previous.state}→${next.state}`);
      return update(previous, next);
    };
    expect((await endTask(engine, ended())).outcome).toBe('verified');
    expect(writes).toEqual(['active→verified']);
    const actions = (await engine.store.get(grantId))?.audit.map((entry) => entry.action);
    expect(actions?.slice(-3)).toEqual(['revoke:task_ended', 'revoked', 'verified']);
  });

  it('writes the claim of an active grant when its revocation fails, so the sweep finds it revoking', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    engine.sessions.failRevocations = 1;
    const result = await endTask(engine, ended());
    expect(result).toMatchObject({ outcome: 'revocation-failed', grant: { state: 'revoking' } });
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('revoking');
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
