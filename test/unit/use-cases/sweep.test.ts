import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { reportLeak } from '../../../lambdas/use-cases/report-leak';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('sweepDueGrants', () => {
  it('the sweep expires a grant whose timer was lost', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ ttlSeconds: 60 }));
    engine.clock.advance(61_000);
    expect(await sweepDueGrants(engine)).toMatchObject({ expired: 1 });
  });

  it("hours later, reads the key's last use and reports a use after its revocation, once", async () => {
    const engine = fakeEngine();
    let lastUse: Date | undefined;
    Object.assign(engine.keys, { usedAfter: async (_target: unknown, since: Date) => (lastUse && lastUse > since ? lastUse : undefined) });
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', scopes: ['bucket-read-key'] }));
    const keyId = engine.vault.secrets.get('taskbound/deploy-bot/task-1')!.payload.accessKeyId!;
    await reportLeak(engine, { credentialId: keyId, reportedBy: 'scanner' });
    // IAM records a use two seconds after the key was verified dead, and reports it hours later.
    lastUse = new Date(engine.clock.now().getTime() + 2_000);

    engine.clock.advance(60 * 60_000);
    expect((await sweepDueGrants(engine)).dueGrants).toBe(0);
    engine.clock.advance(3 * 60 * 60_000 + 1);
    expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 1, stillValid: 1 });
    const [finding] = engine.events.of('Credential Still Valid');
    expect(finding?.detail).toMatchObject({
      possibleMisuse: true,
      lastUsedAt: lastUse.toISOString(),
      stillValidAfterNoticeMs: 2_000,
      credentialId: keyId,
    });
    expect((await sweepDueGrants(engine)).dueGrants).toBe(0);
    const grant = await engine.store.get(grantIdFor('deploy-bot', 'task-1'));
    expect(grant?.audit.at(-1)).toMatchObject({ action: 'misuse-check', reason: expect.stringMatching(/after it was verified dead/) });
  });
});
