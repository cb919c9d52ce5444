import { createRequire } from 'node:module';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createPkTable } from '../../../helpers/pk-table';

/** The LevelDB reads of table descriptions (keys `table~<name>`) the store makes, counted on abstract-level's `get`. */
function countTableReads(): { readonly count: () => number; readonly stop: () => void } {
  const abstractLevel = createRequire(createRequire(import.meta.url).resolve('dynalite'))('abstract-level') as {
    AbstractLevel: { prototype: { get: (key: unknown, ...rest: unknown[]) => unknown } };
  };
  const prototype = abstractLevel.AbstractLevel.prototype;
  const get = prototype.get;
  let reads = 0;
  prototype.get = function (this: unknown, key: unknown, ...rest: unknown[]) {
    if (typeof key === 'string' && key.startsWith('table~')) reads++;
    return get.call(this, key, ...rest);
  };
  return { count: () => reads, stop: () => void (prototype.get = get) };
}

describe('the embedded store’s table descriptions', () => {
  let store: EmbeddedStore;
  let client: DynamoDBClient;

  beforeEach(async () => {
    store = await startEmbeddedStore();
    client = new DynamoDBClient(localClientConfig(store.endpoint));
    await createPkTable(client, 'items');
  });
  afterEach(async () => {
    client.destroy();
    await store.close();
  });

  it('are read from LevelDB once or twice, not before every item operation', async () => {
    // Counted from the store's creation: dynalite binds LevelDB's methods when it opens it.
    const reads = countTableReads();
    const counted = await startEmbeddedStore();
    const countedClient = new DynamoDBClient(localClientConfig(counted.endpoint));
    try {
      await createPkTable(countedClient, 'counted');
      const before = reads.count();
      for (let item = 0; item < 10; item++) {
        await countedClient.send(new PutItemCommand({ TableName: 'counted', Item: { pk: { S: `item-${item}` } } }));
        await countedClient.send(new GetItemCommand({ TableName: 'counted', Key: { pk: { S: `item-${item}` } } }));
      }
      expect(before).toBeGreaterThan(0);
      expect(reads.count() - before).toBeLessThanOrEqual(2);
    } finally {
      reads.stop();
      countedClient.destroy();
      await counted.close();
    }
  });

  it('follow DeleteTable and CreateTable: a deleted table is not found, and one created again under the name has its own key', async () => {
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'a' } } }));
    await client.send(new DeleteTableCommand({ TableName: 'items' }));

    await expect(client.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' } } }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });

    await client.send(
      new CreateTableCommand({
        TableName: 'items',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await expect(client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'a' } } }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await client.send(new PutItemCommand({ TableName: 'items', Item: { id: { S: 'a' } } }));
    expect((await client.send(new GetItemCommand({ TableName: 'items', Key: { id: { S: 'a' } } }))).Item).toEqual({ id: { S: 'a' } });
  });
});
