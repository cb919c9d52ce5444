import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SpokeUnreachableError, spokeCredentials } from '../../../../lambdas/adapters/aws/spoke-credentials';
import { spokeRoleArn } from '../../../../lambdas/domain/accounts';

const ROLE = spokeRoleArn('444455556666', 'taskbound', 'engine');

function harness() {
  let now = Date.parse('2026-11-30T02:00:00Z');
  const sts = new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAHUB', secretAccessKey: 'hub' } });
  const mock = mockClient(sts);
  let issued = 0;
  const refusals = { left: 0 };
  mock.on(AssumeRoleCommand).callsFake(async () => {
    if (refusals.left-- > 0) throw Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
    issued++;
    return {
      Credentials: { AccessKeyId: `ASIASPOKE${issued}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now + 3600_000) },
    };
  });
  const provider = spokeCredentials({ sts, roleArn: ROLE, clock: { now: () => new Date(now) } });
  return { provider, mock, refusals, advance: (ms: number) => (now += ms) };
}

describe('spokeCredentials', () => {
  it('assumes the spoke engine role in a session named for the engine, setting no source identity', async () => {
    const { provider, mock } = harness();
    const credentials = await provider();
    expect(credentials.accessKeyId).toBe('ASIASPOKE1');
    expect(ROLE).toBe('arn:aws:iam::444455556666:role/taskbound-spoke-engine');
    const input = mock.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ RoleArn: ROLE, RoleSessionName: `taskbound-engine-${Date.parse('2026-11-30T02:00:00Z')}` });
    // Set here, it would persist into every agent session the spoke role starts, which must carry its grant id.
    expect(input).not.toHaveProperty('SourceIdentity');
  });

  it('reuses the session, concurrent callers included, until five minutes before it expires', async () => {
    const { provider, mock, advance } = harness();
    await Promise.all([provider(), provider(), provider()]);
    advance(54 * 60_000);
    expect((await provider()).accessKeyId).toBe('ASIASPOKE1');
    expect(mock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    advance(2 * 60_000);
    expect((await provider()).accessKeyId).toBe('ASIASPOKE2');
    expect(mock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('surfaces a refused AssumeRole as the spoke unreachable (the role and code, not STS’s message), and tries again on the next call', async () => {
    const { provider, refusals } = harness();
    refusals.left = 1;
    const refused = await provider().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SpokeUnreachableError);
    expect((refused as Error).message).toContain(`the engine could not assume the spoke role ${ROLE} (AccessDenied)`);
    expect((refused as Error).message).not.toContain('not authorized');
    await expect(provider()).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIASPOKE/) });
  });
});
