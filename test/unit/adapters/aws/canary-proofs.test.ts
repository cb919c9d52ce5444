import { describe, expect, it } from 'vitest';
import { CANARY_PROOF_TTL_MS, CanaryMisconfiguredError, CanaryProofs } from '../../../../lambdas/adapters/aws/canary-probe';
import type { CredentialMaterial, ProbeVerdict } from '../../../../lambdas/ports';

const SESSION: CredentialMaterial = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'not-a-secret', sessionToken: 'token' };

/** A canary that answers each probe with the next verdict, and counts the probes. */
function scriptedCanary(...verdicts: ProbeVerdict[]) {
  const canary = {
    probes: 0,
    probe: async (): Promise<ProbeVerdict> => verdicts[canary.probes++] ?? { verdict: 'accepted' },
  };
  return canary;
}

function proofsAt(start = 1_000_000) {
  const clock = { ms: start };
  return { clock, proofs: new CanaryProofs(() => clock.ms) };
}

describe('CanaryProofs', () => {
  it("probes a role's first session, then not its sessions within the proof's lifetime", async () => {
    const { clock, proofs } = proofsAt();
    const canary = scriptedCanary();

    await proofs.assertAnswers('role/release-bot', SESSION, canary);
    clock.ms += CANARY_PROOF_TTL_MS - 1;
    await proofs.assertAnswers('role/release-bot', SESSION, canary);

    expect(canary.probes).toBe(1);
  });

  it('proves again once the lifetime is over, and each role on its own', async () => {
    const { clock, proofs } = proofsAt();
    const canary = scriptedCanary();

    await proofs.assertAnswers('role/release-bot', SESSION, canary);
    await proofs.assertAnswers('role/deploy-bot', SESSION, canary);
    clock.ms += CANARY_PROOF_TTL_MS;
    await proofs.assertAnswers('role/release-bot', SESSION, canary);

    expect(canary.probes).toBe(3);
  });

  it('refuses a session the canary refuses, and forgets the role so the next session is probed too', async () => {
    const { proofs } = proofsAt();
    const canary = scriptedCanary({ verdict: 'rejected', code: 'AccessDeniedException' }, { verdict: 'accepted' });

    await expect(proofs.assertAnswers('role/release-bot', SESSION, canary)).rejects.toBeInstanceOf(CanaryMisconfiguredError);
    await proofs.assertAnswers('role/release-bot', SESSION, canary);

    expect(canary.probes).toBe(2);
  });

  it('takes no answer (throttled) as no proof: the session is issued and the next one probed', async () => {
    const { proofs } = proofsAt();
    const canary = scriptedCanary({ verdict: 'unknown', why: 'throttled' }, { verdict: 'accepted' });

    await proofs.assertAnswers('role/release-bot', SESSION, canary);
    await proofs.assertAnswers('role/release-bot', SESSION, canary);
    await proofs.assertAnswers('role/release-bot', SESSION, canary);

    expect(canary.probes).toBe(2);
  });

  it('a proof taken before a refusal no longer counts', async () => {
    const { clock, proofs } = proofsAt();
    const canary = scriptedCanary({ verdict: 'accepted' }, { verdict: 'rejected', code: 'AccessDeniedException' });

    await proofs.assertAnswers('role/release-bot', SESSION, canary);
    clock.ms += CANARY_PROOF_TTL_MS;
    await expect(proofs.assertAnswers('role/release-bot', SESSION, canary)).rejects.toBeInstanceOf(CanaryMisconfiguredError);
    await proofs.assertAnswers('role/release-bot', SESSION, canary);

    expect(canary.probes).toBe(3);
  });
});
