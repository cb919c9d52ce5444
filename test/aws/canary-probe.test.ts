// AWS emulator tier: the session canary probe against moto's Secrets Manager, signed by a real
// session moto's STS issued for an agent role. Throttling and clock skew are SDK middleware on
// the probe's client; moto's XML denial is rewritten into AWS's JSON form (jsonAccessDenied).
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerCanaryProbe } from '../../lambdas/adapters/aws/canary-probe';
import type { CredentialMaterial } from '../../lambdas/ports';
import { ACCOUNT_ID, CANARY_SECRET, freshMoto, REGION, ROLE_PREFIX, type FreshMoto } from './moto-world';
import { awsServiceError, beforeCall, injectFaults, jsonAccessDenied, type Fault } from './sdk-middleware';

const ROLE = `${ROLE_PREFIX}release-bot`;

describe('SecretsManagerCanaryProbe on moto', () => {
  let moto: FreshMoto;
  let session: CredentialMaterial;

  beforeEach(async () => {
    moto = await freshMoto();
    const sts = new STSClient({ ...moto.engineConfig, maxAttempts: 1 });
    const { Credentials: credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE}`,
        RoleSessionName: 'canary-test',
        SourceIdentity: 'canary-test',
      }),
    );
    sts.destroy();
    session = {
      accessKeyId: credentials?.AccessKeyId ?? '',
      secretAccessKey: credentials?.SecretAccessKey ?? '',
      sessionToken: credentials?.SessionToken ?? '',
    };
  });

  /** The probe, its clients as the engine's world prepares them, plus `faults` and a record of the inputs it sent. */
  function probeOf(canarySecretId = CANARY_SECRET, faults: Fault[] = [], sent: Array<Record<string, unknown>> = []) {
    return new SecretsManagerCanaryProbe({
      region: REGION,
      endpoint: moto.engineConfig.endpoint,
      canarySecretId,
      maxAttempts: 1,
      track: (client) => {
        jsonAccessDenied(client as never);
        injectFaults(client as never, faults);
        beforeCall(client as never, 'DescribeSecret', (input) => void sent.push(input), Number.POSITIVE_INFINITY);
      },
    });
  }

  it('accepts a live session: DescribeSecret on the canary by its name, signed by the session', async () => {
    const sent: Array<Record<string, unknown>> = [];

    expect(await probeOf(CANARY_SECRET, [], sent).probe(session)).toEqual({ verdict: 'accepted' });

    expect(sent).toEqual([{ SecretId: CANARY_SECRET }]);
  });

  it('counts a missing canary (ResourceNotFoundException) as an authorized call, not a refusal', async () => {
    expect(await probeOf('taskbound-engine/no-such-canary').probe(session)).toEqual({ verdict: 'accepted' });
  });

  it('is refused once the role denies the session (AccessDeniedException), and says it saw the refusal', async () => {
    const deny = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': ['canary-test'] } } }],
    };
    await moto.aws.iam.send(
      new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'taskbound-revoked-sessions', PolicyDocument: JSON.stringify(deny) }),
    );

    expect(await probeOf().probe(session)).toEqual({ verdict: 'rejected', code: 'AccessDeniedException', observed: true });
  });

  it('says nothing about the credential when throttled, unreachable or refusing the clock', async () => {
    const faults: Fault[] = [
      { operation: 'DescribeSecret', error: () => awsServiceError('ThrottlingException', 400, 'Rate exceeded'), times: 1 },
      {
        operation: 'DescribeSecret',
        error: () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { name: 'Error', code: 'ECONNREFUSED' }),
        times: 1,
      },
      {
        operation: 'DescribeSecret',
        error: () =>
          awsServiceError('InvalidSignatureException', 400, 'Signature expired: 20261130T000000Z is now earlier than 20261130T001500Z'),
        times: 1,
      },
    ];
    const probe = probeOf(CANARY_SECRET, faults);

    expect(await probe.probe(session)).toMatchObject({ verdict: 'unknown', why: expect.stringMatching(/ThrottlingException/) });
    expect(await probe.probe(session)).toMatchObject({ verdict: 'unknown', why: expect.stringMatching(/no response/) });
    expect(await probe.probe(session)).toMatchObject({ verdict: 'unknown', why: expect.stringMatching(/clock skew/) });
    expect(await probe.probe(session)).toEqual({ verdict: 'accepted' });
  });
});
