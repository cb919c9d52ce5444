// Tests: an invalid `Credential Leaked` (reportInvalidLeak, through the credential-leaked handler)
// still revokes the credential it names, and no refused event records the secret it carried.
import { describe, expect, it } from 'vitest';
import { deliverySecretName, grantIdFor } from '../../../lambdas/domain/ids';
import { verifyChain } from '../../../lambdas/domain/audit';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { envelope, handlersOver, invoke } from '../handlers/handler-harness';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

async function issuedKey() {
  const engine = fakeEngine();
  const handlers = handlersOver(engine);
  await invoke(
    handlers,
    'task-started',
    envelope('Task Started', taskStarted({ agentId: 'deploy-bot', taskId: 'leak-1', scopes: ['bucket-read-key'] })),
  );
  const accessKeyId = engine.vault.secrets.get(deliverySecretName('deploy-bot', 'leak-1'))!.payload.accessKeyId!;
  return { engine, handlers, accessKeyId, grantId: grantIdFor('deploy-bot', 'leak-1') };
}

const INVALID_REPORTS: ReadonlyArray<readonly [string, (accessKeyId: string) => Record<string, unknown>]> = [
  [
    'evidence over 4 KB holding the secret',
    (id) => ({ credentialId: id, reportedBy: 'scanner', evidence: `gist: ${SECRET}\n${'log line\n'.repeat(600)}` }),
  ],
  ['the secret in a field the schema does not know', (id) => ({ credentialId: id, reportedBy: 'scanner', secretAccessKey: SECRET })],
  ['no reportedBy', (id) => ({ credentialId: id, evidence: SECRET })],
];

describe('an invalid Credential Leaked (reportInvalidLeak, through the credential-leaked handler)', () => {
  it.each(INVALID_REPORTS)('with %s still revokes the named credential and proves it dead', async (_case, report) => {
    const { engine, handlers, accessKeyId, grantId } = await issuedKey();

    const result = await invoke(handlers, 'credential-leaked', envelope('Credential Leaked', report(accessKeyId)));

    expect(result).toMatchObject({ outcome: 'rejected', grant: { grantId, state: 'verified' } });
    expect(engine.keys.isLive(grantId)).toBe(false);
    const grant = await engine.store.get(grantId);
    expect(grant?.revocation).toMatchObject({
      trigger: 'leaked',
      reason: `reported leaked by an invalid Credential Leaked event (${result.reason})`,
    });
    expect(verifyChain(grantId, grant!.audit)).toEqual({ ok: true });
  });

  it.each(INVALID_REPORTS)('with %s records the refusal without the secret it carried', async (_case, report) => {
    const { engine, handlers, accessKeyId } = await issuedKey();

    await invoke(handlers, 'credential-leaked', envelope('Credential Leaked', report(accessKeyId)));

    expect(engine.store.rejected).toHaveLength(1);
    expect(engine.store.rejected[0]).toMatchObject({ detailType: 'Credential Leaked', excerpt: expect.stringContaining(accessKeyId) });
    const everything = JSON.stringify([engine.store.rejected, engine.store.all(), engine.events.published]);
    expect(everything).not.toContain(SECRET);
  });

  it('revokes nothing when the invalid report names no credential Taskbound issued', async () => {
    const { engine, handlers, grantId } = await issuedKey();

    const result = await invoke(
      handlers,
      'credential-leaked',
      envelope('Credential Leaked', { credentialId: 'AKIAEXAMPLE000000001', reportedBy: 'scanner', extra: 1 }),
    );

    expect(result).toMatchObject({ outcome: 'rejected' });
    expect(result).not.toHaveProperty('grant');
    expect(engine.keys.isLive(grantId)).toBe(true);
    expect(engine.store.rejected).toHaveLength(1);
  });

  it('does not record a secret pasted as the credential id of an invalid report', async () => {
    const { engine, handlers } = await issuedKey();

    await invoke(handlers, 'credential-leaked', envelope('Credential Leaked', { credentialId: SECRET, reportedBy: 'scanner', extra: 1 }));

    expect(engine.store.rejected[0]?.excerpt).toContain('not recorded: 40 characters');
    expect(JSON.stringify(engine.store.rejected)).not.toContain(SECRET);
  });

  it('does not record a secret pasted as the credential id of a valid report', async () => {
    const { engine, handlers, grantId } = await issuedKey();

    const result = await invoke(
      handlers,
      'credential-leaked',
      envelope('Credential Leaked', { credentialId: SECRET, reportedBy: 'scanner' }),
    );

    expect(result.outcome).toBe('unknown-credential');
    expect(engine.keys.isLive(grantId)).toBe(true);
    expect(engine.store.rejected[0]?.excerpt).toContain('not recorded: 40 characters');
    expect(JSON.stringify(engine.store.rejected)).not.toContain(SECRET);
  });
});
