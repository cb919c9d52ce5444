import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeliveryLock } from '../../../../lambdas/local/emulated-aws/delivery-lock';
import { requestCaller } from '../../../../lambdas/local/emulated-aws/request-caller';
import { LOCAL_CREDENTIALS, localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { deliveryResourcePolicy } from '../../../../lambdas/adapters/aws/secrets-manager-delivery-vault';
import { serveSecretsManager, type ServedSecretsManager } from './secrets-manager-fixture';

const RUNTIME_KEY = { accessKeyId: 'AKIALOCALRUNTIME0000', secretAccessKey: 'taskbound-local-engine' };
const DELIVERY = 'taskbound/release-bot/t1';
const VALUE = '{"status":"issued","grantId":"g-1","scopes":["repo-read"],"secretAccessKey":"staged-secret"}';
const LOCK = deliveryResourcePolicy('arn:aws:iam::000000000000:role/release-bot-runtime', [
  'arn:aws:iam::000000000000:role/taskbound-local-engine',
]);

describe('the local Secrets Manager, a delivery staged but not locked yet', () => {
  let served: ServedSecretsManager;
  /** Signs with the engine's own key (the fixture's client). */
  let engine: SecretsManagerClient;
  /** Signs as an agent runtime does locally: a key of its own. */
  let runtime: SecretsManagerClient;
  const clientAs = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new SecretsManagerClient({ ...localClientConfig(served.server.url), credentials, maxAttempts: 1 });

  beforeEach(async () => {
    served = await serveSecretsManager({
      deliveryLock: createDeliveryLock(requestCaller({ engineKey: LOCAL_CREDENTIALS, signatureClock: { now: () => new Date() } })),
    });
    engine = served.client;
    runtime = clientAs(RUNTIME_KEY);
    await engine.send(new CreateSecretCommand({ Name: DELIVERY, SecretString: VALUE }));
  });
  afterEach(async () => {
    runtime.destroy();
    await served.stop();
  });

  it('refuses a runtime GetSecretValue with AWS’s AccessDeniedException, naming no value, until it is locked; then reads it', async () => {
    const refused = await runtime.send(new GetSecretValueCommand({ SecretId: DELIVERY })).catch((error: Error) => error);
    expect(refused).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringMatching(
        /^User: arn:aws:iam::000000000000:user\/AKIALOCALRUNTIME0000 is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:taskbound\/release-bot\/t1-\w{6} because no identity-based policy allows the secretsmanager:GetSecretValue action$/,
      ),
    });
    expect(JSON.stringify(refused)).not.toContain('staged-secret');

    await engine.send(new PutResourcePolicyCommand({ SecretId: DELIVERY, ResourcePolicy: LOCK, BlockPublicPolicy: true }));

    expect(await runtime.send(new GetSecretValueCommand({ SecretId: DELIVERY }))).toMatchObject({ SecretString: VALUE });
  });

  it('lets the engine’s own key read and describe it before and after the lock', async () => {
    expect(await engine.send(new GetSecretValueCommand({ SecretId: DELIVERY }))).toMatchObject({ SecretString: VALUE });
    expect(await engine.send(new DescribeSecretCommand({ SecretId: DELIVERY }))).toMatchObject({ Name: DELIVERY });
    await engine.send(new PutResourcePolicyCommand({ SecretId: DELIVERY, ResourcePolicy: LOCK }));
    expect(await engine.send(new GetSecretValueCommand({ SecretId: DELIVERY }))).toMatchObject({ SecretString: VALUE });
  });

  it('lists it in BatchGetSecretValue’s Errors for a runtime (AccessDeniedException), beside the values it may read', async () => {
    await engine.send(new CreateSecretCommand({ Name: 'taskbound/release-bot/locked', SecretString: '{}' }));
    await engine.send(new PutResourcePolicyCommand({ SecretId: 'taskbound/release-bot/locked', ResourcePolicy: LOCK }));
    const names = [DELIVERY, 'taskbound/release-bot/locked'];

    const asRuntime = await runtime.send(new BatchGetSecretValueCommand({ SecretIdList: names }));
    expect(asRuntime.SecretValues?.map((secret) => secret.Name)).toEqual(['taskbound/release-bot/locked']);
    expect(asRuntime.Errors).toEqual([
      {
        SecretId: DELIVERY,
        ErrorCode: 'AccessDeniedException',
        Message: expect.stringContaining('is not authorized to perform: secretsmanager:GetSecretValue on resource:'),
      },
    ]);

    const asEngine = await engine.send(new BatchGetSecretValueCommand({ SecretIdList: names }));
    expect(asEngine.SecretValues?.map((secret) => secret.Name)).toEqual(names);
    expect(asEngine.Errors).toEqual([]);
  });

  it('refuses a runtime DescribeSecret too: its DescribeSecret comes from the same resource policy', async () => {
    await expect(runtime.send(new DescribeSecretCommand({ SecretId: DELIVERY }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('secretsmanager:DescribeSecret on resource: arn:aws:secretsmanager:'),
    });
    await engine.send(new PutResourcePolicyCommand({ SecretId: DELIVERY, ResourcePolicy: LOCK }));
    expect(await runtime.send(new DescribeSecretCommand({ SecretId: DELIVERY }))).toMatchObject({ Name: DELIVERY });
  });

  it('names a credential the engine issued by its own principal', async () => {
    await served.stop();
    const session = { accessKeyId: 'ASIAISSUEDSESSION000', secretAccessKey: 'issued-secret', sessionToken: 'issued-token' };
    served = await serveSecretsManager({
      deliveryLock: createDeliveryLock(
        requestCaller({
          engineKey: LOCAL_CREDENTIALS,
          signatureClock: { now: () => new Date() },
          principalOf: async (accessKeyId, sessionToken) =>
            accessKeyId === session.accessKeyId && sessionToken === session.sessionToken
              ? 'arn:aws:sts::000000000000:assumed-role/taskbound-agent-release-bot/g-1'
              : undefined,
        }),
      ),
    });
    engine = served.client;
    await engine.send(new CreateSecretCommand({ Name: DELIVERY, SecretString: VALUE }));
    const asSession = clientAs(session);
    try {
      await expect(asSession.send(new GetSecretValueCommand({ SecretId: DELIVERY }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringMatching(/^User: arn:aws:sts::000000000000:assumed-role\/taskbound-agent-release-bot\/g-1 is not authorized/),
      });
    } finally {
      asSession.destroy();
    }
  });

  it('refuses a caller claiming the engine’s key id without its secret key', async () => {
    const forger = clientAs({ accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: 'guessed' });
    try {
      await expect(forger.send(new GetSecretValueCommand({ SecretId: DELIVERY }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
    } finally {
      forger.destroy();
    }
  });

  it('locks it again when its resource policy is deleted, and leaves secrets that are not deliveries alone', async () => {
    await engine.send(new PutResourcePolicyCommand({ SecretId: DELIVERY, ResourcePolicy: LOCK }));
    await engine.send(new DeleteResourcePolicyCommand({ SecretId: DELIVERY }));
    await expect(runtime.send(new GetSecretValueCommand({ SecretId: DELIVERY }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });

    await engine.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: 'sk_local' }));
    expect(await runtime.send(new GetSecretValueCommand({ SecretId: 'stripe-key' }))).toMatchObject({ SecretString: 'sk_local' });
  });
});
