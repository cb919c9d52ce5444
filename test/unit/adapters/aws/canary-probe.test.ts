import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { LOCAL_CANARY_SECRET_NAME, SecretsManagerCanaryProbe } from '../../../../lambdas/adapters/aws/canary-probe';
import { canaryStatement } from '../../../../lambdas/domain/canary';
import { PROBE_USER_AGENT } from '../../../../lambdas/domain/use-after-revocation';
import { startAwsProtocolServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { LocalCredentialAuthority } from '../../../../lambdas/local/emulated-aws/credential-authority';
import { issuedCredentialGate } from '../../../../lambdas/local/emulated-aws/issued-credential-gate';
import { createSecretsManagerService } from '../../../../lambdas/local/emulated-aws/secrets-manager-service';
import type { AwsRequest } from '../../../../lambdas/local/emulated-aws/protocol';
import type { IssueRequest } from '../../../../lambdas/ports';
import { useEmbeddedStore } from '../../../helpers/embedded-store-fixture';
import { issueRequest, LOCAL_STS_GRANT as GRANT } from '../../../helpers/local-sts';
import { SteppingClock } from '../../../helpers/stepping-clock';

const store = useEmbeddedStore();
const ENGINE_KEY = { accessKeyId: 'AKIALOCALENGINE00000', secretAccessKey: 'engine-secret' };

/** The local engine's Secrets Manager behind its issued-credential gate, with the canary created. */
async function localSecretsManager(options: { sessionDenyLagMs?: number; accessKeyRevocationLagMs?: number } = {}) {
  const clock = new SteppingClock();
  const authority = new LocalCredentialAuthority({ client: store.client, tableName: store.freshTableName(), clock, ...options });
  await authority.start();
  const seen: AwsRequest[] = [];
  const secrets = await createSecretsManagerService({ now: () => clock.now(), gate: issuedCredentialGate(authority, clock) });
  const server = await startAwsProtocolServer({
    services: [{ ...secrets, name: secrets.name, matches: (r) => secrets.matches(r), handle: (r) => (seen.push(r), secrets.handle(r)) }],
  });
  store.servers.push(server);
  const engine = new SecretsManagerClient({ region: 'us-east-1', endpoint: server.url, credentials: ENGINE_KEY });
  await engine.send(new CreateSecretCommand({ Name: LOCAL_CANARY_SECRET_NAME, SecretString: 'canary' }));
  const sleeps: number[] = [];
  const probe = new SecretsManagerCanaryProbe({
    region: 'us-east-1',
    endpoint: server.url,
    canarySecretId: LOCAL_CANARY_SECRET_NAME,
    maxAttempts: 1,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
  });
  const issue = (kind: IssueRequest['kind'], ttlSeconds = 900) => authority.issue(issueRequest(kind, clock, { ttlSeconds }));
  return { clock, authority, probe, issue, seen, sleeps };
}

describe('SecretsManagerCanaryProbe against the local engine', () => {
  it("accepts a live session: DescribeSecret on the canary, signed by the session, with the probe's user agent", async () => {
    const { probe, issue, seen } = await localSecretsManager();
    const session = await issue('aws-sts-session');

    expect(await probe.probe(session)).toEqual({ verdict: 'accepted' });
    const call = seen.at(-1)!;
    expect(call.target).toBe('secretsmanager.DescribeSecret');
    expect(call.accessKeyId).toBe(session.accessKeyId);
    expect(call.headers['user-agent']).toContain(PROBE_USER_AGENT);
  });

  it("is denied a revoked session's call (AccessDeniedException), and says it saw the refusal", async () => {
    const { authority, probe, issue } = await localSecretsManager();
    const session = await issue('aws-sts-session');

    await authority.revokeGrant(GRANT);

    expect(await probe.probe(session)).toEqual({ verdict: 'rejected', code: 'AccessDeniedException', observed: true });
  });

  it('keeps probing while the deny propagates, backing off, and reports the first refusal', async () => {
    const { authority, clock, probe, issue, sleeps } = await localSecretsManager({ sessionDenyLagMs: 1_500 });
    const session = await issue('aws-sts-session');
    await authority.revokeGrant(GRANT);
    const revokedAt = clock.now().getTime();

    const verdict = await probe.probeUntilRejected(session, { attempts: 6, delayMs: 250 });

    expect(verdict).toEqual({ verdict: 'rejected', code: 'AccessDeniedException', observed: true });
    // Jittered backoff doubling from 250 ms; the first probe after the 1.5 s lag is refused.
    for (const [index, wait] of sleeps.entries()) {
      expect(wait).toBeGreaterThanOrEqual(125 * 2 ** index);
      expect(wait).toBeLessThanOrEqual(250 * 2 ** index);
    }
    expect(clock.now().getTime() - revokedAt).toBeGreaterThanOrEqual(1_500);
    expect(sleeps.length).toBeLessThan(6);
  });

  it('gives up after the schedule while the deny is still not enforced', async () => {
    const { authority, probe, issue } = await localSecretsManager({ sessionDenyLagMs: 60_000 });
    const session = await issue('aws-sts-session');
    await authority.revokeGrant(GRANT);

    expect(await probe.probeUntilRejected(session, { attempts: 3, delayMs: 250 })).toEqual({ verdict: 'accepted' });
  });

  it('reports an expired session as ExpiredTokenException and a deleted key as UnrecognizedClientException', async () => {
    const { authority, clock, probe, issue } = await localSecretsManager();
    const session = await issue('aws-sts-session', 60);
    clock.advance(60_000);
    expect(await probe.probe(session)).toEqual({ verdict: 'rejected', code: 'ExpiredTokenException', observed: true });

    const key = await authority.issue(issueRequest('aws-iam-access-key', clock, { grantId: 'g-bbbbbbbbbbbbbbbbbbbbbbbbbb' }));
    await authority.revokeGrant('g-bbbbbbbbbbbbbbbbbbbbbbbbbb');
    expect(await probe.probe(key)).toEqual({ verdict: 'rejected', code: 'UnrecognizedClientException', observed: true });
  });

  it('judges many concurrent sessions each by its own credential, over one kept client', async () => {
    const { authority, clock, probe, seen } = await localSecretsManager();
    const grants = Array.from({ length: 20 }, (_, index) => `g-${'abcdefghijklmnopqrstuvwxyz'[index]!.repeat(26)}`);
    const sessions = await Promise.all(grants.map((grantId) => authority.issue(issueRequest('aws-sts-session', clock, { grantId }))));
    const revoked = new Set(grants.filter((_, index) => index % 2 === 1));
    for (const grantId of revoked) await authority.revokeGrant(grantId);
    seen.length = 0;

    const verdicts = await Promise.all(sessions.map((session) => probe.probe(session)));

    expect(verdicts).toEqual(
      grants.map((grantId) =>
        revoked.has(grantId) ? { verdict: 'rejected', code: 'AccessDeniedException', observed: true } : { verdict: 'accepted' },
      ),
    );
    expect(seen.map((call) => call.accessKeyId).sort()).toEqual(sessions.map((session) => session.accessKeyId).sort());
  });

  it('does not take a wrong session token for a revocation', async () => {
    const { probe, issue } = await localSecretsManager();
    const session = await issue('aws-sts-session');

    expect(await probe.probe({ ...session, sessionToken: 'forged' })).toEqual({
      verdict: 'rejected',
      code: 'UnrecognizedClientException',
      observed: true,
    });
    expect(await probe.probe({ ...session, secretAccessKey: 'wrong' })).toMatchObject({ verdict: 'unknown' });
  });
});

describe('the canary permission', () => {
  it('grants the canary by name, whatever suffix Secrets Manager gave it', () => {
    expect(canaryStatement('arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound-engine/canary-??????')).toEqual({
      Effect: 'Allow',
      Action: 'secretsmanager:DescribeSecret',
      Resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound-engine/canary-??????',
    });
  });
});
