import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StsCredentialProbe } from '../../../lambdas/adapters/aws/sts-credential-probe';
import { LocalCredentialIssuer } from '../../../lambdas/adapters/local/local-credential-issuer';
import type { CredentialKind } from '../../../lambdas/domain/policy';
import { startAwsProtocolServer, type RunningServer } from '../../../lambdas/local/aws-protocol-server';
import { LocalCredentialAuthority } from '../../../lambdas/local/credential-authority';
import { startEmbeddedStore, type EmbeddedStore } from '../../../lambdas/local/embedded-store';
import { createStsService } from '../../../lambdas/local/sts-service';
import type { IssueRequest, RevokeTarget } from '../../../lambdas/ports';

class SteppingClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

const GRANT = 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa';

let store: EmbeddedStore;
let documents: DynamoDBDocumentClient;
let tables = 0;
const servers: RunningServer[] = [];

beforeAll(async () => {
  store = await startEmbeddedStore();
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: store.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  documents.destroy();
  await store.close();
});

async function issuerFor(kind: CredentialKind, options: { lagMs?: number; attempts?: number } = {}) {
  const clock = new SteppingClock();
  const authority = new LocalCredentialAuthority({
    client: documents,
    tableName: `issuer-credentials-${++tables}`,
    clock,
    accessKeyRevocationLagMs: options.lagMs ?? 0,
  });
  await authority.start();
  const server = await startAwsProtocolServer({ services: [createStsService({ authority, clock })] });
  servers.push(server);
  const probe = new StsCredentialProbe({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1, sleep: async (ms) => clock.advance(ms) });
  const issuer = new LocalCredentialIssuer({ kind, authority, probe, probeSchedule: { attempts: options.attempts ?? 1, delayMs: 1000 } });
  const request = (ttlSeconds = 900): IssueRequest => ({
    grantId: GRANT,
    taskId: 't-1',
    agentId: 'release-bot',
    kind,
    statements: [],
    brokeredSecretArns: [],
    ttlSeconds,
    expiresAt: new Date(clock.now().getTime() + ttlSeconds * 1000),
  });
  const target: RevokeTarget = { grantId: GRANT, agentId: 'release-bot', taskId: 't-1', kind };
  return { clock, issuer, request, target };
}

describe('LocalCredentialIssuer', () => {
  it('issues a credential of its own kind', async () => {
    const { issuer, request } = await issuerFor('aws-iam-access-key');

    const issued = await issuer.issue(request());

    expect(issued).toMatchObject({ kind: 'aws-iam-access-key', principalArn: `arn:aws:iam::000000000000:user/taskbound/taskbound-${GRANT}` });
  });

  it('refuses to issue another kind', async () => {
    const { issuer, request } = await issuerFor('aws-iam-access-key');

    await expect(issuer.issue({ ...request(), kind: 'aws-sts-session' })).rejects.toThrow(/aws-iam-access-key issuer was asked for a aws-sts-session/);
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
    expect(after).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId' });
  });

  it('keeps probing through the access key revocation lag until the key is rejected', async () => {
    const { issuer, request, target } = await issuerFor('aws-iam-access-key', { lagMs: 2500, attempts: 4 });
    const issued = await issuer.issue(request());
    await issuer.revoke(target);

    expect(await issuer.verify(target, issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId' });
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
