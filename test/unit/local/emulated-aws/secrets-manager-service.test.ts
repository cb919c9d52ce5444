import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  type BatchGetSecretValueCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveSecretsManager, type ServedSecretsManager } from './secrets-manager-fixture';
import { startStateStore, type StateStore } from './state-store';
import type { SecretsManagerServiceOptions } from '../../../../lambdas/local/emulated-aws/secrets-manager-service';

const DAY_MS = 86_400_000;

describe('secrets manager service', () => {
  let state: StateStore;
  let clock: Date;
  let served: ServedSecretsManager;
  let client: SecretsManagerClient;

  async function start(options: Omit<SecretsManagerServiceOptions, 'table' | 'now'> = {}): Promise<void> {
    served = await serveSecretsManager({ table: state.table('secrets'), now: () => clock, ...options });
    ({ client } = served);
  }

  const stop = () => served.stop();

  beforeEach(async () => {
    state = await startStateStore();
    clock = new Date('2030-01-01T00:00:00Z');
    await start();
  });
  afterEach(async () => {
    await stop();
    state.close();
  });

  describe('CreateSecret and GetSecretValue', () => {
    it('reads a secret by the partial ARN of any account, as a policy names a brokered secret, but not of another region', async () => {
      const created = await client.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: 'sk_local' }));

      const value = await client.send(
        new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key' }),
      );

      expect(value).toMatchObject({ ARN: created.ARN, Name: 'stripe-key', SecretString: 'sk_local' });
      await expect(
        client.send(new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:stripe-key' })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });

    it('creates a secret with an AWS-shaped ARN and reads its value by name, ARN and partial ARN', async () => {
      const created = await client.send(
        new CreateSecretCommand({
          Name: 'taskbound/bot/t1',
          SecretString: '{"status":"issued"}',
          Description: 'delivery',
          KmsKeyId: 'alias/taskbound',
        }),
      );
      expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:taskbound\/bot\/t1-[A-Za-z0-9]{6}$/);
      expect(created.VersionId).toMatch(/^[0-9a-f-]{36}$/);

      for (const SecretId of [
        'taskbound/bot/t1',
        created.ARN ?? '',
        'arn:aws:secretsmanager:us-east-1:000000000000:secret:taskbound/bot/t1',
      ]) {
        const value = await client.send(new GetSecretValueCommand({ SecretId }));
        expect(value).toMatchObject({
          ARN: created.ARN,
          Name: 'taskbound/bot/t1',
          SecretString: '{"status":"issued"}',
          VersionId: created.VersionId,
          VersionStages: ['AWSCURRENT'],
        });
        expect(value.CreatedDate).toEqual(clock);
      }
    });

    it('stores a binary secret and gives back the same bytes', async () => {
      await client.send(new CreateSecretCommand({ Name: 'binary', SecretBinary: new Uint8Array([0, 1, 254, 255]) }));
      const value = await client.send(new GetSecretValueCommand({ SecretId: 'binary' }));
      expect(value.SecretBinary).toEqual(new Uint8Array([0, 1, 254, 255]));
      expect(value.SecretString).toBeUndefined();
    });

    it('answers a retried CreateSecret with the same ClientRequestToken as the first', async () => {
      const token = 'a'.repeat(32);
      const first = await client.send(new CreateSecretCommand({ Name: 'retried', SecretString: 'v', ClientRequestToken: token }));
      const again = await client.send(new CreateSecretCommand({ Name: 'retried', SecretString: 'v', ClientRequestToken: token }));
      expect(again).toMatchObject({ ARN: first.ARN, VersionId: token });
    });

    it('refuses a second secret with the same name: ResourceExistsException', async () => {
      await client.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'v' }));
      await expect(client.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'w' }))).rejects.toMatchObject({
        name: 'ResourceExistsException',
        message: 'The operation failed because the secret taken already exists.',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('refuses a name AWS would refuse, and both a string and a binary value: InvalidParameterException', async () => {
      await expect(client.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'v' }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
      await expect(
        client.send(new CreateSecretCommand({ Name: 'both', SecretString: 'v', SecretBinary: new Uint8Array([1]) })),
      ).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    });

    it('answers ResourceNotFoundException, in AWS words, for a secret that does not exist', async () => {
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('answers ResourceNotFoundException for a secret created without a value', async () => {
      await client.send(new CreateSecretCommand({ Name: 'empty' }));
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'empty' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      });
    });
  });

  describe('PutSecretValue', () => {
    it('makes the new value AWSCURRENT and the old one AWSPREVIOUS, each readable by stage', async () => {
      const first = await client.send(new CreateSecretCommand({ Name: 'rolling', SecretString: 'one' }));
      const second = await client.send(new PutSecretValueCommand({ SecretId: 'rolling', SecretString: 'two' }));
      expect(second.VersionStages).toEqual(['AWSCURRENT']);

      expect((await client.send(new GetSecretValueCommand({ SecretId: 'rolling' }))).SecretString).toBe('two');
      const previous = await client.send(new GetSecretValueCommand({ SecretId: 'rolling', VersionStage: 'AWSPREVIOUS' }));
      expect(previous).toMatchObject({ SecretString: 'one', VersionId: first.VersionId, VersionStages: ['AWSPREVIOUS'] });
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'rolling' }));
      expect(described.VersionIdsToStages).toEqual({ [first.VersionId ?? '']: ['AWSPREVIOUS'], [second.VersionId ?? '']: ['AWSCURRENT'] });
    });

    it('ignores a retry with the same token and value, and refuses a token reused for another value', async () => {
      await client.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'one' }));
      const token = 'b'.repeat(32);
      await client.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'two', ClientRequestToken: token }));
      const retried = await client.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'two', ClientRequestToken: token }));
      expect(retried).toMatchObject({ VersionId: token, VersionStages: ['AWSCURRENT'] });
      await expect(
        client.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'three', ClientRequestToken: token })),
      ).rejects.toMatchObject({
        name: 'ResourceExistsException',
      });
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'idem', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('one');
    });

    it('refuses a request without a value: InvalidRequestException', async () => {
      await client.send(new CreateSecretCommand({ Name: 'novalue', SecretString: 'one' }));
      await expect(client.send(new PutSecretValueCommand({ SecretId: 'novalue' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });
    });
  });

  describe('DeleteSecret and RestoreSecret', () => {
    it('deletes at once with ForceDeleteWithoutRecovery, and the name can be used again', async () => {
      const created = await client.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'v' }));
      const deleted = await client.send(new DeleteSecretCommand({ SecretId: 'gone', ForceDeleteWithoutRecovery: true }));
      expect(deleted).toMatchObject({ ARN: created.ARN, Name: 'gone', DeletionDate: clock });
      await expect(client.send(new DescribeSecretCommand({ SecretId: 'gone' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      const recreated = await client.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'w' }));
      expect(recreated.ARN).not.toBe(created.ARN);
    });

    it('schedules deletion with a recovery window: reads fail, DescribeSecret shows DeletedDate, RestoreSecret undoes it', async () => {
      await client.send(new CreateSecretCommand({ Name: 'scheduled', SecretString: 'v' }));
      const deleted = await client.send(new DeleteSecretCommand({ SecretId: 'scheduled', RecoveryWindowInDays: 7 }));
      expect(deleted.DeletionDate).toEqual(new Date(clock.getTime() + 7 * DAY_MS));

      await expect(client.send(new GetSecretValueCommand({ SecretId: 'scheduled' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
        message: "You can't perform this operation on the secret because it was marked for deletion.",
      });
      expect((await client.send(new DescribeSecretCommand({ SecretId: 'scheduled' }))).DeletedDate).toEqual(clock);
      await expect(client.send(new DeleteSecretCommand({ SecretId: 'scheduled' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });
      await expect(client.send(new CreateSecretCommand({ Name: 'scheduled', SecretString: 'w' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });

      await client.send(new RestoreSecretCommand({ SecretId: 'scheduled' }));
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'scheduled' }))).SecretString).toBe('v');
      expect((await client.send(new DescribeSecretCommand({ SecretId: 'scheduled' }))).DeletedDate).toBeUndefined();
    });

    it('forgets a scheduled secret once its recovery window has passed', async () => {
      await client.send(new CreateSecretCommand({ Name: 'expiring', SecretString: 'v' }));
      await client.send(new DeleteSecretCommand({ SecretId: 'expiring', RecoveryWindowInDays: 7 }));
      clock = new Date(clock.getTime() + 7 * DAY_MS);
      await expect(client.send(new DescribeSecretCommand({ SecretId: 'expiring' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    });

    it('refuses contradictory or out-of-range deletion options: InvalidParameterException', async () => {
      await client.send(new CreateSecretCommand({ Name: 'kept', SecretString: 'v' }));
      await expect(
        client.send(new DeleteSecretCommand({ SecretId: 'kept', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
      ).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      });
      await expect(client.send(new DeleteSecretCommand({ SecretId: 'kept', RecoveryWindowInDays: 3 }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
      await expect(client.send(new DeleteSecretCommand({ SecretId: 'missing', ForceDeleteWithoutRecovery: true }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    });
  });

  describe('ListSecrets', () => {
    it('filters by name prefix and pages with MaxResults and NextToken, leaving out scheduled deletions', async () => {
      for (const name of ['taskbound/a/1', 'taskbound/a/2', 'taskbound/b/1', 'other']) {
        await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
        clock = new Date(clock.getTime() + 1000);
      }
      await client.send(new DeleteSecretCommand({ SecretId: 'taskbound/b/1' }));
      const filter = [{ Key: 'name' as const, Values: ['taskbound/'] }];

      const first = await client.send(new ListSecretsCommand({ Filters: filter, MaxResults: 1 }));
      const second = await client.send(new ListSecretsCommand({ Filters: filter, MaxResults: 1, NextToken: first.NextToken }));
      expect(first.SecretList?.map((secret) => secret.Name)).toEqual(['taskbound/a/1']);
      expect(second.SecretList?.map((secret) => secret.Name)).toEqual(['taskbound/a/2']);
      expect(second.NextToken).toBeUndefined();
      expect(Object.values(second.SecretList?.[0]?.SecretVersionsToStages ?? {})).toEqual([['AWSCURRENT']]);

      const withDeleted = await client.send(new ListSecretsCommand({ Filters: filter, IncludePlannedDeletion: true }));
      expect(withDeleted.SecretList?.map((secret) => secret.Name)).toEqual(['taskbound/a/1', 'taskbound/a/2', 'taskbound/b/1']);
      const negated = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['!taskbound/'] }] }));
      expect(negated.SecretList?.map((secret) => secret.Name)).toEqual(['other']);
    });

    it('refuses a forged NextToken: InvalidNextTokenException', async () => {
      await expect(client.send(new ListSecretsCommand({ NextToken: 'not-a-token' }))).rejects.toMatchObject({
        name: 'InvalidNextTokenException',
      });
    });
  });

  describe('BatchGetSecretValue', () => {
    it('reads named secrets in one call and lists each one it cannot read in Errors, with the code GetSecretValue answers', async () => {
      const created = await client.send(new CreateSecretCommand({ Name: 'taskbound/a/1', SecretString: 'one' }));
      await client.send(new CreateSecretCommand({ Name: 'taskbound/a/2', SecretString: 'two' }));
      await client.send(new CreateSecretCommand({ Name: 'taskbound/a/3', SecretString: 'three' }));
      await client.send(new DeleteSecretCommand({ SecretId: 'taskbound/a/3', RecoveryWindowInDays: 7 }));

      const batch = await client.send(
        new BatchGetSecretValueCommand({ SecretIdList: [created.ARN ?? '', 'taskbound/a/2', 'taskbound/a/3', 'taskbound/missing'] }),
      );

      expect(batch.SecretValues?.map(({ Name, SecretString, VersionStages }) => ({ Name, SecretString, VersionStages }))).toEqual([
        { Name: 'taskbound/a/1', SecretString: 'one', VersionStages: ['AWSCURRENT'] },
        { Name: 'taskbound/a/2', SecretString: 'two', VersionStages: ['AWSCURRENT'] },
      ]);
      expect(batch.SecretValues?.[0]).toMatchObject({ ARN: created.ARN, CreatedDate: clock });
      expect(batch.Errors?.map(({ SecretId, ErrorCode }) => ({ SecretId, ErrorCode }))).toEqual([
        { SecretId: 'taskbound/a/3', ErrorCode: 'InvalidRequestException' },
        { SecretId: 'taskbound/missing', ErrorCode: 'ResourceNotFoundException' },
      ]);
    });

    it('finds secrets by filters, 20 at most per page, and pages with NextToken', async () => {
      for (let index = 0; index < 22; index++)
        await client.send(new CreateSecretCommand({ Name: `taskbound/b/${index}`, SecretString: `${index}` }));
      await client.send(new CreateSecretCommand({ Name: 'other', SecretString: 'x' }));
      const Filters = [{ Key: 'name' as const, Values: ['taskbound/'] }];

      const first = await client.send(new BatchGetSecretValueCommand({ Filters }));
      const second = await client.send(new BatchGetSecretValueCommand({ Filters, NextToken: first.NextToken }));
      const small = await client.send(new BatchGetSecretValueCommand({ Filters, MaxResults: 3 }));

      expect(first.SecretValues).toHaveLength(20);
      const read = [...(first.SecretValues ?? []), ...(second.SecretValues ?? [])].map((secret) => Number(secret.SecretString));
      expect(read.sort((a, b) => a - b)).toEqual(Array.from({ length: 22 }, (_, index) => index));
      expect(second.NextToken).toBeUndefined();
      expect(small.SecretValues).toHaveLength(3);
      expect(small.NextToken).toBeDefined();
    });

    it('refuses both or neither of SecretIdList and Filters, MaxResults without Filters, and more than 20 ids', async () => {
      const refusal = (input: BatchGetSecretValueCommandInput) =>
        client.send(new BatchGetSecretValueCommand(input)).then(
          () => 'answered',
          (error: { name: string }) => error.name,
        );
      expect(await refusal({ SecretIdList: ['a'], Filters: [{ Key: 'name', Values: ['a'] }] })).toBe('InvalidParameterException');
      expect(await refusal({})).toBe('InvalidParameterException');
      expect(await refusal({ SecretIdList: ['a'], MaxResults: 5 })).toBe('InvalidParameterException');
      expect(await refusal({ SecretIdList: Array.from({ length: 21 }, (_, index) => `s-${index}`) })).toBe('ValidationException');
    });
  });

  describe('resource policies and tags', () => {
    it('stores, returns and deletes a resource policy', async () => {
      await client.send(new CreateSecretCommand({ Name: 'guarded', SecretString: 'v' }));
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111122223333:role/agent' },
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
          },
        ],
      });
      await client.send(new PutResourcePolicyCommand({ SecretId: 'guarded', ResourcePolicy: policy }));
      expect((await client.send(new GetResourcePolicyCommand({ SecretId: 'guarded' }))).ResourcePolicy).toBe(policy);
      await client.send(new DeleteResourcePolicyCommand({ SecretId: 'guarded' }));
      expect((await client.send(new GetResourcePolicyCommand({ SecretId: 'guarded' }))).ResourcePolicy).toBeUndefined();
      await expect(client.send(new PutResourcePolicyCommand({ SecretId: 'guarded', ResourcePolicy: '{not json' }))).rejects.toMatchObject({
        name: 'MalformedPolicyDocumentException',
      });
    });

    it('adds, overwrites and removes tags', async () => {
      await client.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'v', Tags: [{ Key: 'grantId', Value: 'g-1' }] }));
      await client.send(
        new TagResourceCommand({
          SecretId: 'tagged',
          Tags: [
            { Key: 'grantId', Value: 'g-2' },
            { Key: 'agentId', Value: 'bot' },
          ],
        }),
      );
      await client.send(new UntagResourceCommand({ SecretId: 'tagged', TagKeys: ['agentId'] }));
      expect((await client.send(new DescribeSecretCommand({ SecretId: 'tagged' }))).Tags).toEqual([{ Key: 'grantId', Value: 'g-2' }]);
      const byTag = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: ['g-2'] }] }));
      expect(byTag.SecretList?.map((secret) => secret.Name)).toEqual(['tagged']);
    });
  });

  describe('RotateSecret', () => {
    it('refuses rotation when no local rotation hook is registered: InvalidRequestException', async () => {
      await client.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: 'sk_old' }));
      await expect(client.send(new RotateSecretCommand({ SecretId: 'stripe-key' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'stripe-key' }))).SecretString).toBe('sk_old');
    });

    it('rotates through the hook: the new value is AWSCURRENT, the old one AWSPREVIOUS', async () => {
      await stop();
      const rotated: string[] = [];
      await start({
        onRotate: ({ name }) => {
          rotated.push(name);
          return 'sk_new';
        },
      });
      await client.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: 'sk_old' }));
      const result = await client.send(new RotateSecretCommand({ SecretId: 'stripe-key' }));

      expect(rotated).toEqual(['stripe-key']);
      expect(await client.send(new GetSecretValueCommand({ SecretId: 'stripe-key' }))).toMatchObject({
        SecretString: 'sk_new',
        VersionId: result.VersionId,
      });
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'stripe-key', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe(
        'sk_old',
      );
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'stripe-key' }));
      expect(described).toMatchObject({ RotationEnabled: true, LastRotatedDate: clock });
    });

    it('reports a failed rotation hook without repeating what it said, and keeps the old value', async () => {
      await stop();
      await start({
        onRotate: () => {
          throw new Error('could not store sk_live_new_value');
        },
      });
      await client.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: 'sk_old' }));
      const failure = await client.send(new RotateSecretCommand({ SecretId: 'stripe-key' })).catch((error: Error) => error);
      expect(failure).toMatchObject({ name: 'InvalidRequestException' });
      expect(String((failure as Error).message)).not.toContain('sk_live');
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'stripe-key' }))).SecretString).toBe('sk_old');
    });

    it('refuses a rotation while the previous one is still running', async () => {
      await stop();
      let finish: ((value: string) => void) | undefined;
      await start({ onRotate: () => new Promise<string>((resolve) => (finish = resolve)) });
      await client.send(new CreateSecretCommand({ Name: 'slow', SecretString: 'old' }));
      const first = client.send(new RotateSecretCommand({ SecretId: 'slow' }));
      await expect.poll(() => finish).toBeDefined();
      await expect(client.send(new RotateSecretCommand({ SecretId: 'slow' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
        message: "A previous rotation isn't complete. That rotation will be reattempted.",
      });
      finish?.('new');
      await first;
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'slow' }))).SecretString).toBe('new');
    });
  });

  describe('input validation', () => {
    it('refuses a request without a required member: ValidationException naming it', async () => {
      await expect(client.send(new GetSecretValueCommand({} as never))).rejects.toMatchObject({
        name: 'ValidationException',
        message: "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
      });
    });

    it('refuses a value over the API limit of 65,536 characters and stores nothing', async () => {
      await expect(client.send(new CreateSecretCommand({ Name: 'huge', SecretString: 'x'.repeat(65_537) }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("at 'secretString'"),
      });
      await expect(client.send(new DescribeSecretCommand({ SecretId: 'huge' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    });

    it('refuses a ListSecrets filter key the API does not define and a page size out of range', async () => {
      await expect(client.send(new ListSecretsCommand({ Filters: [{ Key: 'colour' as never, Values: ['red'] }] }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("at 'filters.1.member.key'"),
      });
      await expect(client.send(new ListSecretsCommand({ MaxResults: 101 }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("at 'maxResults'"),
      });
    });

    it('refuses tags with an empty key', async () => {
      await client.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'v' }));
      await expect(client.send(new TagResourceCommand({ SecretId: 'tagged', Tags: [{ Key: '', Value: 'v' }] }))).rejects.toMatchObject({
        name: 'ValidationException',
      });
    });
  });

  describe('durability', () => {
    it('restores secrets, versions, deletions and policies after a restart over the same data directory', async () => {
      const kept = await client.send(new CreateSecretCommand({ Name: 'kept', SecretString: 'one', Tags: [{ Key: 'k', Value: 'v' }] }));
      await client.send(new PutSecretValueCommand({ SecretId: 'kept', SecretString: 'two' }));
      await client.send(new PutResourcePolicyCommand({ SecretId: 'kept', ResourcePolicy: '{}' }));
      await client.send(new CreateSecretCommand({ Name: 'purged', SecretString: 'x' }));
      await client.send(new DeleteSecretCommand({ SecretId: 'purged', ForceDeleteWithoutRecovery: true }));
      await client.send(new CreateSecretCommand({ Name: 'scheduled', SecretString: 'y' }));
      await client.send(new DeleteSecretCommand({ SecretId: 'scheduled', RecoveryWindowInDays: 30 }));

      await stop();
      await start();

      expect(await client.send(new GetSecretValueCommand({ SecretId: kept.ARN }))).toMatchObject({ SecretString: 'two' });
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'kept', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('one');
      expect((await client.send(new GetResourcePolicyCommand({ SecretId: 'kept' }))).ResourcePolicy).toBe('{}');
      expect((await client.send(new DescribeSecretCommand({ SecretId: 'kept' }))).Tags).toEqual([{ Key: 'k', Value: 'v' }]);
      await expect(client.send(new DescribeSecretCommand({ SecretId: 'purged' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      expect((await client.send(new DescribeSecretCommand({ SecretId: 'scheduled' }))).DeletedDate).toEqual(clock);
    });

    it('keeps each secret as one item of its own table in the embedded store', async () => {
      const created = await client.send(new CreateSecretCommand({ Name: 'stored', SecretString: 'v' }));
      const items = await state.items('secrets');
      expect(items).toEqual([{ name: 'stored', arn: created.ARN, record: expect.stringContaining('"secretString":"v"') }]);
    });
  });
});
