// The delivery vault against the local engine's Secrets Manager, over the wire. Against AWS's
// behaviour it is tested on moto, the independent emulator (test/aws/secrets-manager-delivery-vault.test.ts).
import {
  DeleteSecretCommand,
  GetResourcePolicyCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SecretsManagerDeliveryVault,
  type SecretsManagerDeliveryVaultOptions,
} from '../../../../lambdas/adapters/aws/secrets-manager-delivery-vault';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createSecretsManagerService, type SecretsManagerService } from '../../../../lambdas/local/emulated-aws/secrets-manager-service';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import { collect, delivery, issued, READER } from '../../../helpers/deliveries';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ENGINE = 'arn:aws:iam::111122223333:role/taskbound-engine-*';
const OPTIONS: SecretsManagerDeliveryVaultOptions = { kmsKeyArn: KEY_ARN, enginePrincipalArns: [ENGINE] };

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
    expect(await collect(vault.listDeliveries())).toEqual([
      { name: 'taskbound/release-bot/task-1', grantId: grantIdFor('release-bot', 'task-1') },
    ]);

    await vault.destroy('taskbound/release-bot/task-1');
    await vault.destroy('taskbound/release-bot/task-1');

    expect(await vault.read('taskbound/release-bot/task-1')).toBeUndefined();
    expect(await collect(vault.listDeliveries())).toEqual([]);
  });

  it('prepares the delivery empty and locked: it reads as absent, is listed for reconciliation, and takes its value in one write', async () => {
    await vault.prepare!(issued('task-1'));

    expect(await vault.read('taskbound/release-bot/task-1')).toBeUndefined();
    const policy = await client.send(new GetResourcePolicyCommand({ SecretId: 'taskbound/release-bot/task-1' }));
    expect(JSON.parse(policy.ResourcePolicy ?? '').Statement[0].Principal).toEqual({ AWS: READER });
    expect(await collect(vault.listDeliveries())).toEqual([
      { name: 'taskbound/release-bot/task-1', grantId: grantIdFor('release-bot', 'task-1') },
    ]);

    await vault.deliver(issued('task-1'), 'prepared');

    expect(await vault.read('taskbound/release-bot/task-1')).toEqual(issued('task-1').payload);
  });

  it('with the key locking the value, creates a delivery with its value and locks it next; an existing one is locked before it is written', async () => {
    const operations: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        operations.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize' },
    );
    const locked = new SecretsManagerDeliveryVault(client, { ...OPTIONS, keyPolicyLocksValue: true });
    expect(locked.prepare).toBeUndefined();

    await locked.deliver(delivery('task-1', { status: 'pending_approval' }));
    expect(operations.splice(0)).toEqual(['CreateSecretCommand', 'PutResourcePolicyCommand']);
    await locked.deliver(issued('task-1'));
    expect(operations.splice(0)).toEqual([
      'CreateSecretCommand',
      'TagResourceCommand',
      'PutResourcePolicyCommand',
      'PutSecretValueCommand',
    ]);

    expect(await locked.read('taskbound/release-bot/task-1')).toEqual(issued('task-1').payload);
    const policy = await client.send(new GetResourcePolicyCommand({ SecretId: 'taskbound/release-bot/task-1' }));
    expect(JSON.parse(policy.ResourcePolicy ?? '').Statement[0].Principal).toEqual({ AWS: READER });
  });

  it('destroys a secret the local engine holds scheduled for deletion', async () => {
    await vault.deliver(issued('task-1'));
    await client.send(new DeleteSecretCommand({ SecretId: 'taskbound/release-bot/task-1', RecoveryWindowInDays: 7 }));
    expect(await vault.read('taskbound/release-bot/task-1')).toBeUndefined();

    await vault.destroy('taskbound/release-bot/task-1');

    await expect(client.send(new GetResourcePolicyCommand({ SecretId: 'taskbound/release-bot/task-1' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});
