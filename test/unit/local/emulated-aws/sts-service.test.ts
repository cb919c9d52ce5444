import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { beforeEach, describe, expect, it } from 'vitest';
import { NodeSha256 } from '../../../../lambdas/adapters/aws/node-sha256';
import type { RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import type { CredentialMaterial } from '../../../../lambdas/ports';
import { useEmbeddedStore } from '../../../helpers/embedded-store-fixture';
import { issueRequest, startLocalSts } from '../../../helpers/local-sts';
import { SteppingClock } from '../../../helpers/stepping-clock';
import { signatureClockOf, steadyClock } from '../../../../lambdas/adapters/local/steady-clock';

const store = useEmbeddedStore();

async function callerIdentity(server: RunningServer, credentials: CredentialMaterial) {
  const client = new STSClient({ region: 'us-east-1', endpoint: server.url, credentials, maxAttempts: 1 });
  try {
    return await client.send(new GetCallerIdentityCommand({}));
  } finally {
    client.destroy();
  }
}

async function failureOf(
  server: RunningServer,
  credentials: CredentialMaterial,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await callerIdentity(server, credentials);
  } catch (error) {
    const failure = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, status: failure.$metadata?.httpStatusCode, message: failure.message };
  }
  throw new Error('GetCallerIdentity succeeded');
}

describe('the local STS endpoint', () => {
  let clock: SteppingClock;
  let tableName: string;

  beforeEach(() => {
    clock = new SteppingClock();
    tableName = store.freshTableName();
  });

  const startEngine = (accessKeyRevocationLagMs = 0) => startLocalSts(store, { clock, tableName, accessKeyRevocationLagMs });

  it("judges a signature by this machine's clock, not the engine's steady clock running on ahead of it after a step back", async () => {
    // The last run wrote an hour ahead of the machine's clock (stepped back since): the engine's clock runs on from there.
    const steady = steadyClock();
    steady.catchUp(Date.now() + 3_600_000);
    const { authority, server } = await startLocalSts(store, { clock: steady, signatureClock: signatureClockOf(steady), tableName });
    const issued = await authority.issue(issueRequest('aws-sts-session', steady));

    const identity = await callerIdentity(server, issued);

    expect(identity.Arn).toContain('assumed-role/taskbound-agent-release-bot/');
  });

  it('answers GetCallerIdentity for an issued session with its assumed-role identity', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-sts-session', clock));

    const identity = await callerIdentity(server, issued);

    expect(issued.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(issued.secretAccessKey).toHaveLength(40);
    expect(issued.sessionToken).toBeTruthy();
    expect(identity).toMatchObject({
      Account: '000000000000',
      Arn: 'arn:aws:sts::000000000000:assumed-role/taskbound-agent-release-bot/g-aaaaaaaaaaaaaaaaaaaaaaaaaa',
      UserId: expect.stringMatching(/^AROA[A-Z2-7]{16}:g-aaaaaaaaaaaaaaaaaaaaaaaaaa$/),
    });
  });

  it('answers GetCallerIdentity for an issued access key with its IAM user', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-iam-access-key', clock));

    const identity = await callerIdentity(server, issued);

    expect(issued.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(issued.sessionToken).toBeUndefined();
    expect(identity).toMatchObject({
      Account: '000000000000',
      Arn: 'arn:aws:iam::000000000000:user/taskbound/taskbound-g-aaaaaaaaaaaaaaaaaaaaaaaaaa',
      UserId: expect.stringMatching(/^AIDA[A-Z2-7]{16}$/),
    });
  });

  it('answers for a spoke grant’s session and access key with the spoke account the grant records, not the local one', async () => {
    const { authority, server } = await startEngine();
    const session = await authority.issue({ ...issueRequest('aws-sts-session', clock), account: '444455556666' });
    const key = await authority.issue({
      ...issueRequest('aws-iam-access-key', clock, { grantId: 'g-bbbbbbbbbbbbbbbbbbbbbbbbbb' }),
      account: '444455556666',
    });
    const hub = await authority.issue(issueRequest('aws-sts-session', clock, { grantId: 'g-cccccccccccccccccccccccccc' }));

    const sessionIdentity = await callerIdentity(server, session);
    const keyIdentity = await callerIdentity(server, key);
    const hubIdentity = await callerIdentity(server, hub);

    expect(sessionIdentity).toMatchObject({
      Account: '444455556666',
      Arn: 'arn:aws:sts::444455556666:assumed-role/taskbound-agent-release-bot/g-aaaaaaaaaaaaaaaaaaaaaaaaaa',
    });
    expect(keyIdentity).toMatchObject({
      Account: '444455556666',
      Arn: 'arn:aws:iam::444455556666:user/taskbound/taskbound-g-bbbbbbbbbbbbbbbbbbbbbbbbbb',
    });
    expect(hubIdentity).toMatchObject({ Account: '000000000000' });
    // The agent's role in the spoke is another role than its role in the hub: another unique id.
    expect(sessionIdentity.UserId?.split(':')[0]).not.toBe(hubIdentity.UserId?.split(':')[0]);
  });

  it('rejects a revoked session as an invalid client token', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-sts-session', clock));

    expect(await authority.revokeGrant('g-aaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe('revoked');

    expect(await failureOf(server, issued)).toEqual({
      name: 'InvalidClientTokenId',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
  });

  it('rejects an expired session as an expired token', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-sts-session', clock, { ttlSeconds: 60 }));

    clock.advance(61_000);

    expect(await failureOf(server, issued)).toEqual({
      name: 'ExpiredToken',
      status: 403,
      message: 'The security token included in the request is expired',
    });
  });

  it('rejects a request signed with the wrong secret key', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-iam-access-key', clock));

    // Change the last character to one it is not (a random secret ends in `x` one time in 64).
    const wrongLast = issued.secretAccessKey.endsWith('x') ? 'y' : 'x';
    const failure = await failureOf(server, {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: `${issued.secretAccessKey.slice(0, 39)}${wrongLast}`,
    });

    expect(failure).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
    expect(failure.message).not.toContain(issued.secretAccessKey);
  });

  it('rejects an access key it never issued', async () => {
    const { server } = await startEngine();

    const failure = await failureOf(server, {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });

    expect(failure).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
  });

  it('rejects a session used without its token, or with another token', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-sts-session', clock));
    const { sessionToken: _token, ...withoutToken } = issued;

    expect(await failureOf(server, withoutToken)).toMatchObject({ name: 'InvalidClientTokenId' });
    expect(await failureOf(server, { ...withoutToken, sessionToken: 'AQoDYXdzEJr-not-the-token' })).toMatchObject({
      name: 'InvalidClientTokenId',
    });
  });

  it('rejects an access key presented with a session token', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-iam-access-key', clock));

    expect(await failureOf(server, { ...issued, sessionToken: 'AQoDYXdzEJr-made-up' })).toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('keeps a revoked access key working for the revocation lag, then rejects it', async () => {
    const { authority, server } = await startEngine(5000);
    const issued = await authority.issue(issueRequest('aws-iam-access-key', clock));

    await authority.revokeGrant('g-aaaaaaaaaaaaaaaaaaaaaaaaaa');
    clock.advance(4000);
    const duringLag = await callerIdentity(server, issued);
    clock.advance(1001);

    expect(duringLag.Account).toBe('000000000000');
    expect(await failureOf(server, issued)).toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('kills a revoked session at once, whatever the access key lag', async () => {
    const { authority, server } = await startEngine(5000);
    const issued = await authority.issue(issueRequest('aws-sts-session', clock));

    await authority.revokeGrant('g-aaaaaaaaaaaaaaaaaaaaaaaaaa');

    expect(await failureOf(server, issued)).toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('still knows issued and revoked credentials after a restart on the same table', async () => {
    const first = await startEngine();
    const kept = await first.authority.issue(issueRequest('aws-iam-access-key', clock, { grantId: 'g-bbbbbbbbbbbbbbbbbbbbbbbbbb' }));
    const revoked = await first.authority.issue(issueRequest('aws-sts-session', clock, { grantId: 'g-cccccccccccccccccccccccccc' }));
    await first.authority.revokeGrant('g-cccccccccccccccccccccccccc');
    await first.server.close();

    const second = await startEngine();

    expect((await callerIdentity(second.server, kept)).Arn).toBe(
      'arn:aws:iam::000000000000:user/taskbound/taskbound-g-bbbbbbbbbbbbbbbbbbbbbbbbbb',
    );
    expect(await failureOf(second.server, revoked)).toMatchObject({ name: 'InvalidClientTokenId' });
    expect(await second.authority.revokeGrant('g-cccccccccccccccccccccccccc')).toBe('already-revoked');
    expect(await second.authority.revokeGrant('g-bbbbbbbbbbbbbbbbbbbbbbbbbb')).toBe('revoked');
    expect(await failureOf(second.server, kept)).toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('keeps only a hash of a session token in its table', async () => {
    const { authority } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-sts-session', clock));

    const { Items } = await store.documents.send(new ScanCommand({ TableName: tableName }));

    expect(Items).toHaveLength(1);
    expect(JSON.stringify(Items)).not.toContain(issued.sessionToken);
  });

  it('revokes every credential a grant was issued, and says so once', async () => {
    const { authority, server } = await startEngine();
    const firstTry = await authority.issue(issueRequest('aws-sts-session', clock));
    const secondTry = await authority.issue(issueRequest('aws-sts-session', clock));

    expect(await authority.revokeGrant('g-aaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe('revoked');
    expect(await authority.revokeGrant('g-aaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe('already-revoked');
    expect(await failureOf(server, firstTry)).toMatchObject({ name: 'InvalidClientTokenId' });
    expect(await failureOf(server, secondTry)).toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('answers another action with the error for an unknown operation', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-sts-session', clock));
    const client = new STSClient({ region: 'us-east-1', endpoint: server.url, credentials: issued, maxAttempts: 1 });

    const failure = await client
      .send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 's' }))
      .catch((error: Error) => error);
    client.destroy();

    expect(failure).toMatchObject({ name: 'InvalidAction', message: 'Could not find operation AssumeRole for version 2011-06-15' });
  });

  it('escapes what the caller sent when it quotes it back in XML, and refuses another API version', async () => {
    const { authority, server } = await startEngine();
    const issued = await authority.issue(issueRequest('aws-sts-session', clock));
    const post = async (form: string) => {
      const url = new URL(server.url);
      const signer = new SignatureV4({ credentials: issued, region: 'us-east-1', service: 'sts', sha256: NodeSha256 });
      const headers = { host: url.host, 'content-type': 'application/x-www-form-urlencoded' };
      const toSign = { method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body: form };
      const signed = await signer.sign(toSign, { signingDate: clock.now() });
      const response = await fetch(server.url, { method: 'POST', headers: signed.headers, body: form });
      return { status: response.status, body: await response.text() };
    };

    const odd = await post(new URLSearchParams({ Action: '<Get&"Caller>', Version: '2011-06-15' }).toString());
    const older = await post(new URLSearchParams({ Action: 'GetCallerIdentity', Version: '2010-01-01' }).toString());

    expect(odd.status).toBe(400);
    expect(odd.body).toContain('<Message>Could not find operation &lt;Get&amp;&quot;Caller&gt; for version 2011-06-15</Message>');
    expect(older.body).toContain(
      '<Code>InvalidAction</Code><Message>Could not find operation GetCallerIdentity for version 2010-01-01</Message>',
    );
  });
});
