// AWS emulator tier: the delivery vault against moto's Secrets Manager, over a real SDK client.
// Where moto answers otherwise than Secrets Manager documents, SDK middleware on the same client
// answers as AWS does: CreateSecret on a name scheduled for deletion (moto: ResourceExistsException),
// a refused forced delete, throttling.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CREATE_AFTER_DELETE_BACKOFF,
  DeliveryVaultError,
  SecretsManagerDeliveryVault,
  type SecretsManagerDeliveryVaultOptions,
} from '../../lambdas/adapters/aws/secrets-manager-delivery-vault';
import { grantIdFor } from '../../lambdas/domain/ids';
import { collect, delivery, issued, READER, SECRET_ACCESS_KEY, SESSION_TOKEN } from '../helpers/deliveries';
import { expectJitteredWaits } from '../helpers/backoff';
import { freshMoto, type FreshMoto } from './moto-world';
import { afterRetry, countCalls, injectFaults, type ApiCall } from './sdk-middleware';

const ENGINE = 'arn:aws:iam::111122223333:role/taskbound-engine-*';
const NAME = 'taskbound/release-bot/task-1';

/** Secrets Manager's throttling answer (not in its model: the SDK's base class, named by its code). */
const throttling = () =>
  new SecretsManagerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });

describe('SecretsManagerDeliveryVault on moto', () => {
  let moto: FreshMoto;
  let client: SecretsManagerClient;
  let calls: ApiCall[];
  /** Every input the vault sent, by operation. */
  let inputs: Array<{ operation: string; input: Record<string, unknown> }>;
  let options: SecretsManagerDeliveryVaultOptions;

  const vault = (overrides: Partial<SecretsManagerDeliveryVaultOptions> = {}) =>
    new SecretsManagerDeliveryVault(client, { ...options, ...overrides });
  const operations = () => calls.map((call) => call.operation);
  const inputsOf = (operation: string) => inputs.filter((call) => call.operation === operation).map((call) => call.input);
  const value = async (name: string) => (await moto.aws.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  const exists = (name: string) =>
    moto.aws.secrets.send(new DescribeSecretCommand({ SecretId: name })).then(
      () => true,
      (error: unknown) => (error instanceof ResourceNotFoundException ? false : Promise.reject(error)),
    );
  const scheduleDeletion = (name: string) => moto.aws.secrets.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));

  beforeEach(async () => {
    moto = await freshMoto();
    client = new SecretsManagerClient({ ...moto.engineConfig, maxAttempts: 1 });
    options = { kmsKeyArn: moto.deliveryKeyArn, enginePrincipalArns: [ENGINE] };
    calls = [];
    inputs = [];
    countCalls(client as never, calls, { count: 0 });
    afterRetry(client as never, (next, operation) => async (args) => {
      inputs.push({ operation, input: args.input ?? {} });
      return next(args);
    });
    /**
     * CreateSecret on a name whose secret is scheduled for deletion: Secrets Manager answers
     * InvalidRequestException ("You can't create this secret because a secret with this name
     * is already scheduled for deletion"; CreateSecret, Errors:
     * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html),
     * and a forced delete completes "asynchronously" (DeleteSecret:
     * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html).
     * moto holds the state; this gives its answer as AWS words it.
     */
    afterRetry(client as never, (next, operation) => async (args) => {
      if (operation !== 'CreateSecret') return next(args);
      const described = await moto.aws.secrets
        .send(new DescribeSecretCommand({ SecretId: String(args.input?.Name) }))
        .catch(() => undefined);
      if (described?.DeletedDate) {
        throw new InvalidRequestException({
          message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    });
  });
  afterEach(() => client.destroy());

  describe('deliver', () => {
    it('creates the secret empty under the stack key, locks it to the runtime, then writes the value: three calls', async () => {
      await vault().deliver(issued('task-1'));

      expect(operations()).toEqual(['CreateSecret', 'PutResourcePolicy', 'PutSecretValue']);
      const [create] = inputsOf('CreateSecret');
      expect(create).toMatchObject({ Name: NAME, KmsKeyId: moto.deliveryKeyArn });
      expect(create?.SecretString).toBeUndefined();
      const { Tags, KmsKeyId } = await moto.aws.secrets.send(new DescribeSecretCommand({ SecretId: NAME }));
      expect(KmsKeyId).toBe(moto.deliveryKeyArn);
      expect(Tags).toEqual([
        { Key: 'taskbound:grant-id', Value: grantIdFor('release-bot', 'task-1') },
        { Key: 'taskbound:agent-id', Value: 'release-bot' },
        { Key: 'taskbound:task-id', Value: 'task-1' },
        { Key: 'taskbound:expires-at', Value: '2030-01-01T00:15:00.000Z' },
      ]);
      expect(JSON.parse((await value(NAME)) ?? '')).toEqual(issued('task-1').payload);
    });

    describe('under a key whose policy locks the value (keyPolicyLocksValue, the stack key)', () => {
      const locked = () => vault({ keyPolicyLocksValue: true });

      it('prepares nothing: a new delivery is created with its value under the key, then locked to the runtime: two calls', async () => {
        expect(locked().prepare).toBeUndefined();

        await locked().deliver(issued('task-1'));

        expect(operations()).toEqual(['CreateSecret', 'PutResourcePolicy']);
        const [create] = inputsOf('CreateSecret');
        expect(create).toMatchObject({ Name: NAME, KmsKeyId: moto.deliveryKeyArn });
        expect(JSON.parse(String(create?.SecretString))).toEqual(issued('task-1').payload);
        const { ResourcePolicy } = await moto.aws.secrets.send(new GetResourcePolicyCommand({ SecretId: NAME }));
        expect(JSON.parse(ResourcePolicy ?? '').Statement[0]).toMatchObject({ Sid: 'RuntimeReadsItsDelivery', Principal: { AWS: READER } });
        expect(inputsOf('PutResourcePolicy')[0]?.BlockPublicPolicy).toBe(true);
        expect(JSON.parse((await value(NAME)) ?? '')).toEqual(issued('task-1').payload);
      });

      it('locks a secret that exists (a pending request approved) before writing its value: re-tagged, locked, written', async () => {
        await locked().deliver(delivery('task-1', { status: 'pending_approval' }));
        calls.length = 0;

        await locked().deliver(issued('task-1'));

        expect(operations()).toEqual(['CreateSecret', 'TagResource', 'PutResourcePolicy', 'PutSecretValue']);
        expect(JSON.parse((await value(NAME)) ?? '')).toEqual(issued('task-1').payload);
      });

      it('a lock that failed after the value went in fails the delivery, and the retry locks it before writing again', async () => {
        injectFaults(client as never, [{ operation: 'PutResourcePolicy', times: 1, error: throttling }]);

        await expect(locked().deliver(issued('task-1'))).rejects.toThrow('Rate exceeded');
        await expect(moto.aws.secrets.send(new GetResourcePolicyCommand({ SecretId: NAME }))).resolves.not.toHaveProperty(
          'ResourcePolicy',
          expect.stringContaining('RuntimeReadsItsDelivery'),
        );
        calls.length = 0;

        await locked().deliver(issued('task-1'));

        expect(operations()).toEqual(['CreateSecret', 'TagResource', 'PutResourcePolicy', 'PutSecretValue']);
        const { ResourcePolicy } = await moto.aws.secrets.send(new GetResourcePolicyCommand({ SecretId: NAME }));
        expect(JSON.parse(ResourcePolicy ?? '').Statement[0]).toMatchObject({ Principal: { AWS: READER } });
      });

      it('stages a new delivery in one call and locks it in one more; one that exists is left alone, then written without creating it again', async () => {
        const staging = locked();
        expect(await staging.stage!(issued('task-1'))).toBe(true);
        expect(await staging.read(NAME)).toEqual(issued('task-1').payload);
        await staging.deliver(issued('task-1'), 'staged');
        expect(operations()).toEqual(['CreateSecret', 'GetSecretValue', 'PutResourcePolicy']);
        calls.length = 0;

        expect(await staging.stage!(delivery('task-1', { status: 'denied', reason: 'r' }))).toBe(false);
        expect(await staging.read(NAME)).toEqual(issued('task-1').payload);
        await staging.deliver(delivery('task-1', { status: 'denied', reason: 'r' }), 'existing');

        expect(operations()).toEqual(['CreateSecret', 'GetSecretValue', 'TagResource', 'PutResourcePolicy', 'PutSecretValue']);
        expect(await staging.read(NAME)).toMatchObject({ status: 'denied' });
      });

      it('refuses to claim a lock without the key that holds it', () => {
        expect(() => vault({ keyPolicyLocksValue: true, kmsKeyArn: undefined })).toThrow(/needs the kmsKeyArn/);
      });
    });

    it('prepares the secret empty and locked while the credential is issued (two calls), then writes only the value', async () => {
      await vault().prepare!(issued('task-1'));

      expect(operations()).toEqual(['CreateSecret', 'PutResourcePolicy']);
      expect(inputsOf('CreateSecret')[0]?.SecretString).toBeUndefined();
      expect(await vault().read(NAME)).toBeUndefined();
      const { ResourcePolicy } = await moto.aws.secrets.send(new GetResourcePolicyCommand({ SecretId: NAME }));
      expect(JSON.parse(ResourcePolicy ?? '').Statement[0]).toMatchObject({ Sid: 'RuntimeReadsItsDelivery', Principal: { AWS: READER } });
      calls.length = 0;

      await vault().deliver(issued('task-1'), 'prepared');

      expect(operations()).toEqual(['PutSecretValue']);
      expect(JSON.parse((await value(NAME)) ?? '')).toEqual(issued('task-1').payload);
    });

    it('adopts a secret that exists when preparing (a pending request approved, a duplicate Task Started): re-tags and re-locks it', async () => {
      await vault().deliver(delivery('task-1', { status: 'pending_approval' }));
      calls.length = 0;

      await vault().prepare!(issued('task-1'));

      expect(operations()).toEqual(['CreateSecret', 'TagResource', 'PutResourcePolicy']);
      expect(await vault().read(NAME)).toEqual(delivery('task-1', { status: 'pending_approval' }).payload);
      expect((await moto.aws.secrets.send(new DescribeSecretCommand({ SecretId: NAME }))).Tags).toContainEqual({
        Key: 'taskbound:expires-at',
        Value: '2030-01-01T00:15:00.000Z',
      });
    });

    it('lets only the runtime read, denies every other principal but the engine, and blocks public policies', async () => {
      await vault().deliver(issued('task-1'));

      expect(inputsOf('PutResourcePolicy')[0]?.BlockPublicPolicy).toBe(true);
      const { ResourcePolicy } = await moto.aws.secrets.send(new GetResourcePolicyCommand({ SecretId: NAME }));
      expect(JSON.parse(ResourcePolicy ?? '').Statement).toEqual([
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
          Action: expect.arrayContaining([
            'secretsmanager:PutSecretValue',
            'secretsmanager:PutResourcePolicy',
            'secretsmanager:DeleteResourcePolicy',
          ]),
          Condition: { ArnNotLike: { 'aws:PrincipalArn': [ENGINE] } },
        }),
      ]);
    });

    it('leaves the KMS key to Secrets Manager when the stack has none configured', async () => {
      await new SecretsManagerDeliveryVault(client, { enginePrincipalArns: [ENGINE] }).deliver(issued('task-1'));

      expect(inputsOf('CreateSecret')[0]).not.toHaveProperty('KmsKeyId');
      expect((await moto.aws.secrets.send(new DescribeSecretCommand({ SecretId: NAME }))).KmsKeyId).toBeUndefined();
    });

    it('overwrites a pending delivery once approved (moto answers ResourceExistsException), refreshing its tags and policy', async () => {
      await vault().deliver(delivery('task-1', { status: 'pending_approval' }));
      calls.length = 0;

      await vault().deliver(issued('task-1'));

      expect(operations()).toEqual(['CreateSecret', 'TagResource', 'PutResourcePolicy', 'PutSecretValue']);
      expect((await moto.aws.secrets.send(new DescribeSecretCommand({ SecretId: NAME }))).Tags).toContainEqual({
        Key: 'taskbound:expires-at',
        Value: '2030-01-01T00:15:00.000Z',
      });
      expect(await vault().read(NAME)).toEqual(issued('task-1').payload);
    });

    it('never writes a credential into a secret whose policy is not in place, and completes on retry', async () => {
      injectFaults(client as never, [{ operation: 'PutResourcePolicy', error: throttling, times: 1 }]);

      await expect(vault().deliver(issued('task-1'))).rejects.toThrow('Rate exceeded');
      expect(operations()).not.toContain('PutSecretValue');
      expect(await vault().read(NAME)).toBeUndefined();

      await vault().deliver(issued('task-1'));

      expect((await moto.aws.secrets.send(new GetResourcePolicyCommand({ SecretId: NAME }))).ResourcePolicy).toContain(READER);
      expect(JSON.parse((await value(NAME)) ?? '')).toEqual(issued('task-1').payload);
    });

    it('backs off while a name is still scheduled for deletion, as AWS asks, then refuses, naming the secret but not its value', async () => {
      const waits: number[] = [];
      await vault().deliver(delivery('task-1', { status: 'pending_approval' }));
      await scheduleDeletion(NAME);
      calls.length = 0;

      const error = await vault({ sleep: async (ms) => void waits.push(ms) })
        .deliver(issued('task-1'))
        .catch((caught: unknown) => caught);

      expectJitteredWaits(waits, [250, 500, 1000, 2000, 4000]);
      expect(operations()).toEqual(Array.from({ length: CREATE_AFTER_DELETE_BACKOFF.attempts }, () => 'CreateSecret'));
      expect(error).toBeInstanceOf(DeliveryVaultError);
      expect((error as Error).message).toContain(`${NAME} is scheduled for deletion`);
      expect(JSON.stringify(error)).not.toContain(SECRET_ACCESS_KEY);
      expect((error as Error).message).not.toContain(SECRET_ACCESS_KEY);
    });

    it('delivers once a forced delete of the same name has finished in the background', async () => {
      await moto.aws.secrets.send(new CreateSecretCommand({ Name: NAME, SecretString: 'an earlier delivery' }));
      await scheduleDeletion(NAME);
      const waits: number[] = [];
      const waiting = vault({
        sleep: async (ms) => {
          waits.push(ms);
          // The background deletion completes during the second wait.
          if (waits.length === 2)
            await moto.aws.secrets.send(new DeleteSecretCommand({ SecretId: NAME, ForceDeleteWithoutRecovery: true }));
        },
      });

      await waiting.deliver(issued('task-1'));

      expectJitteredWaits(waits, [250, 500]);
      expect(JSON.parse((await value(NAME)) ?? '')).toEqual(issued('task-1').payload);
    });

    it('surfaces a failed write without quoting the credential', async () => {
      injectFaults(client as never, [{ operation: 'PutSecretValue', error: throttling, times: 1 }]);

      const error = (await vault()
        .deliver(issued('task-1'))
        .catch((caught: unknown) => caught)) as Error;

      expect(error.name).toBe('ThrottlingException');
      expect(`${error.message} ${String(error.stack)}`).not.toContain(SECRET_ACCESS_KEY);
      expect(`${error.message} ${String(error.stack)}`).not.toContain(SESSION_TOKEN);
    });

    it('refuses a name outside taskbound/', async () => {
      await expect(vault().deliver({ ...issued('task-1'), name: 'prod/db-password' })).rejects.toThrow(DeliveryVaultError);
      expect(calls).toHaveLength(0);
    });
  });

  describe('read', () => {
    it('reads back exactly what was delivered', async () => {
      await vault().deliver(issued('task-1'));
      expect(await vault().read(NAME)).toEqual(issued('task-1').payload);
    });

    it('reads an absent secret, one with no value yet, and one scheduled for deletion as undefined', async () => {
      expect(await vault().read('taskbound/release-bot/never')).toBeUndefined();

      injectFaults(client as never, [{ operation: 'PutResourcePolicy', error: throttling, times: 1 }]);
      await vault()
        .deliver(issued('half-done'))
        .catch(() => undefined);
      expect(await exists('taskbound/release-bot/half-done')).toBe(true);
      expect(await vault().read('taskbound/release-bot/half-done')).toBeUndefined();

      await vault().deliver(issued('task-1'));
      await scheduleDeletion(NAME);
      expect(await vault().read(NAME)).toBeUndefined();
    });

    it('rejects a value that is not a delivery without quoting it', async () => {
      await moto.aws.secrets.send(
        new CreateSecretCommand({ Name: 'taskbound/release-bot/odd', SecretString: `not json ${SECRET_ACCESS_KEY}` }),
      );
      await moto.aws.secrets.send(
        new CreateSecretCommand({ Name: 'taskbound/release-bot/other', SecretString: JSON.stringify({ password: SECRET_ACCESS_KEY }) }),
      );

      const notJson = (await vault()
        .read('taskbound/release-bot/odd')
        .catch((caught: unknown) => caught)) as Error;
      const notPayload = (await vault()
        .read('taskbound/release-bot/other')
        .catch((caught: unknown) => caught)) as Error;

      expect(notJson).toBeInstanceOf(DeliveryVaultError);
      expect(notPayload).toBeInstanceOf(DeliveryVaultError);
      for (const error of [notJson, notPayload]) {
        expect(error.message).toContain('taskbound/release-bot/');
        expect(`${error.message} ${String(error.stack)} ${String(error.cause)}`).not.toContain(SECRET_ACCESS_KEY);
      }
    });

    it('rethrows errors other than absence', async () => {
      injectFaults(client as never, [{ operation: 'GetSecretValue', error: throttling, times: 1 }]);
      await expect(vault().read(NAME)).rejects.toThrow('Rate exceeded');
    });
  });

  describe('readMany', () => {
    it('reads deliveries 20 per BatchGetSecretValue call, each as read would, the absent and scheduled ones as undefined', async () => {
      const tasks = Array.from({ length: 23 }, (_, index) => `batch-${index}`);
      for (const task of tasks) await vault().deliver(issued(task));
      await scheduleDeletion('taskbound/release-bot/batch-0');
      const names = [...tasks.map((task) => `taskbound/release-bot/${task}`), 'taskbound/release-bot/never'];
      calls.length = 0;
      inputs.length = 0;

      const read = await vault().readMany(names);

      expect(operations()).toEqual(['BatchGetSecretValue', 'BatchGetSecretValue']);
      expect(inputsOf('BatchGetSecretValue').map((input) => (input.SecretIdList as string[]).length)).toEqual([20, 4]);
      expect(read.size).toBe(24);
      for (const task of tasks.slice(1)) expect(read.get(`taskbound/release-bot/${task}`)).toEqual(issued(task).payload);
      expect(read.has('taskbound/release-bot/batch-0') && read.get('taskbound/release-bot/batch-0')).toBeUndefined();
      expect(read.has('taskbound/release-bot/never') && read.get('taskbound/release-bot/never')).toBeUndefined();
    });

    it('leaves out a secret that does not hold a delivery, without quoting it, so its own read reports it', async () => {
      await vault().deliver(issued('task-1'));
      await moto.aws.secrets.send(
        new CreateSecretCommand({ Name: 'taskbound/release-bot/odd', SecretString: `not json ${SECRET_ACCESS_KEY}` }),
      );

      const read = await vault().readMany([NAME, 'taskbound/release-bot/odd']);

      expect([...read.keys()]).toEqual([NAME]);
    });

    it('surfaces throttling instead of reading the deliveries as gone', async () => {
      injectFaults(client as never, [{ operation: 'BatchGetSecretValue', error: throttling, times: 1 }]);
      await expect(vault().readMany([NAME])).rejects.toThrow('Rate exceeded');
    });
  });

  describe('destroy', () => {
    it('deletes without recovery in one call', async () => {
      await vault().deliver(issued('task-1'));
      calls.length = 0;
      inputs.length = 0;

      await vault().destroy(NAME);

      expect(operations()).toEqual(['DeleteSecret']);
      expect(inputsOf('DeleteSecret')).toEqual([{ SecretId: NAME, ForceDeleteWithoutRecovery: true }]);
      expect(await exists(NAME)).toBe(false);
    });

    it('counts an absent secret as destroyed, whether the endpoint answers success or ResourceNotFoundException', async () => {
      await vault().destroy('taskbound/release-bot/never');
      injectFaults(client as never, [
        {
          operation: 'DeleteSecret',
          error: () =>
            new ResourceNotFoundException({
              message: "Secrets Manager can't find the specified secret.",
              $metadata: { httpStatusCode: 400 },
            }),
          times: 1,
        },
      ]);
      await vault().destroy('taskbound/release-bot/never');
      expect(operations()).toEqual(['DeleteSecret', 'DeleteSecret']);
    });

    it('deletes at once a secret already scheduled for deletion', async () => {
      await vault().deliver(issued('task-1'));
      await scheduleDeletion(NAME);

      await vault().destroy(NAME);

      expect(await exists(NAME)).toBe(false);
    });

    it('restores then deletes a scheduled secret when the forced delete is refused as marked deleted', async () => {
      await vault().deliver(issued('task-1'));
      await scheduleDeletion(NAME);
      injectFaults(client as never, [
        {
          operation: 'DeleteSecret',
          error: () =>
            new InvalidRequestException({
              message: "You tried to perform the operation on a secret that's currently marked deleted.",
              $metadata: { httpStatusCode: 400 },
            }),
          times: 1,
        },
      ]);
      calls.length = 0;
      inputs.length = 0;

      await vault().destroy(NAME);

      expect(operations()).toEqual(['DeleteSecret', 'RestoreSecret', 'DeleteSecret']);
      expect(inputsOf('RestoreSecret')).toEqual([{ SecretId: NAME }]);
      expect(await exists(NAME)).toBe(false);
    });

    it('surfaces throttling instead of claiming the secret is gone', async () => {
      await vault().deliver(issued('task-1'));
      injectFaults(client as never, [{ operation: 'DeleteSecret', error: throttling, times: 1 }]);

      await expect(vault().destroy(NAME)).rejects.toThrow('Rate exceeded');
      expect(await exists(NAME)).toBe(true);
    });
  });

  describe('listDeliveries', () => {
    it('pages through every delivery with its grant id, and nothing else', async () => {
      for (let task = 0; task < 105; task++) await vault().deliver(delivery(`task-${task}`, { status: 'pending_approval' }));
      await moto.aws.secrets.send(new CreateSecretCommand({ Name: 'prod/db-password', SecretString: 'x' }));
      await moto.aws.secrets.send(new CreateSecretCommand({ Name: 'TaskBound/looks-alike', SecretString: 'x' }));
      await vault().deliver(delivery('doomed', { status: 'denied', reason: 'no' }));
      await scheduleDeletion('taskbound/release-bot/doomed');
      inputs.length = 0;

      const listed = await collect(vault().listDeliveries());

      expect(listed).toHaveLength(105);
      expect(listed).toContainEqual({ name: 'taskbound/release-bot/task-104', grantId: grantIdFor('release-bot', 'task-104') });
      const pages = inputsOf('ListSecrets');
      expect(pages).toHaveLength(2);
      expect(pages[0]).toEqual({ Filters: [{ Key: 'name', Values: ['taskbound/'] }], MaxResults: 100 });
      expect(pages[1]?.NextToken).toBeDefined();
    });

    it('lists a delivery secret without the grant tag with no grant id', async () => {
      await moto.aws.secrets.send(new CreateSecretCommand({ Name: 'taskbound/release-bot/untagged', SecretString: '{}' }));
      expect(await collect(vault().listDeliveries())).toEqual([{ name: 'taskbound/release-bot/untagged' }]);
    });
  });
});
