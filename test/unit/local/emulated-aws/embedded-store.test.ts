import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { createSecretsManagerService } from '../../../../lambdas/local/emulated-aws/secrets-manager-service';
import { openStateTables } from '../../../../lambdas/local/emulated-aws/state-tables';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createPkTable } from '../../../helpers/pk-table';

const clientFor = (endpoint: string) => new DynamoDBClient(localClientConfig(endpoint));

/** Runs the fixture until it reports its writes, then kills it with SIGKILL. */
function writeThenKill(dataDir: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'write-then-hang.ts'), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`fixture exited with ${code}`))));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('written')) child.kill('SIGKILL');
    });
  });
}

describe('embedded store', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-store-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it.each([
    { where: 'in the caller’s thread', ownThread: false },
    { where: 'in a thread of its own', ownThread: true },
  ])('keeps tables and items across close and reopen over the same data directory, $where', async ({ ownThread }) => {
    const first = await startEmbeddedStore({ dataDir, ownThread });
    const writer = clientFor(first.endpoint);
    await createPkTable(writer, 'grants');
    await writer.send(new PutItemCommand({ TableName: 'grants', Item: { pk: { S: 'GRANT#1' }, state: { S: 'active' } } }));
    writer.destroy();
    await first.close();

    const second = await startEmbeddedStore({ dataDir, ownThread });
    const reader = clientFor(second.endpoint);
    const { Item } = await reader.send(new GetItemCommand({ TableName: 'grants', Key: { pk: { S: 'GRANT#1' } } }));
    reader.destroy();
    await second.close();

    expect(Item).toEqual({ pk: { S: 'GRANT#1' }, state: { S: 'active' } });
  });

  it('keeps nothing when it has no data directory', async () => {
    const first = await startEmbeddedStore();
    const writer = clientFor(first.endpoint);
    await createPkTable(writer, 'grants');
    writer.destroy();
    await first.close();

    const second = await startEmbeddedStore();
    const reader = clientFor(second.endpoint);
    await expect(reader.send(new GetItemCommand({ TableName: 'grants', Key: { pk: { S: 'x' } } }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    reader.destroy();
    await second.close();
  });

  it('keeps acknowledged writes, the emulated services’ included, when the process is killed with SIGKILL', async () => {
    await writeThenKill(dataDir);

    const store = await startEmbeddedStore({ dataDir });
    const reader = clientFor(store.endpoint);
    const { Item } = await reader.send(new GetItemCommand({ TableName: 'crash', Key: { pk: { S: 'survivor' } } }));
    reader.destroy();
    const state = await openStateTables(store.endpoint);
    const secrets = await createSecretsManagerService({ table: state.table('secrets') });
    const described = await secrets.handle({
      method: 'POST',
      path: '/',
      query: new URLSearchParams(),
      headers: {},
      target: 'secretsmanager.GetSecretValue',
      body: Buffer.from(JSON.stringify({ SecretId: 'survivor' })),
    });
    state.close();
    await store.close();

    expect(Item).toEqual({ pk: { S: 'survivor' } });
    expect(JSON.parse(String(described.body))).toMatchObject({ Name: 'survivor', SecretString: 'kept' });
  });

  it.each([false, true])('refuses a data directory another store has open, saying why (own thread: %s)', async (ownThread) => {
    const holder = await startEmbeddedStore({ dataDir });

    const second = startEmbeddedStore({ dataDir, ownThread });

    await expect(second).rejects.toThrow(/is another Taskbound engine using this data directory\?/);
    await holder.close();
  });

  it('keeps its files readable only by their owner', async () => {
    const store = await startEmbeddedStore({ dataDir });
    await store.close();
    expect((await stat(join(dataDir, 'dynamodb'))).mode & 0o077).toBe(0);
  });
});
