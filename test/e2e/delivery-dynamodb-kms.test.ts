// The `dynamodb-kms` delivery mode end to end: the local engine writes each delivery as a
// KMS-encrypted item of its delivery table, and the runtime SDK, pointed at that table, runs a
// task's whole life with no Secrets Manager delivery at all; the context binds agent, task, grant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { localClientConfig, SdkCallCounter } from '../../lambdas/local/host/sdk-clients';
import { deliveryEncryptionContext } from '../../lambdas/domain/delivery-item';
import { CredentialRevokedError, Taskbound } from '../../sdk';
import { FAST_WAIT } from '../sdk/sdk-harness';
import { startHarness, type Harness } from './local-engine';

const REQUEST = { agentId: 'release-bot', purpose: 'bump lodash', requestedBy: 'dev@example.com', scopes: ['repo-read'] };
/** What the Secrets Manager mode spends per delivery and none of which this mode may call. */
const SECRETS_MANAGER_DELIVERY_CALLS = [
  'CreateSecretCommand',
  'PutResourcePolicyCommand',
  'PutSecretValueCommand',
  'TagResourceCommand',
  'DeleteSecretCommand',
];

describe('the dynamodb-kms delivery mode against the local engine', () => {
  let h: Harness;
  let runtimeCalls: SdkCallCounter;
  let dynamo: DynamoDBClient;
  let kms: KMSClient;
  let secrets: SecretsManagerClient;
  const clients: { destroy(): void }[] = [];

  beforeAll(async () => {
    h = await startHarness({ delivery: 'dynamodb-kms' });
    const config = localClientConfig(h.engine.url);
    runtimeCalls = new SdkCallCounter();
    dynamo = runtimeCalls.track(new DynamoDBClient(config));
    kms = runtimeCalls.track(new KMSClient(config));
    secrets = new SecretsManagerClient(config);
    clients.push(dynamo, kms, secrets);
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await h?.stop();
  });

  const taskbound = () =>
    new Taskbound({
      eventBridge: runtimeCalls.track(new EventBridgeClient(localClientConfig(h.engine.url))),
      dynamoDb: dynamo,
      kms,
      deliveryTable: h.engine.deliveryTable!,
      wait: FAST_WAIT,
    });
  const whoAmI = async (credentials: AwsCredentialIdentityProvider) => {
    const sts = new STSClient({ ...localClientConfig(h.engine.url), maxAttempts: 1, credentials });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'no arn';
    } finally {
      sts.destroy();
    }
  };
  const item = (agentId: string, taskId: string) =>
    dynamo.send(
      new GetItemCommand({
        TableName: h.engine.deliveryTable!,
        Key: { agentId: { S: agentId }, taskId: { S: taskId } },
        ConsistentRead: true,
      }),
    );

  it('runs a task with a working credential, then deletes the item once the credential is proven dead', async () => {
    expect(h.engine.delivery).toBe('dynamodb-kms');
    const engineBefore = new Map(h.engine.sdkCalls.byOperation);
    const runtimeBefore = new Map(runtimeCalls.byOperation);
    let seen: { arn: string; grantId: string; stored?: Uint8Array } | undefined;

    await taskbound().withTaskCredentials({ ...REQUEST, taskId: 'kms-happy' }, async ({ credentials, grantId }) => {
      const stored = (await item('release-bot', 'kms-happy')).Item?.ciphertext?.B;
      seen = { arn: await whoAmI(credentials), grantId, ...(stored ? { stored } : {}) };
    });

    expect(seen?.arn).toContain(seen?.grantId);
    // At rest the item holds ciphertext, not the credential.
    expect(Buffer.from(seen!.stored!).toString('latin1')).not.toMatch(/accessKeyId|secretAccessKey|AKIA|ASIA/);
    const grant = await h.waitForGrant('release-bot', 'kms-happy', ['verified']);
    expect(grant.deliverySecret).toBeUndefined();
    expect((await item('release-bot', 'kms-happy')).Item).toBeUndefined();
    const delta = (after: Map<string, number>, before: Map<string, number>) =>
      Object.fromEntries(
        [...after].map(([operation, count]) => [operation, count - (before.get(operation) ?? 0)]).filter(([, count]) => Number(count) > 0),
      );
    const engine = delta(h.engine.sdkCalls.byOperation, engineBefore);
    // Encrypt once (issued) and delete once; no decrypt: the engine that wrote the credential probes it without reading it back.
    expect(engine).toMatchObject({ EncryptCommand: 1, DeleteItemCommand: expect.any(Number) });
    expect(engine.DecryptCommand).toBeUndefined();
    for (const operation of SECRETS_MANAGER_DELIVERY_CALLS) expect(engine[operation], operation).toBeUndefined();
    const runtime = delta(runtimeCalls.byOperation, runtimeBefore);
    expect(runtime).toMatchObject({ PutEventsCommand: 2, GetItemCommand: expect.any(Number), DecryptCommand: 1 });
    const listed = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['taskbound/'] }] }));
    expect(listed.SecretList ?? []).toEqual([]);
  });

  it('refuses to decrypt an item under another agent, task or grant, and the SDK refuses an item whose grant was swapped', async () => {
    const client = taskbound();
    await client.startTask({ ...REQUEST, taskId: 'kms-bound' });
    const issued = await client.waitForCredentials({ agentId: 'release-bot', taskId: 'kms-bound' });
    const stored = (await item('release-bot', 'kms-bound')).Item!;
    const decrypt = (context: Record<string, string>) =>
      kms.send(new DecryptCommand({ CiphertextBlob: stored.ciphertext!.B!, EncryptionContext: context })).then(
        () => 'decrypted',
        (error: Error) => error.name,
      );

    expect(await decrypt(deliveryEncryptionContext('release-bot', 'kms-bound', issued.grantId))).toBe('decrypted');
    expect(await decrypt(deliveryEncryptionContext('deploy-bot', 'kms-bound', issued.grantId))).toBe('InvalidCiphertextException');
    expect(await decrypt(deliveryEncryptionContext('release-bot', 'other-task', issued.grantId))).toBe('InvalidCiphertextException');
    expect(await decrypt(deliveryEncryptionContext('release-bot', 'kms-bound', `g-${'b'.repeat(26)}`))).toBe('InvalidCiphertextException');

    // The same ciphertext copied under another agent's key cannot be read there.
    await dynamo.send(new PutItemCommand({ TableName: h.engine.deliveryTable!, Item: { ...stored, agentId: { S: 'deploy-bot' } } }));
    await expect(client.readDelivery({ agentId: 'deploy-bot', taskId: 'kms-bound' })).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
    });

    await client.endTask({ agentId: 'release-bot', taskId: 'kms-bound', outcome: 'succeeded' });
    await h.waitForGrant('release-bot', 'kms-bound', ['verified']);
    expect(await client.readDelivery({ agentId: 'release-bot', taskId: 'kms-bound' })).toEqual({ status: 'absent' });
    const provider = client.credentialProvider({ agentId: 'release-bot', taskId: 'kms-bound' }, issued, { recheckMs: 0 });
    await expect(provider()).rejects.toBeInstanceOf(CredentialRevokedError);
  });

  it('delivers to a task id with a colon (the item is keyed by the task id itself)', async () => {
    const result = await taskbound().withTaskCredentials({ ...REQUEST, taskId: 'jira:OPS-12' }, async ({ grantId }) => grantId);
    expect(result).toMatch(/^g-/);
    const grant = await h.waitForGrant('release-bot', 'jira:OPS-12', ['verified']);
    expect(grant.revocation?.trigger).toBe('task_ended');
    expect((await item('release-bot', 'jira:OPS-12')).Item).toBeUndefined();
  });

  it('says a task is denied through the item too', async () => {
    const denied = taskbound().withTaskCredentials({ ...REQUEST, taskId: 'kms-denied', scopes: ['deploy-web'] }, async () => 'ran');
    await expect(denied).rejects.toMatchObject({ name: 'GrantDeniedError', reason: expect.stringContaining('deploy-web') });
  });
});
