// What the embedded store's transactions promise beyond the shared cases (test/contracts/transact-write-items-cases.ts),
// which moto cannot show: isolation from concurrent writes of the same items, one LevelDB batch per transaction, and
// so nothing half-written across kill -9.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DynamoDBClient,
  GetItemCommand,
  paginateScan,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createPkTable } from '../../../helpers/pk-table';

type Level = Record<'put' | 'del' | 'batch', (...args: unknown[]) => unknown>;
const dynaliteDb = createRequire(createRequire(import.meta.url).resolve('dynalite'))('./db') as {
  create: (options?: object) => { db: Level };
};

const TABLE = 'items';
const key = (pk: string): Record<string, AttributeValue> => ({ pk: { S: pk } });
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => 'written' as const,
    (error: Error) => error.name,
  );

describe('the embedded store’s TransactWriteItems', () => {
  let store: EmbeddedStore;
  let client: DynamoDBClient;
  let level: Level;

  beforeEach(async () => {
    // Catches the LevelDB handle dynalite builds, to watch how a transaction writes to it.
    const create = dynaliteDb.create;
    dynaliteDb.create = (options) => {
      const built = create(options);
      level = built.db;
      return built;
    };
    try {
      store = await startEmbeddedStore();
    } finally {
      dynaliteDb.create = create;
    }
    client = new DynamoDBClient({ ...localClientConfig(store.endpoint), maxAttempts: 1 });
    await createPkTable(client, TABLE);
  });
  afterEach(async () => {
    client.destroy();
    await store.close();
  });

  const read = async (pk: string) => (await client.send(new GetItemCommand({ TableName: TABLE, Key: key(pk), ConsistentRead: true }))).Item;

  it('lets exactly one of many simultaneous transactions take the same free slot', async () => {
    const attempts = Array.from({ length: 25 }, (_, index) =>
      outcome(
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: TABLE,
                  Item: { ...key('slot-0'), holder: { S: `grant-${index}` } },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              { Put: { TableName: TABLE, Item: key(`grant-${index}`), ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        ),
      ),
    );

    const outcomes = await Promise.all(attempts);

    expect(outcomes.filter((result) => result === 'written')).toHaveLength(1);
    expect(outcomes.filter((result) => result === 'TransactionCanceledException')).toHaveLength(24);
    const holder = (await read('slot-0'))?.holder?.S;
    const grants = await Promise.all(outcomes.map((_, index) => read(`grant-${index}`)));
    expect(grants.filter(Boolean)).toEqual([key(holder ?? 'none')]);
  });

  it('refuses, as AWS does, another transaction and a single write naming an item of a transaction in flight', async () => {
    // The first transaction is held at its LevelDB batch, after it has taken its items.
    let reached!: () => void;
    const atBatch = new Promise<void>((resolve) => (reached = resolve));
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    const batch = level.batch;
    level.batch = (...args: unknown[]) => {
      reached();
      void gate.then(() => batch(...args));
    };
    const first = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: TABLE, Item: key('held') } }, { Put: { TableName: TABLE, Item: key('also-held') } }],
      }),
    );
    await atBatch;

    const second = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: TABLE, Item: key('free') } }, { Delete: { TableName: TABLE, Key: key('held') } }],
        }),
      )
      .catch((error: { name: string; CancellationReasons?: { Code?: string }[] }) => error);
    const single = await outcome(
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key('also-held'),
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': { N: '1' } },
        }),
      ),
    );
    const elsewhere = await outcome(
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key('free'),
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': { N: '1' } },
        }),
      ),
    );
    letGo();

    expect(await outcome(first)).toBe('written');
    expect(second).toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
    });
    expect(single).toBe('TransactionConflictException');
    expect(elsewhere).toBe('written');
    expect(await read('held')).toEqual(key('held'));
    expect(await read('free')).toEqual({ ...key('free'), n: { N: '1' } });
  });

  it('loses none of the single-item updates made to its items while it runs', async () => {
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key('counter'),
        UpdateExpression: 'SET n = :zero',
        ExpressionAttributeValues: { ':zero': { N: '0' } },
      }),
    );
    const increment = {
      TableName: TABLE,
      Key: key('counter'),
      UpdateExpression: 'SET n = n + :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
    };

    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        outcome(
          index % 2 === 0
            ? client.send(new UpdateItemCommand(increment))
            : client.send(
                new TransactWriteItemsCommand({
                  TransactItems: [{ Update: increment }, { Put: { TableName: TABLE, Item: key(`side-${index}`) } }],
                }),
              ),
        ),
      ),
    );

    // What a conflict refused wrote nothing (AWS: TransactionConflict); every write that answered counted once.
    const written = outcomes.filter((result) => result === 'written').length;
    expect(outcomes.filter((result) => result !== 'written').every((name) => /^Transaction(Canceled|Conflict)Exception$/.test(name))).toBe(
      true,
    );
    expect((await read('counter'))?.n).toEqual({ N: String(written) });
  });

  it('writes an item and its index entries in one LevelDB batch, and writes nothing when cancelled', async () => {
    const writes: string[] = [];
    for (const method of ['put', 'del', 'batch'] as const) {
      const original = level[method];
      level[method] = (...args: unknown[]) => {
        // Items and index entries only: dynalite marks a new table ACTIVE with a write of its own, a moment after creating it.
        if (method === 'batch' || /^(item|index)-/.test(String(args[0]))) writes.push(method);
        return original(...args);
      };
    }

    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: key('a') } },
          { Put: { TableName: TABLE, Item: key('b') } },
          { Delete: { TableName: TABLE, Key: key('c') } },
        ],
      }),
    );
    expect(writes).toEqual(['batch']);

    writes.length = 0;
    const refused = await outcome(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: key('d') } },
            { ConditionCheck: { TableName: TABLE, Key: key('a'), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      ),
    );
    expect(refused).toBe('TransactionCanceledException');
    expect(writes).toEqual([]);
    expect(await read('d')).toBeUndefined();
  });
});

/** Runs the fixture until the store has acknowledged `count` transactions, then kills it with SIGKILL; resolves with those acknowledged. */
function transactThenKill(dataDir: string, count: number): Promise<Set<number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'transact-until-killed.ts'), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const acknowledged = new Set<number>();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(acknowledged) : reject(new Error(`fixture exited with ${code}`))));
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('acknowledged ')) acknowledged.add(Number(line.slice('acknowledged '.length)));
      if (acknowledged.size >= count) child.kill('SIGKILL');
    });
  });
}

describe('the embedded store’s TransactWriteItems across kill -9', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-transactions-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('leaves every transaction whole or absent, and every acknowledged one whole', { timeout: 60_000 }, async () => {
    const acknowledged = await transactThenKill(dataDir, 150);

    const store = await startEmbeddedStore({ dataDir });
    const reader = new DynamoDBClient(localClientConfig(store.endpoint));
    const parts = new Map<number, number>();
    for await (const page of paginateScan({ client: reader }, { TableName: 'transactions' }))
      for (const item of page.Items ?? []) parts.set(Number(item.number?.N), (parts.get(Number(item.number?.N)) ?? 0) + 1);
    reader.destroy();
    await store.close();

    expect([...parts.values()].filter((count) => count !== 3)).toEqual([]);
    expect([...acknowledged].filter((number) => parts.get(number) !== 3)).toEqual([]);
    expect(parts.size).toBeGreaterThanOrEqual(acknowledged.size);
  });
});
