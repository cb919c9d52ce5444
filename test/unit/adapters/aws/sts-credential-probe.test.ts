import { describe, expect, it } from 'vitest';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { keptProbeClient, withCredential } from '../../../../lambdas/adapters/aws/probe-client';
import { StsCredentialProbe, verdictOf } from '../../../../lambdas/adapters/aws/sts-credential-probe';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import type { AwsResponse, AwsService } from '../../../../lambdas/local/emulated-aws/protocol';
import { createStsService, stsError } from '../../../../lambdas/local/emulated-aws/sts-service';
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

  describe('one kept client for every probe', () => {
    /** The local STS, recording which access key signed each request it answered. */
    async function recordingLocalSts() {
      const clock = new SteppingClock();
      const { authority } = await startLocalSts(store, { clock });
      const sts = createStsService({ authority, clock });
      const signedBy: string[] = [];
      const server = await startAwsProtocolServer({
        services: [
          {
            ...sts,
            matches: (request) => sts.matches(request),
            handle: (request) => (signedBy.push(request.accessKeyId ?? ''), sts.handle(request)),
          },
        ],
      });
      store.servers.push(server);
      return { clock, authority, server, signedBy };
    }

    it('judges many concurrent probes each by its own credential: revoked ones rejected, live ones accepted', async () => {
      const { clock, authority, server, signedBy } = await recordingLocalSts();
      const grants = Array.from({ length: 24 }, (_, index) => `g-${'abcdefghijklmnopqrstuvwxyz'[index]!.repeat(26)}`);
      const issued = await Promise.all(
        grants.map((grantId, index) =>
          authority.issue(issueRequest(index % 2 ? 'aws-sts-session' : 'aws-iam-access-key', clock, { grantId })),
        ),
      );
      const revoked = new Set(grants.filter((_, index) => index % 3 === 0));
      for (const grantId of revoked) await authority.revokeGrant(grantId);
      const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

      const verdicts = await Promise.all(issued.map((material) => probe.probe(material)));

      expect(verdicts).toEqual(
        grants.map((grantId) =>
          revoked.has(grantId) ? { verdict: 'rejected', code: 'InvalidClientTokenId', observed: true } : { verdict: 'accepted' },
        ),
      );
      expect([...signedBy].sort()).toEqual(issued.map((material) => material.accessKeyId).sort());
    });

    it("signs with the probed secret, not a neighbour's: a wrong secret among live ones is refused alone", async () => {
      const { clock, authority, server } = await recordingLocalSts();
      const live = await authority.issue(issueRequest('aws-iam-access-key', clock, { grantId: `g-${'b'.repeat(26)}` }));
      const other = await authority.issue(issueRequest('aws-iam-access-key', clock, { grantId: `g-${'c'.repeat(26)}` }));
      const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

      const verdicts = await Promise.all([
        probe.probe(live),
        probe.probe({ ...other, secretAccessKey: live.secretAccessKey }),
        probe.probe(other),
        probe.probe({ ...live, secretAccessKey: 'not-the-secret' }),
      ]);

      expect(verdicts.map((verdict) => verdict.verdict)).toEqual(['accepted', 'rejected', 'accepted', 'rejected']);
    });

    it('sends nothing for a command that carries no credential of its own', async () => {
      const { server, signedBy } = await recordingLocalSts();
      const client = keptProbeClient((config) => new STSClient(config), { region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });

      await expect(client.send(new GetCallerIdentityCommand({}))).rejects.toThrow(/no credential of its own/);
      expect(signedBy).toEqual([]);
      expect(verdictOf(await client.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error))).toMatchObject({
        verdict: 'unknown',
      });
    });

    it("still corrects the client's clock from a skew refusal, and signs the retry with the probed credential", async () => {
      const hourAhead = new Date(Date.now() + 3_600_000);
      const seen: Array<{ readonly accessKeyId?: string; readonly amzDate?: string }> = [];
      const answers: AwsResponse[] = [
        {
          ...stsError('SignatureDoesNotMatch', 'Signature expired: now earlier than the server time'),
          headers: { date: hourAhead.toUTCString() },
        },
        { ...stsError('InvalidClientTokenId', 'gone'), headers: { date: hourAhead.toUTCString() } },
      ];
      const server = await startAwsProtocolServer({
        services: [
          {
            name: 'skewed-sts',
            matches: (request) => request.signingService === 'sts',
            handle: async (request) => {
              seen.push({ accessKeyId: request.accessKeyId, amzDate: request.headers['x-amz-date'] });
              return answers.shift() ?? stsError('InternalFailure', 'script ran out');
            },
          },
        ],
      });
      store.servers.push(server);
      const client = keptProbeClient((config) => new STSClient(config), { region: 'us-east-1', endpoint: server.url, maxAttempts: 2 });

      const outcome = await client.send(withCredential(new GetCallerIdentityCommand({}), SOME_KEY)).catch((error: unknown) => error);

      expect(verdictOf(outcome)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
      expect(Math.abs((client.config.systemClockOffset ?? 0) - 3_600_000)).toBeLessThan(60_000);
      expect(seen.map((request) => request.accessKeyId)).toEqual([SOME_KEY.accessKeyId, SOME_KEY.accessKeyId]);
      const signedAt = seen.map((request) =>
        Date.parse(String(request.amzDate).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')),
      );
      expect(signedAt[1]! - signedAt[0]!).toBeGreaterThan(3_000_000);
    });

    it('shows its one client to the call counter once, however many probes it makes', async () => {
      const { clock, authority, server } = await recordingLocalSts();
      const key = await authority.issue(issueRequest('aws-iam-access-key', clock));
      const seen: STSClient[] = [];
      const probe = new StsCredentialProbe({
        region: 'us-east-1',
        endpoint: server.url,
        maxAttempts: 1,
        track: (client) => void seen.push(client),
      });

      await Promise.all([probe.probe(key), probe.probe(key), probe.probe(key)]);

      expect(seen).toHaveLength(1);
    });
  });
});
