// The rotator on a model of Secrets Manager's rotation (test/helpers/fake-secrets-manager.ts: the
// emulator tier cannot run a rotation function), and against the local engine over the wire.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RotationNotConfiguredError,
  RotationUnconfirmedError,
  SecretsManagerRotator,
} from '../../../../lambdas/adapters/aws/secrets-manager-rotator';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createSecretsManagerService, type SecretsManagerService } from '../../../../lambdas/local/emulated-aws/secrets-manager-service';
import { FakeSecretsManager, throttling } from '../../../helpers/fake-secrets-manager';
import { expectJitteredWaits } from '../../../helpers/backoff';

const STRIPE_KEY = 'sk_live_EXAMPLEEXAMPLEEXAMPLE';
const ROTATION_FUNCTION = 'arn:aws:lambda:us-east-1:111122223333:function:rotate-stripe-key';
const CONFIRMATION = { attempts: 5, delayMs: 100, maxDelayMs: 400 };

describe('SecretsManagerRotator', () => {
  let fake: FakeSecretsManager;
  let waits: number[];
  let rotator: SecretsManagerRotator;

  beforeEach(() => {
    fake = new FakeSecretsManager();
    waits = [];
    rotator = new SecretsManagerRotator(fake.client, { confirmation: CONFIRMATION, sleep: async (ms) => void waits.push(ms) });
  });
  afterEach(() => fake.restore());

  it('rotates through the secret’s own function and confirms the new version is AWSCURRENT', async () => {
    const secret = fake.seed('stripe-key', { lambdaArn: ROTATION_FUNCTION, completesAfterDescribes: 3 });

    expect(await rotator.rotate(secret)).toBe('rotated');

    const rotate = fake.mock.commandCalls(RotateSecretCommand)[0]!.args[0].input;
    expect(rotate.SecretId).toBe(secret);
    expect(rotate.RotationLambdaARN).toBeUndefined();
    expect(rotate.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.currentVersion(secret)).toBe(rotate.ClientRequestToken);
    expect(fake.mock.commandCalls(DescribeSecretCommand)).toHaveLength(3);
    expectJitteredWaits(waits, [100, 200]);
  });

  it('backs off up to the cap and says so when the new version never becomes current', async () => {
    const secret = fake.seed('stripe-key', { lambdaArn: ROTATION_FUNCTION, completesAfterDescribes: Infinity });
    const before = fake.currentVersion(secret);

    const error = (await rotator.rotate(secret).catch((caught: unknown) => caught)) as Error;

    expect(error).toBeInstanceOf(RotationUnconfirmedError);
    expect(error.message).toContain(secret);
    expectJitteredWaits(waits, [100, 200, 400, 400]);
    expect(fake.mock.commandCalls(DescribeSecretCommand)).toHaveLength(5);
    expect(fake.currentVersion(secret)).toBe(before);
  });

  it('answers already-rotating while a previous rotation is unfinished', async () => {
    const secret = fake.seed('stripe-key', { lambdaArn: ROTATION_FUNCTION, completesAfterDescribes: Infinity });
    await rotator.rotate(secret).catch(() => undefined);

    expect(await rotator.rotate(secret)).toBe('already-rotating');
  });

  it('explains that a secret without rotation cannot be rotated after use', async () => {
    const secret = fake.seed('plain-secret');
    const before = fake.currentVersion(secret);

    const error = (await rotator.rotate(secret).catch((caught: unknown) => caught)) as Error;

    expect(error).toBeInstanceOf(RotationNotConfiguredError);
    expect(error.message).toContain(`secret ${secret} has no rotation configured`);
    expect(fake.currentVersion(secret)).toBe(before);
  });

  it('surfaces a refusal it cannot explain, and throttling, as they are', async () => {
    const secret = fake.seed('stripe-key', { lambdaArn: ROTATION_FUNCTION, completesAfterDescribes: 0 });
    fake.scheduleDeletion(secret);
    await expect(rotator.rotate(secret)).rejects.toThrow('marked for deletion');

    const other = fake.seed('other-key', { lambdaArn: ROTATION_FUNCTION, completesAfterDescribes: 0 });
    fake.failNext('RotateSecret', throttling());
    await expect(rotator.rotate(other)).rejects.toThrow('Rate exceeded');
  });

  it('refuses a confirmation schedule with no attempts', () => {
    expect(() => new SecretsManagerRotator(fake.client, { confirmation: { attempts: 0, delayMs: 1, maxDelayMs: 1 } })).toThrow(RangeError);
  });
});

describe('SecretsManagerRotator against the local engine', () => {
  let service: SecretsManagerService;
  let server: RunningServer;
  let client: SecretsManagerClient;

  async function start(onRotate?: () => string): Promise<SecretsManagerRotator> {
    service = await createSecretsManagerService(onRotate ? { onRotate } : {});
    server = await startAwsProtocolServer({ services: [service] });
    client = new SecretsManagerClient(localClientConfig(server.url));
    return new SecretsManagerRotator(client, { confirmation: CONFIRMATION, sleep: async () => undefined });
  }

  afterEach(async () => {
    client.destroy();
    await server.close();
    await service.close();
  });

  it('rotates with the local rotation hook and confirms over the wire', async () => {
    const rotator = await start(() => 'sk_live_NEW');
    const created = await client.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: STRIPE_KEY }));

    expect(await rotator.rotate(created.ARN ?? '')).toBe('rotated');
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'stripe-key' }))).SecretString).toBe('sk_live_NEW');
  });

  it('explains a local secret with no rotation hook as not configured', async () => {
    const rotator = await start();
    const created = await client.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: STRIPE_KEY }));

    await expect(rotator.rotate(created.ARN ?? '')).rejects.toBeInstanceOf(RotationNotConfiguredError);
  });
});
