import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRET_COLD_AFTER_MS, type SecretsManagerService } from '../../../../lambdas/local/emulated-aws/secrets-manager-service';
import { serveSecretsManager, type ServedSecretsManager } from './secrets-manager-fixture';
import { startStateStore, type StateStore } from './state-store';

const DENIED = 200;

describe('secrets manager service, memory bounded by the secrets in use', () => {
  let state: StateStore;
  let nowMs: number;
  let service: SecretsManagerService;
  let served: ServedSecretsManager;
  let client: SecretsManagerClient;
  /** The names the service read from its table, one by one (a cold secret asked for). */
  let reads: string[];

  async function start(): Promise<void> {
    const table = state.table('secrets');
    const counted = {
      send: (command: unknown) => {
        if (command instanceof GetItemCommand) reads.push(String(command.input.Key?.name?.S));
        return table.client.send(command as never);
      },
    } as unknown as typeof table.client;
    served = await serveSecretsManager({ table: { ...table, client: counted }, now: () => new Date(nowMs) });
    ({ service, client } = served);
  }

  const stop = () => served.stop();

  /** A denied delivery: written, read once by its runtime, then left for its hour. */
  async function denied(n: number): Promise<string> {
    const created = await client.send(
      new CreateSecretCommand({ Name: `taskbound/bot/denied-${n}`, Tags: [{ Key: 'n', Value: String(n) }] }),
    );
    await client.send(new PutSecretValueCommand({ SecretId: `taskbound/bot/denied-${n}`, SecretString: `{"status":"denied","n":${n}}` }));
    await client.send(new GetSecretValueCommand({ SecretId: `taskbound/bot/denied-${n}` }));
    return created.ARN ?? '';
  }

  beforeEach(async () => {
    state = await startStateStore();
    nowMs = Date.parse('2030-01-01T00:00:00Z');
    reads = [];
    await start();
  });
  afterEach(async () => {
    await stop();
    state.close();
  });

  it('lets secrets unused for a while leave memory, however many were written', async () => {
    for (let n = 0; n < DENIED; n++) {
      await denied(n);
      nowMs += 1_000;
    }

    // One written a second: those of the last SECRET_COLD_AFTER_MS are in memory, give or take the second the cool-down waits.
    expect(service.secretsInMemory).toBeLessThanOrEqual(SECRET_COLD_AFTER_MS / 1_000 + 2);
    // A new name, and a read of one that does not exist, cost no read of the table.
    expect(reads).toEqual([]);
  });

  it('answers a cold secret from the table as it did from memory: by name, ARN and partial ARN, described, listed, deleted', async () => {
    const arn = await denied(1);
    await client.send(new CreateSecretCommand({ Name: 'hot', SecretString: 'in use' }));
    for (const step of [0.7, 0.7]) {
      nowMs += step * SECRET_COLD_AFTER_MS;
      await client.send(new GetSecretValueCommand({ SecretId: 'hot' }));
    }
    expect(service.secretsInMemory).toBe(1);

    const listed = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['taskbound/'] }] }));
    expect(listed.SecretList?.map(({ Name, Tags }) => ({ Name, Tags }))).toEqual([
      { Name: 'taskbound/bot/denied-1', Tags: [{ Key: 'n', Value: '1' }] },
    ]);
    expect(service.secretsInMemory).toBe(1); // listing reads the table, and keeps nothing
    for (const SecretId of [arn, 'arn:aws:secretsmanager:us-east-1:000000000000:secret:taskbound/bot/denied-1', 'taskbound/bot/denied-1'])
      expect(await client.send(new GetSecretValueCommand({ SecretId }))).toMatchObject({
        ARN: arn,
        SecretString: '{"status":"denied","n":1}',
      });
    expect(reads).toEqual(['taskbound/bot/denied-1']); // read once, then in use again
    await expect(client.send(new CreateSecretCommand({ Name: 'taskbound/bot/denied-1' }))).rejects.toMatchObject({
      name: 'ResourceExistsException',
    });

    nowMs += SECRET_COLD_AFTER_MS + 1_000;
    await client.send(new DeleteSecretCommand({ SecretId: 'taskbound/bot/denied-1', ForceDeleteWithoutRecovery: true }));
    await expect(client.send(new DescribeSecretCommand({ SecretId: arn }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await client.send(new ListSecretsCommand({}))).SecretList?.map(({ Name }) => Name)).toEqual(['hot']);
    await client.send(new CreateSecretCommand({ Name: 'taskbound/bot/denied-1', SecretString: 'again' }));
  });

  it('reads every secret from the table after a restart, and keeps none in memory until one is asked for', async () => {
    const arn = await denied(2);
    await client.send(new CreateSecretCommand({ Name: 'scheduled', SecretString: 'y' }));
    await client.send(new DeleteSecretCommand({ SecretId: 'scheduled', RecoveryWindowInDays: 7 }));
    await stop();
    await start();

    expect(service.secretsInMemory).toBe(0);
    expect(await client.send(new GetSecretValueCommand({ SecretId: arn }))).toMatchObject({ SecretString: '{"status":"denied","n":2}' });
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'scheduled' }))).DeletedDate).toEqual(new Date(nowMs));
    nowMs += 8 * 86_400_000;
    expect((await client.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList?.map(({ Name }) => Name)).toEqual([
      'taskbound/bot/denied-2',
    ]);
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'scheduled' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('secrets manager service, writes to its table', () => {
  it('stores its changes as batch writes, the changes made at once sharing one, each answered only once it is stored', async () => {
    const state = await startStateStore();
    const table = state.table('secrets');
    const requests: string[] = [];
    const counted = {
      put: async () => void requests.push('put'),
      delete: async () => void requests.push('delete'),
      batch: (writes: Parameters<typeof table.writes.batch>[0]) => (requests.push(`batch of ${writes.length}`), table.writes.batch(writes)),
    };
    const served = await serveSecretsManager({ table: { ...table, writes: counted } });
    const { client } = served;
    try {
      const names = Array.from({ length: 40 }, (_, index) => `taskbound/bot/batched-${index}`);

      await Promise.all(names.map((name) => client.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}` }))));
      const storedAfterCreates = (await state.items('secrets')).length;
      await Promise.all(
        names.slice(0, 20).map((name) => client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }))),
      );

      expect(storedAfterCreates).toBe(40);
      expect((await state.items('secrets')).map((item) => item.name).sort()).toEqual(names.slice(20).sort());
      expect(requests.filter((request) => request === 'put' || request === 'delete')).toEqual([]);
      // All 60 changes went as batch writes: those made in one turn of the event loop share one (the 20 deletes, here).
      const batched = requests.map((request) => Number(request.replace('batch of ', '')));
      expect(batched.reduce((sum, writes) => sum + writes, 0)).toBe(60);
      expect(batched.length).toBeLessThan(60);
    } finally {
      await served.stop();
      state.close();
    }
  });
});
