import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { grantIdFor } from '../../../lambdas/domain/ids';
import type { CredentialMaterial, ProbeVerdict, RevokeTarget } from '../../../lambdas/ports';
import { fakeEngine, taskStarted, type FakeEngine } from '../../helpers/fake-engine';

const GRANT = grantIdFor('release-bot', 'task-1');
const ended = { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' as const };

/** The session's deny takes `propagationMs` to be enforced; each probe costs `probeMs` of the clock. */
function denyTakesTime(engine: FakeEngine, propagationMs: number, probeMs = 250): void {
  const verify = engine.sessions.verify.bind(engine.sessions);
  let revokedAt: number | undefined;
  Object.assign(engine.sessions, {
    verify: async (target: RevokeTarget, material: CredentialMaterial | undefined): Promise<ProbeVerdict> => {
      revokedAt ??= engine.clock.now().getTime();
      engine.clock.advance(probeMs);
      if (engine.clock.now().getTime() - revokedAt < propagationMs) return { verdict: 'accepted' };
      return verify(target, material);
    },
  });
}

describe('revokeGrant: proof of death', () => {
  it('records the time from the revocation to the first refused call, in the audit chain and the event', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    denyTakesTime(engine, 0, 1_200);

    const result = await endTask(engine, ended);

    expect(result).toMatchObject({ outcome: 'verified' });
    const grant = await engine.store.get(GRANT);
    expect(grant?.audit.at(-1)).toMatchObject({ action: 'verified', detail: { observed: true, propagationMs: 1_200 } });
    expect(engine.events.of('Revocation Verified')[0]?.detail).toMatchObject({ observed: true, propagationMs: 1_200 });
  });

  it('leaves a session whose deny is not yet enforced revoked, and the sweep verifies it later with the whole propagation time', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    denyTakesTime(engine, 90_000);

    const result = await endTask(engine, ended);
    expect(result).toMatchObject({ outcome: 'revoked-unverified', probe: 'accepted' });
    expect((await engine.store.get(GRANT))?.state).toBe('revoked');

    engine.clock.advance(60_000);
    expect(await sweepDueGrants(engine)).toMatchObject({ stillValid: 1 });
    expect(engine.events.of('Credential Still Valid')[0]?.detail).toMatchObject({ grantId: GRANT });
    expect((await engine.store.get(GRANT))?.state).toBe('revoked');

    engine.clock.advance(60_000);
    expect(await sweepDueGrants(engine)).toMatchObject({ verified: 1 });
    const grant = await engine.store.get(GRANT);
    expect(grant?.state).toBe('verified');
    const verified = grant?.audit.at(-1);
    expect(verified?.detail?.propagationMs).toBeGreaterThanOrEqual(90_000);
  });

  it('records no propagation time when the credential was not at hand to probe', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    engine.vault.secrets.clear();

    await endTask(engine, ended);

    const grant = await engine.store.get(GRANT);
    expect(grant?.audit.at(-1)).toMatchObject({ action: 'verified', detail: { observed: false } });
    expect(grant?.audit.at(-1)?.detail).not.toHaveProperty('propagationMs');
  });
});
