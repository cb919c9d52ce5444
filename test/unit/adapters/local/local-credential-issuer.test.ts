import { describe, expect, it } from 'vitest';
import { StsCredentialProbe } from '../../../../lambdas/adapters/aws/sts-credential-probe';
import { LocalCredentialIssuer } from '../../../../lambdas/adapters/local/local-credential-issuer';
import { CanaryMisconfiguredError } from '../../../../lambdas/adapters/aws/canary-probe';
import type { CredentialKind } from '../../../../lambdas/domain/policy';
import type { RevokeTarget } from '../../../../lambdas/ports';
import { useEmbeddedStore } from '../../../helpers/embedded-store-fixture';
import { issueRequest, LOCAL_STS_GRANT as GRANT, startLocalSts } from '../../../helpers/local-sts';
import { SteppingClock } from '../../../helpers/stepping-clock';

const store = useEmbeddedStore();

async function issuerFor(kind: CredentialKind, options: { lagMs?: number; attempts?: number } = {}) {
  const clock = new SteppingClock();
  const { authority, server } = await startLocalSts(store, { clock, accessKeyRevocationLagMs: options.lagMs ?? 0 });
  const probe = new StsCredentialProbe({
    region: 'us-east-1',
    endpoint: server.url,
    maxAttempts: 1,
    sleep: async (ms) => clock.advance(ms),
  });
  const issuer = new LocalCredentialIssuer({ kind, authority, probe, probeSchedule: { attempts: options.attempts ?? 1, delayMs: 1000 } });
  const request = (ttlSeconds = 900) => issueRequest(kind, clock, { ttlSeconds });
  const target: RevokeTarget = { grantId: GRANT, agentId: 'release-bot', taskId: 'task-1', kind };
  return { clock, authority, probe, issuer, request, target };
}

describe('LocalCredentialIssuer', () => {
  it('issues a credential of its own kind', async () => {
    const { issuer, request } = await issuerFor('aws-iam-access-key');

    const issued = await issuer.issue(request());

    expect(issued).toMatchObject({
      kind: 'aws-iam-access-key',
      principalArn: `arn:aws:iam::000000000000:user/taskbound/taskbound-${GRANT}`,
    });
  });

  it('refuses to hand out a session the canary refuses at once: the role could not prove a revocation', async () => {
    const { authority, probe, request } = await issuerFor('aws-sts-session');
    const refusing = {
      probe: async () => ({ verdict: 'rejected' as const, code: 'AccessDeniedException' }),
      probeUntilRejected: async () => ({ verdict: 'accepted' as const }),
    };
    const issuer = new LocalCredentialIssuer({ kind: 'aws-sts-session', authority, probe, canary: refusing });

    await expect(issuer.issue(request())).rejects.toBeInstanceOf(CanaryMisconfiguredError);
  });

  it("probes the canary with an agent's first session, not with its next ones while that proof holds", async () => {
    const { authority, probe, request } = await issuerFor('aws-sts-session');
    let probes = 0;
    const counting = {
      probe: async () => (probes++, { verdict: 'accepted' as const }),
      probeUntilRejected: async () => ({ verdict: 'accepted' as const }),
    };
    const issuer = new LocalCredentialIssuer({ kind: 'aws-sts-session', authority, probe, canary: counting });

    await issuer.issue(request());
    await issuer.issue({ ...request(), grantId: `${GRANT}-2`, taskId: 'task-2' });
    await issuer.issue({ ...request(), grantId: `${GRANT}-3`, taskId: 'task-3', agentId: 'deploy-bot' });

    expect(probes).toBe(2);
  });

  it('refuses to issue another kind', async () => {
    const { issuer, request } = await issuerFor('aws-iam-access-key');

    await expect(issuer.issue({ ...request(), kind: 'aws-sts-session' })).rejects.toThrow(
      /aws-iam-access-key issuer was asked for a aws-sts-session/,
    );
  });

  it('revokes a grant once, then reports it already revoked', async () => {
    const { issuer, request, target } = await issuerFor('aws-sts-session');
    await issuer.issue(request());

    expect(await issuer.revoke(target)).toBe('revoked');
    expect(await issuer.revoke(target)).toBe('already-revoked');
  });

  it('verifies a delivered credential over the wire: accepted while live, rejected once revoked', async () => {
    const { issuer, request, target } = await issuerFor('aws-sts-session');
    const issued = await issuer.issue(request());

    const before = await issuer.verify(target, issued);
    await issuer.revoke(target);
    const after = await issuer.verify(target, issued);

    expect(before).toEqual({ verdict: 'accepted' });
    expect(after).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('keeps probing through the access key revocation lag until the key is rejected', async () => {
    const { issuer, request, target } = await issuerFor('aws-iam-access-key', { lagMs: 2500, attempts: 4 });
    const issued = await issuer.issue(request());
    await issuer.revoke(target);

    expect(await issuer.verify(target, issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('without the credential at hand, asks the authority about the whole grant', async () => {
    const { issuer, request, target } = await issuerFor('aws-iam-access-key');
    await issuer.issue(request());

    const before = await issuer.verify(target, undefined);
    await issuer.revoke(target);
    const after = await issuer.verify(target, undefined);

    expect(before).toEqual({ verdict: 'accepted' });
    expect(after).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId' });
  });

  it('reports a grant whose session expired as ExpiredToken', async () => {
    const { clock, issuer, request, target } = await issuerFor('aws-sts-session');
    await issuer.issue(request(60));

    clock.advance(60_000);

    expect(await issuer.verify(target, undefined)).toEqual({ verdict: 'rejected', code: 'ExpiredToken' });
  });

  it('reports a grant that never got a credential as rejected', async () => {
    const { issuer, target } = await issuerFor('aws-sts-session');

    expect(await issuer.verify(target, undefined)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId' });
  });

  it('counts a grant as accepted while any of its credentials still works', async () => {
    const { clock, issuer, request, target } = await issuerFor('aws-sts-session');
    await issuer.issue(request(60));
    await issuer.issue(request(900));

    clock.advance(60_000);

    expect(await issuer.verify(target, undefined)).toEqual({ verdict: 'accepted' });
  });
});
