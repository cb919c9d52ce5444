import { describe, expect, it } from 'vitest';
import { STSClient } from '@aws-sdk/client-sts';
import { probeEnvironmentOf, StsCredentialProbe } from '../../../../lambdas/adapters/aws/sts-credential-probe';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import type { AwsResponse, AwsService } from '../../../../lambdas/local/emulated-aws/protocol';
import { stsError } from '../../../../lambdas/local/emulated-aws/sts-service';
import type { IssueRequest } from '../../../../lambdas/ports';
import { useEmbeddedStore } from '../../../helpers/embedded-store-fixture';
import { issueRequest, LOCAL_STS_GRANT as GRANT, startLocalSts } from '../../../helpers/local-sts';
import { SteppingClock } from '../../../helpers/stepping-clock';
import { expectJitteredWaits } from '../../../helpers/backoff';

/** An STS that answers every request with the next scripted response. */
function scriptedSts(responses: AwsResponse[]): AwsService {
  return {
    name: 'scripted-sts',
    matches: (request) => request.signingService === 'sts',
    handle: async () => responses.shift() ?? stsError('InternalFailure', 'script ran out'),
  };
}

const SOME_KEY = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

const store = useEmbeddedStore();

async function localEngine(accessKeyRevocationLagMs = 0) {
  const clock = new SteppingClock();
  const { authority, server } = await startLocalSts(store, { clock, accessKeyRevocationLagMs });
  const issue = (kind: IssueRequest['kind'], ttlSeconds = 900) => authority.issue(issueRequest(kind, clock, { ttlSeconds }));
  return { clock, authority, server, issue };
}

async function scriptedServer(responses: AwsResponse[]): Promise<RunningServer> {
  const server = await startAwsProtocolServer({ services: [scriptedSts(responses)] });
  store.servers.push(server);
  return server;
}

describe('StsCredentialProbe', () => {
  it('accepts a live credential', async () => {
    const { server, issue } = await localEngine();
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

    expect(await probe.probe(await issue('aws-sts-session'))).toEqual({ verdict: 'accepted' });
  });

  it('reports a revoked credential as rejected with InvalidClientTokenId', async () => {
    const { authority, server, issue } = await localEngine();
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });
    const issued = await issue('aws-iam-access-key');

    await authority.revokeGrant(GRANT);

    expect(await probe.probe(issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('reports an expired session as rejected with ExpiredToken', async () => {
    const { clock, server, issue } = await localEngine();
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });
    const issued = await issue('aws-sts-session', 60);

    clock.advance(60_000);

    expect(await probe.probe(issued)).toEqual({ verdict: 'rejected', code: 'ExpiredToken', observed: true });
  });

  it('reports a wrong secret key as rejected with SignatureDoesNotMatch', async () => {
    const { server, issue } = await localEngine();
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });
    const issued = await issue('aws-iam-access-key');

    expect(await probe.probe({ ...issued, secretAccessKey: SOME_KEY.secretAccessKey })).toEqual({
      verdict: 'rejected',
      code: 'SignatureDoesNotMatch',
      observed: true,
    });
  });

  it('reports AccessDenied as a rejection', async () => {
    const server = await scriptedServer([stsError('AccessDenied', 'User is not authorized')]);
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

    expect(await probe.probe(SOME_KEY)).toEqual({ verdict: 'rejected', code: 'AccessDenied', observed: true });
  });

  it('does not count throttling as an answer about the credential', async () => {
    const server = await scriptedServer([{ ...stsError('Throttling', 'Rate exceeded'), status: 400 }]);
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

    expect(await probe.probe(SOME_KEY)).toEqual({ verdict: 'unknown', why: 'STS answered 400 Throttling' });
  });

  it('does not count a clock-skew signature failure as a rejection', async () => {
    const skew = 'Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z (20240101T002500Z - 15 min.)';
    const server = await scriptedServer([stsError('SignatureDoesNotMatch', skew)]);
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

    expect(await probe.probe(SOME_KEY)).toMatchObject({ verdict: 'unknown' });
  });

  it('reports an unreachable STS as unknown', async () => {
    const server = await startAwsProtocolServer({ services: [] });
    await server.close();
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

    expect(await probe.probe(SOME_KEY)).toMatchObject({ verdict: 'unknown', why: expect.stringMatching(/^no response from STS/) });
  });

  it('never names the secret in a verdict', async () => {
    const server = await scriptedServer([{ ...stsError('InternalFailure', `echo ${SOME_KEY.secretAccessKey}`), status: 500 }]);
    const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

    expect(JSON.stringify(await probe.probe(SOME_KEY))).not.toContain(SOME_KEY.secretAccessKey);
  });

  describe('probeUntilRejected', () => {
    it('keeps probing a deleted access key through the revocation lag, backing off', async () => {
      const { clock, authority, server, issue } = await localEngine(5000);
      const waits: number[] = [];
      const probe = new StsCredentialProbe({
        region: 'us-east-1',
        endpoint: server.url,
        maxAttempts: 1,
        sleep: async (ms) => {
          waits.push(ms);
          clock.advance(ms);
        },
      });
      const issued = await issue('aws-iam-access-key');
      await authority.revokeGrant(GRANT);

      const startedAt = Date.now();
      const verdict = await probe.probeUntilRejected(issued, { attempts: 5, delayMs: 1000 });
      // The stepping clock is real time plus the waits: a loaded machine's real time counts too.
      const realElapsedMs = Date.now() - startedAt;

      expect(verdict).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
      // Jittered waits: the probe stops at the first one that outlasts the 5 s lag.
      const total = (ms: readonly number[]) => ms.reduce((sum, wait) => sum + wait, 0);
      expectJitteredWaits(waits, [1000, 2000, 4000, 8000].slice(0, waits.length));
      expect(total(waits) + realElapsedMs).toBeGreaterThanOrEqual(5000);
      expect(total(waits.slice(0, -1))).toBeLessThan(5000);
    });

    it('returns the last verdict when the credential outlives every attempt', async () => {
      const { server, issue } = await localEngine();
      const waits: number[] = [];
      const probe = new StsCredentialProbe({
        region: 'us-east-1',
        endpoint: server.url,
        maxAttempts: 1,
        sleep: async (ms) => void waits.push(ms),
      });

      const verdict = await probe.probeUntilRejected(await issue('aws-iam-access-key'), { attempts: 3, delayMs: 10 });

      expect(verdict).toEqual({ verdict: 'accepted' });
      expectJitteredWaits(waits, [10, 20]);
    });

    it('retries past an unknown answer', async () => {
      const server = await scriptedServer([
        { ...stsError('Throttling', 'Rate exceeded'), status: 400 },
        stsError('InvalidClientTokenId', 'gone'),
      ]);
      const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1, sleep: async () => undefined });

      expect(await probe.probeUntilRejected(SOME_KEY, { attempts: 3, delayMs: 10 })).toEqual({
        verdict: 'rejected',
        code: 'InvalidClientTokenId',
        observed: true,
      });
    });
  });

  describe('the settings each probe client would look up in the environment', () => {
    it('are read once from a client that looked them up, so the environment still decides them', async () => {
      const saved = { fips: process.env.AWS_USE_FIPS_ENDPOINT, retry: process.env.AWS_RETRY_MODE };
      process.env.AWS_USE_FIPS_ENDPOINT = 'true';
      process.env.AWS_RETRY_MODE = 'adaptive';
      try {
        const environment = await probeEnvironmentOf(new STSClient({ region: 'us-east-1' }).config);
        expect(environment).toMatchObject({ useFipsEndpoint: true, useDualstackEndpoint: false, retryMode: 'adaptive' });
        const client = new STSClient({ region: 'us-east-1', ...environment });
        expect(await client.config.useFipsEndpoint()).toBe(true);
        client.destroy();
      } finally {
        for (const [name, value] of [
          ['AWS_USE_FIPS_ENDPOINT', saved.fips],
          ['AWS_RETRY_MODE', saved.retry],
        ] as const)
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
      }
    });

    it('serve every later probe of the same prober: each signs with its own credential', async () => {
      const { authority, server, issue } = await localEngine();
      const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });
      const key = await issue('aws-iam-access-key');
      expect(await probe.probe(key)).toEqual({ verdict: 'accepted' });
      await authority.revokeGrant(GRANT);
      expect(await probe.probe(key)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
      expect(await probe.probe({ ...key, secretAccessKey: 'not-the-secret' })).toMatchObject({ verdict: 'rejected' });
    });
  });
});
