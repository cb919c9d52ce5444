// Tests: a revocation that hands its proof on (EngineDeps.handOffProofs) probes once and leaves the
// grant `revoked` with `Grant Revoked` saying `proof: pending`; prove-revocation then proves it dead.
import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { proveRevocation } from '../../../lambdas/use-cases/prove-revocation';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { verifyChain } from '../../../lambdas/domain/audit';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

const GRANT = grantIdFor('release-bot', 'task-1');
const ended = { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' as const };

async function handingOff() {
  const engine = { ...fakeEngine(), handOffProofs: true };
  await startTask(engine, taskStarted());
  return engine;
}

describe('a revocation that hands its proof on', () => {
  it('probes once, and leaves a death IAM has not enforced yet to prove-revocation, saying so on its Grant Revoked', async () => {
    const engine = await handingOff();
    engine.sessions.stillValidForProbes = 1;

    const result = await endTask(engine, ended);

    expect(result).toMatchObject({ outcome: 'revoked-unverified', grant: { state: 'revoked' } });
    expect(engine.sessions.verifyPatience).toEqual(['one-probe']);
    const [revoked] = engine.events.of('Grant Revoked');
    expect(revoked?.detail).toMatchObject({ grantId: GRANT, proof: 'pending' });
    expect(engine.events.of('Revocation Verified')).toEqual([]);
  });

  it('then proves it dead: the delivery deleted, the grant verified, Revocation Verified said once', async () => {
    const engine = await handingOff();
    engine.sessions.stillValidForProbes = 1;
    await endTask(engine, ended);
    const delivery = (await engine.store.get(GRANT))?.deliverySecret;

    const proven = await proveRevocation(engine, GRANT);

    expect(proven).toMatchObject({ outcome: 'verified', grant: { state: 'verified', revocation: { trigger: 'task_ended' } } });
    expect(engine.sessions.verifyPatience).toEqual(['one-probe', 'until-refused']);
    expect(await engine.vault.read(delivery!)).toBeUndefined();
    expect(engine.events.types().filter((type) => type.startsWith('Grant Revoked') || type === 'Revocation Verified')).toEqual([
      'Grant Revoked',
      'Revocation Verified',
    ]);
    expect(verifyChain(GRANT, (await engine.store.get(GRANT))!.audit)).toEqual({ ok: true });
  });

  it('verifies in place when the one probe is already refused: nothing is handed on', async () => {
    const engine = await handingOff();

    expect(await endTask(engine, ended)).toMatchObject({ outcome: 'verified' });
    expect(engine.events.of('Grant Revoked')[0]?.detail.proof).toBeUndefined();
  });

  it('probes until refused, in place, when the engine does not hand proofs on', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    engine.sessions.stillValidForProbes = 1;

    await endTask(engine, ended);

    expect(engine.sessions.verifyPatience).toEqual(['until-refused']);
    expect(engine.events.of('Grant Revoked')[0]?.detail.proof).toBeUndefined();
  });

  it('proves nothing, and writes nothing, for a grant no longer revoked (proven meanwhile) or unknown', async () => {
    const engine = await handingOff();
    await endTask(engine, ended);
    const before = await engine.store.get(GRANT);
    const published = engine.events.published.length;

    expect(await proveRevocation(engine, GRANT)).toMatchObject({ outcome: 'nothing-to-prove', grant: { state: 'verified' } });
    expect(await proveRevocation(engine, grantIdFor('release-bot', 'never-started'))).toEqual({ outcome: 'nothing-to-prove' });
    expect(await engine.store.get(GRANT)).toEqual(before);
    expect(engine.events.published.length).toBe(published);
  });
});

describe('a trigger that meets a grant already killed, its proof pending', () => {
  it('probes it once and leaves the proof where it is, without a second proof request', async () => {
    const engine = await handingOff();
    engine.sessions.stillValidForProbes = 2;
    await endTask(engine, ended);
    const requests = engine.events.of('Grant Revoked').length;

    const again = await endTask(engine, ended);

    expect(again).toMatchObject({ outcome: 'revoked-unverified', grant: { state: 'revoked' } });
    expect(engine.sessions.verifyPatience).toEqual(['one-probe', 'one-probe']);
    expect(engine.events.of('Grant Revoked')).toHaveLength(requests);
  });
});
