import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetResourcePolicyCommand,
  InvalidRequestException,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CREATE_AFTER_DELETE_BACKOFF,
  DeliveryVaultError,
  SecretsManagerDeliveryVault,
  type SecretsManagerDeliveryVaultOptions,
} from '../../../../lambdas/adapters/aws/secrets-manager-delivery-vault';
import { deliverySecretName, grantIdFor } from '../../../../lambdas/domain/ids';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createSecretsManagerService, type SecretsManagerService } from '../../../../lambdas/local/emulated-aws/secrets-manager-service';
import { expectJitteredWaits } from '../../../helpers/backoff';
import type { Delivery, DeliveryPayload } from '../../../../lambdas/ports';
import { FakeSecretsManager, throttling } from '../../../helpers/fake-secrets-manager';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const READER = 'arn:aws:iam::111122223333:role/agent-runtime';
const ENGINE = 'arn:aws:iam::111122223333:role/taskbound-engine-*';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN';
const OPTIONS: SecretsManagerDeliveryVaultOptions = { kmsKeyArn: KEY_ARN, enginePrincipalArns: [ENGINE] };

function delivery(taskId: string, payload: Omit<DeliveryPayload, 'grantId' | 'scopes'>, expiresAt?: string): Delivery {
  const grantId = grantIdFor('release-bot', taskId);
  return {
    name: deliverySecretName('release-bot', taskId),
    grantId,
    agentId: 'release-bot',
    taskId,
    readerArn: READER,
    ...(expiresAt ? { expiresAt } : {}),
    payload: { ...payload, grantId, scopes: ['repo-read'] },
  };
}

const issued = (taskId: string) =>
  delivery(
    taskId,
    { status: 'issued', kind: 'aws-sts-session', accessKeyId: 'ASIAEXAMPLE', secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN, expiration: '2030-01-01T00:15:00.000Z' },
    '2030-01-01T00:15:00.000Z',
  );

/** The order in which the fake received its commands, by operation name. */
const operations = (fake: FakeSecretsManager) => fake.mock.calls().map((call) => (call.args[0] as object).constructor.name.replace(/Command$/, ''));

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('SecretsManagerDeliveryVault', () => {
  let fake: FakeSecretsManager;
  let vault: SecretsManagerDeliveryVault;

  beforeEach(() => {
    fake = new FakeSecretsManager();
    vault = new SecretsManagerDeliveryVault(fake.client, OPTIONS);
  });
  afterEach(() => fake.restore());

  describe('deliver', () => {
    it('creates the secret empty, locks it to the runtime, then writes the value: three calls', async () => {
      await vault.deliver(issued('task-1'));

      expect(operations(fake)).toEqual(['CreateSecret', 'PutResourcePolicy', 'PutSecretValue']);
      const create = fake.mock.commandCalls(CreateSecretCommand)[0]!.args[0].input;
      expect(create).toMatchObject({ Name: 'taskbound/release-bot/task-1', KmsKeyId: KEY_ARN });
      expect(create.SecretString).toBeUndefined();
      expect(create.Tags).toEqual([
        { Key: 'taskbound:grant-id', Value: grantIdFor('release-bot', 'task-1') },
        { Key: 'taskbound:agent-id', Value: 'release-bot' },
        { Key: 'taskbound:task-id', Value: 'task-1' },
        { Key: 'taskbound:expires-at', Value: '2030-01-01T00:15:00.000Z' },
      ]);
      const put = fake.mock.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
      expect(put.SecretId).toBe('taskbound/release-bot/task-1');
      expect(JSON.parse(put.SecretString ?? '')).toEqual(issued('task-1').payload);
    });

    it('lets only the runtime read, denies every other principal but the engine, and blocks public policies', async () => {
      await vault.deliver(issued('task-1'));

      const input = fake.mock.commandCalls(PutResourcePolicyCommand)[0]!.args[0].input;
      expect(input.BlockPublicPolicy).toBe(true);
      const policy = JSON.parse(input.ResourcePolicy ?? '');
      expect(policy.Statement).toEqual([
        {
          Sid: 'RuntimeReadsItsDelivery',
          Effect: 'Allow',
          Principal: { AWS: READER },
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: '*',
        },
        {
          Sid: 'NobodyElseReads',
          Effect: 'Deny',
          Principal: '*',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: '*',
          Condition: { ArnNotLike: { 'aws:PrincipalArn': [READER, ENGINE] } },
        },
        expect.objectContaining({
          Sid: 'OnlyTheEngineChangesIt',
          Effect: 'Deny',
          Principal: '*',
          Action: expect.arrayContaining(['secretsmanager:PutSecretValue', 'secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy']),
          Condition: { ArnNotLike: { 'aws:PrincipalArn': [ENGINE] } },
        }),
      ]);
      expect(fake.secrets.get('taskbound/release-bot/task-1')?.resourcePolicy).toBe(input.ResourcePolicy);
    });

    it('leaves the KMS key to Secrets Manager when the stack has none configured', async () => {
      vault = new SecretsManagerDeliveryVault(fake.client, { enginePrincipalArns: [ENGINE] });
      await vault.deliver(issued('task-1'));
      expect(fake.mock.commandCalls(CreateSecretCommand)[0]!.args[0].input).not.toHaveProperty('KmsKeyId');
    });

    it('overwrites a pending delivery once approved, refreshing its tags and policy', async () => {
      await vault.deliver(delivery('task-1', { status: 'pending_approval' }));
      fake.mock.resetHistory();

      await vault.deliver(issued('task-1'));

      expect(operations(fake)).toEqual(['CreateSecret', 'TagResource', 'PutResourcePolicy', 'PutSecretValue']);
      expect(fake.mock.commandCalls(TagResourceCommand)[0]!.args[0].input.Tags).toContainEqual({ Key: 'taskbound:expires-at', Value: '2030-01-01T00:15:00.000Z' });
      expect(await vault.read('taskbound/release-bot/task-1')).toEqual(issued('task-1').payload);
    });

    it('never writes a credential into a secret whose policy is not in place, and completes on retry', async () => {
      fake.failNext('PutResourcePolicy', throttling());
      await expect(vault.deliver(issued('task-1'))).rejects.toThrow('Rate exceeded');
      expect(fake.currentValue('taskbound/release-bot/task-1')).toBeUndefined();
      expect(fake.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);

      await vault.deliver(issued('task-1'));

      const secret = fake.secrets.get('taskbound/release-bot/task-1');
      expect(secret?.resourcePolicy).toContain(READER);
      expect(JSON.parse(fake.currentValue('taskbound/release-bot/task-1') ?? '')).toEqual(issued('task-1').payload);
    });

    it('backs off while a name is still scheduled for deletion, as AWS asks, then refuses, naming the secret but not its value', async () => {
      const waits: number[] = [];
      vault = new SecretsManagerDeliveryVault(fake.client, { ...OPTIONS, sleep: async (ms) => void waits.push(ms) });
      await vault.deliver(delivery('task-1', { status: 'pending_approval' }));
      fake.scheduleDeletion('taskbound/release-bot/task-1');

      const error = await vault.deliver(issued('task-1')).catch((caught: unknown) => caught);

      expectJitteredWaits(waits, [250, 500, 1000, 2000, 4000]);
      expect(fake.mock.commandCalls(CreateSecretCommand)).toHaveLength(1 + CREATE_AFTER_DELETE_BACKOFF.attempts);
      expect(fake.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
      expect(error).toBeInstanceOf(DeliveryVaultError);
      expect((error as Error).message).toContain('taskbound/release-bot/task-1 is scheduled for deletion');
      expect(JSON.stringify(error)).not.toContain(SECRET_ACCESS_KEY);
      expect((error as Error).message).not.toContain(SECRET_ACCESS_KEY);
    });

    it('delivers once a forced delete of the same name has finished in the background', async () => {
      fake.seed('taskbound/release-bot/task-1', 'an earlier delivery');
      fake.scheduleDeletion('taskbound/release-bot/task-1');
      const waits: number[] = [];
      vault = new SecretsManagerDeliveryVault(fake.client, {
        ...OPTIONS,
        sleep: async (ms) => {
          waits.push(ms);
          // The background deletion completes during the second wait.
          if (waits.length === 2) fake.secrets.delete('taskbound/release-bot/task-1');
        },
      });

      await vault.deliver(issued('task-1'));

      expectJitteredWaits(waits, [250, 500]);
      expect(JSON.parse(fake.currentValue('taskbound/release-bot/task-1') ?? '')).toEqual(issued('task-1').payload);
    });

    it('surfaces a failed write without quoting the credential', async () => {
      fake.failNext('PutSecretValue', throttling());
      const error = (await vault.deliver(issued('task-1')).catch((caught: unknown) => caught)) as Error;
      expect(error.name).toBe('ThrottlingException');
      expect(`${error.message} ${String(error.stack)}`).not.toContain(SECRET_ACCESS_KEY);
      expect(`${error.message} ${String(error.stack)}`).not.toContain(SESSION_TOKEN);
    });

    it('refuses a name outside taskbound/', async () => {
      await expect(vault.deliver({ ...issued('task-1'), name: 'prod/db-password' })).rejects.toThrow(DeliveryVaultError);
      expect(fake.mock.calls()).toHaveLength(0);
    });
  });

  describe('read', () => {
    it('reads back exactly what was delivered', async () => {
      await vault.deliver(issued('task-1'));
      expect(await vault.read('taskbound/release-bot/task-1')).toEqual(issued('task-1').payload);
    });

    it('reads an absent secret, one with no value yet, and one scheduled for deletion as undefined', async () => {
      expect(await vault.read('taskbound/release-bot/never')).toBeUndefined();

      fake.failNext('PutResourcePolicy', throttling());
      await vault.deliver(issued('half-done')).catch(() => undefined);
      expect(await vault.read('taskbound/release-bot/half-done')).toBeUndefined();

      await vault.deliver(issued('task-1'));
      fake.scheduleDeletion('taskbound/release-bot/task-1');
      expect(await vault.read('taskbound/release-bot/task-1')).toBeUndefined();
    });

    it('rejects a value that is not a delivery without quoting it', async () => {
      fake.seed('taskbound/release-bot/odd', `not json ${SECRET_ACCESS_KEY}`);
      fake.seed('taskbound/release-bot/other', JSON.stringify({ password: SECRET_ACCESS_KEY }));

      const notJson = (await vault.read('taskbound/release-bot/odd').catch((caught: unknown) => caught)) as Error;
      const notPayload = (await vault.read('taskbound/release-bot/other').catch((caught: unknown) => caught)) as Error;

      expect(notJson).toBeInstanceOf(DeliveryVaultError);
      expect(notPayload).toBeInstanceOf(DeliveryVaultError);
      for (const error of [notJson, notPayload]) {
        expect(error.message).toContain('taskbound/release-bot/');
        expect(`${error.message} ${String(error.stack)} ${String(error.cause)}`).not.toContain(SECRET_ACCESS_KEY);
      }
    });

    it('rethrows errors other than absence', async () => {
      fake.failNext('GetSecretValue', throttling());
      await expect(vault.read('taskbound/release-bot/task-1')).rejects.toThrow('Rate exceeded');
    });
  });

  describe('destroy', () => {
    it('deletes without recovery in one call', async () => {
      await vault.deliver(issued('task-1'));
      fake.mock.resetHistory();

      await vault.destroy('taskbound/release-bot/task-1');

      expect(operations(fake)).toEqual(['DeleteSecret']);
      expect(fake.mock.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: 'taskbound/release-bot/task-1', ForceDeleteWithoutRecovery: true });
      expect(fake.secrets.has('taskbound/release-bot/task-1')).toBe(false);
    });

    it('counts an absent secret as destroyed, whether the endpoint answers success or ResourceNotFoundException', async () => {
      await vault.destroy('taskbound/release-bot/never');
      fake.failNext('DeleteSecret', new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
      await vault.destroy('taskbound/release-bot/never');
      expect(fake.mock.commandCalls(DeleteSecretCommand)).toHaveLength(2);
    });

    it('deletes at once a secret already scheduled for deletion', async () => {
      await vault.deliver(issued('task-1'));
      fake.scheduleDeletion('taskbound/release-bot/task-1');

      await vault.destroy('taskbound/release-bot/task-1');

      expect(fake.secrets.has('taskbound/release-bot/task-1')).toBe(false);
    });

    it('restores then deletes a scheduled secret when the forced delete is refused as marked deleted', async () => {
      await vault.deliver(issued('task-1'));
      fake.scheduleDeletion('taskbound/release-bot/task-1');
      fake.failNext(
        'DeleteSecret',
        new InvalidRequestException({ message: "You tried to perform the operation on a secret that's currently marked deleted.", $metadata: {} }),
      );
      fake.mock.resetHistory();

      await vault.destroy('taskbound/release-bot/task-1');

      expect(operations(fake)).toEqual(['DeleteSecret', 'RestoreSecret', 'DeleteSecret']);
      expect(fake.mock.commandCalls(RestoreSecretCommand)[0]!.args[0].input).toEqual({ SecretId: 'taskbound/release-bot/task-1' });
      expect(fake.secrets.has('taskbound/release-bot/task-1')).toBe(false);
    });

    it('surfaces throttling instead of claiming the secret is gone', async () => {
      await vault.deliver(issued('task-1'));
      fake.failNext('DeleteSecret', throttling());
      await expect(vault.destroy('taskbound/release-bot/task-1')).rejects.toThrow('Rate exceeded');
      expect(fake.secrets.has('taskbound/release-bot/task-1')).toBe(true);
    });
  });

  describe('listDeliveries', () => {
    it('pages through every delivery with its grant id, and nothing else', async () => {
      for (let task = 0; task < 105; task++) await vault.deliver(delivery(`task-${task}`, { status: 'pending_approval' }));
      fake.seed('prod/db-password', 'x');
      fake.seed('TaskBound/looks-alike', 'x');
      await vault.deliver(delivery('doomed', { status: 'denied', reason: 'no' }));
      fake.scheduleDeletion('taskbound/release-bot/doomed');

      const listed = await collect(vault.listDeliveries());

      expect(listed).toHaveLength(105);
      expect(listed).toContainEqual({ name: 'taskbound/release-bot/task-104', grantId: grantIdFor('release-bot', 'task-104') });
      const calls = fake.mock.commandCalls(ListSecretsCommand).map((call) => call.args[0].input);
      expect(calls).toHaveLength(2);
      expect(calls[0]).toEqual({ Filters: [{ Key: 'name', Values: ['taskbound/'] }], MaxResults: 100 });
      expect(calls[1]?.NextToken).toBeDefined();
    });

    it('lists a delivery secret without the grant tag with no grant id', async () => {
      fake.seed('taskbound/release-bot/untagged', '{}');
      expect(await collect(vault.listDeliveries())).toEqual([{ name: 'taskbound/release-bot/untagged' }]);
    });
  });
});

describe('SecretsManagerDeliveryVault against the local engine', () => {
  let service: SecretsManagerService;
  let server: RunningServer;
  let client: SecretsManagerClient;
  let vault: SecretsManagerDeliveryVault;

  beforeEach(async () => {
    service = await createSecretsManagerService();
    server = await startAwsProtocolServer({ services: [service] });
    client = new SecretsManagerClient(localClientConfig(server.url));
    vault = new SecretsManagerDeliveryVault(client, OPTIONS);
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
    await service.close();
  });

  it('delivers, re-delivers, reads, lists and destroys over the wire', async () => {
    await vault.deliver(delivery('task-1', { status: 'pending_approval' }));
    await vault.deliver(issued('task-1'));

    expect(await vault.read('taskbound/release-bot/task-1')).toEqual(issued('task-1').payload);
    const policy = await client.send(new GetResourcePolicyCommand({ SecretId: 'taskbound/release-bot/task-1' }));
    expect(JSON.parse(policy.ResourcePolicy ?? '').Statement[0].Principal).toEqual({ AWS: READER });
    expect(await collect(vault.listDeliveries())).toEqual([{ name: 'taskbound/release-bot/task-1', grantId: grantIdFor('release-bot', 'task-1') }]);

    await vault.destroy('taskbound/release-bot/task-1');
    await vault.destroy('taskbound/release-bot/task-1');

    expect(await vault.read('taskbound/release-bot/task-1')).toBeUndefined();
    expect(await collect(vault.listDeliveries())).toEqual([]);
  });

  it('destroys a secret the local engine holds scheduled for deletion', async () => {
    await vault.deliver(issued('task-1'));
    await client.send(new DeleteSecretCommand({ SecretId: 'taskbound/release-bot/task-1', RecoveryWindowInDays: 7 }));
    expect(await vault.read('taskbound/release-bot/task-1')).toBeUndefined();

    await vault.destroy('taskbound/release-bot/task-1');

    await expect(client.send(new GetResourcePolicyCommand({ SecretId: 'taskbound/release-bot/task-1' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
