import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryResourcePolicy } from '../../lambdas/adapters/aws/secrets-manager-delivery-vault';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { LOCAL_RUNTIME_CREDENTIALS } from '../../sdk/taskbound';
import { startHarness, type Harness } from './local-engine';

// The staging step of an issuance (CreateSecret with the credential, PutResourcePolicy a call later) is
// replayed here with the engine's own key, so the moment between the two calls can be looked at.
describe('local engine: a delivery staged but not locked yet is the engine’s alone', () => {
  let h: Harness;
  let engine: SecretsManagerClient;
  /** The key the SDK signs with against the local engine when the runtime has none of its own. */
  let runtime: SecretsManagerClient;
  beforeAll(async () => {
    h = await startHarness();
    engine = new SecretsManagerClient(localClientConfig(h.engine.url));
    runtime = new SecretsManagerClient({ ...localClientConfig(h.engine.url), credentials: LOCAL_RUNTIME_CREDENTIALS, maxAttempts: 1 });
  });
  afterAll(async () => {
    runtime.destroy();
    engine.destroy();
    await h.stop();
  });

  it('refuses a runtime AccessDeniedException until the lock lands, while the engine reads it throughout', async () => {
    const name = 'taskbound/release-bot/staged-by-hand';
    const value = JSON.stringify({ status: 'denied', grantId: 'g-staged', reason: 'staged by the test', scopes: [] });
    await engine.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    try {
      await expect(runtime.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(
          'is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:',
        ),
      });
      expect((await runtime.send(new BatchGetSecretValueCommand({ SecretIdList: [name] }))).Errors).toMatchObject([
        { SecretId: name, ErrorCode: 'AccessDeniedException' },
      ]);
      expect(await engine.send(new GetSecretValueCommand({ SecretId: name }))).toMatchObject({ SecretString: value });
      expect((await engine.send(new BatchGetSecretValueCommand({ SecretIdList: [name] }))).SecretValues).toMatchObject([
        { Name: name, SecretString: value },
      ]);

      const lock = deliveryResourcePolicy('arn:aws:iam::000000000000:role/release-bot-runtime', [
        'arn:aws:iam::000000000000:role/taskbound-local-engine',
      ]);
      await engine.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: lock, BlockPublicPolicy: true }));

      expect(await runtime.send(new GetSecretValueCommand({ SecretId: name }))).toMatchObject({ SecretString: value });
      expect(await engine.send(new GetSecretValueCommand({ SecretId: name }))).toMatchObject({ SecretString: value });
    } finally {
      await engine.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    }
  });

  it('lets a runtime waiting through the SDK read through a refusal of a second, as not delivered yet', async () => {
    const taskId = 'locked-late';
    const name = `taskbound/release-bot/${taskId}`;
    const value = JSON.stringify({ status: 'denied', grantId: 'g-late', reason: 'locked a second late', scopes: [] });
    await engine.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    try {
      const waited = h.runtime.waitForDelivery('release-bot', taskId, ['denied']);
      await new Promise((done) => setTimeout(done, 1000));
      await expect(runtime.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      const lock = deliveryResourcePolicy('arn:aws:iam::000000000000:role/release-bot-runtime', [
        'arn:aws:iam::000000000000:role/taskbound-local-engine',
      ]);
      await engine.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: lock }));
      expect(await waited).toMatchObject({ status: 'denied', reason: 'locked a second late' });
    } finally {
      await engine.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    }
  });

  it('still delivers each issuance to a runtime reading through the SDK', async () => {
    for (let index = 0; index < 5; index++) {
      const taskId = `locked-${index}`;
      await h.runtime.startTask({
        agentId: 'release-bot',
        taskId,
        purpose: 'read once locked',
        requestedBy: 'dev@example.com',
        scopes: ['repo-read'],
      });
      expect(await h.runtime.waitForDelivery('release-bot', taskId, ['issued', 'denied'])).toMatchObject({ status: 'issued' });
      await h.runtime.endTask({ agentId: 'release-bot', taskId, outcome: 'succeeded' });
      await h.waitForGrant('release-bot', taskId, ['verified']);
    }
  });
});
