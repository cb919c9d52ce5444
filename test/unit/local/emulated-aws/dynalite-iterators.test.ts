import { createRequire } from 'node:module';
import { queryObjects } from 'node:v8';
import { DeleteTableCommand, DynamoDBClient, ListTablesCommand, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createPkTable } from '../../../helpers/pk-table';

/** abstract-level's iterator classes, as the store's LevelDB (through dynalite) uses them. */
const abstractLevel = createRequire(createRequire(import.meta.url).resolve('dynalite'))('abstract-level') as {
  AbstractValueIterator: new () => object;
  AbstractKeyIterator: new () => object;
};

/** Iterators still reachable after a full collection: the open ones, which the database keeps. */
const liveIterators = () =>
  (queryObjects(abstractLevel.AbstractValueIterator, { format: 'count' }) as number) +
  (queryObjects(abstractLevel.AbstractKeyIterator, { format: 'count' }) as number);

describe('the embedded store’s LevelDB iterators', () => {
  let store: EmbeddedStore;
  let client: DynamoDBClient;

  beforeEach(async () => {
    store = await startEmbeddedStore();
    client = new DynamoDBClient(localClientConfig(store.endpoint));
    await createPkTable(client, 'items');
    for (let item = 0; item < 5; item++) await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: `item-${item}` } } }));
  });
  afterEach(async () => {
    client.destroy();
    await store.close();
  });

  it('are closed when a Scan stops at its Limit', async () => {
    const before = liveIterators();

    for (let scan = 0; scan < 40; scan++) {
      const { Items } = await client.send(new ScanCommand({ TableName: 'items', Limit: 2 }));
      expect(Items).toHaveLength(2);
    }

    expect(liveIterators() - before).toBeLessThan(5);
  });

  it('are closed when a Query or a Scan reads to the end', async () => {
    const before = liveIterators();

    for (let read = 0; read < 20; read++) {
      await client.send(
        new QueryCommand({ TableName: 'items', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'item-1' } } }),
      );
      await client.send(new ScanCommand({ TableName: 'items' }));
    }

    expect(liveIterators() - before).toBeLessThan(5);
  });

  it('are closed when tables are listed or a table and its items are deleted', async () => {
    const before = liveIterators();

    for (let list = 0; list < 20; list++) expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['items']);
    await client.send(new DeleteTableCommand({ TableName: 'items' }));
    await expect.poll(async () => (await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);

    expect(liveIterators() - before).toBeLessThan(5);
  });
});
