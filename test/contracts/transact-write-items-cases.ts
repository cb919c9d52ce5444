// Test contract: TransactWriteItems as DynamoDB answers it, one set of cases run against the embedded
// store in `npm test` (transact-write-items.test.ts) and against moto, the independent emulator, in
// `npm run test:aws` (test/aws/transact-write-items.test.ts). A difference between the two is a bug
// in the embedded store's transactions (lambdas/local/emulated-aws/dynalite-transactions.ts).
import {
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';

export interface TransactionWorld {
  readonly client: DynamoDBClient;
  /** A table name no other test of the run uses. */
  readonly tableName: string;
}

const INDEX = 'by-owner';
const key = (id: string): Record<string, AttributeValue> => ({ pk: { S: id }, sk: { S: 'item' } });

async function createTable({ client, tableName }: TransactionWorld): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'owner', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        { IndexName: INDEX, KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
      ],
    }),
  );
}

/** Registers the cases; `makeWorld` gives each test a client and a table name of its own. */
export function transactWriteItemsCases(name: string, makeWorld: () => Promise<TransactionWorld>): void {
  describe(`TransactWriteItems on ${name}`, () => {
    let world: TransactionWorld;
    beforeEach(async () => {
      world = await makeWorld();
      await createTable(world);
    });

    const put = (id: string, fields: Record<string, AttributeValue> = {}) =>
      world.client.send(new PutItemCommand({ TableName: world.tableName, Item: { ...key(id), ...fields } }));
    const read = async (id: string) =>
      (await world.client.send(new GetItemCommand({ TableName: world.tableName, Key: key(id), ConsistentRead: true }))).Item;
    const transact = (items: TransactWriteItem[]) => world.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
    const refusal = async (items: TransactWriteItem[]) => {
      const error = await transact(items).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      if (!(error instanceof Error)) throw new Error('the transaction was not refused');
      return error;
    };
    const owned = async (owner: string) =>
      (
        await world.client.send(
          new QueryCommand({
            TableName: world.tableName,
            IndexName: INDEX,
            KeyConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': { S: owner } },
          }),
        )
      ).Items?.map((item) => item.pk?.S);

    it('applies a Put, an Update, a Delete and a ConditionCheck together when every condition holds', async () => {
      await put('counter', { count: { N: '1' } });
      await put('doomed');
      await put('standing', { suspended: { BOOL: false } });

      await transact([
        {
          Put: {
            TableName: world.tableName,
            Item: { ...key('new'), owner: { S: 'ann' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: world.tableName,
            Key: key('counter'),
            UpdateExpression: 'SET #count = #count + :one, #tag = if_not_exists(#tag, :tag)',
            ConditionExpression: '#count < :max',
            ExpressionAttributeNames: { '#count': 'count', '#tag': 'tag' },
            ExpressionAttributeValues: { ':one': { N: '1' }, ':max': { N: '5' }, ':tag': { S: 'first' } },
          },
        },
        { Delete: { TableName: world.tableName, Key: key('doomed'), ConditionExpression: 'attribute_exists(pk)' } },
        {
          ConditionCheck: {
            TableName: world.tableName,
            Key: key('standing'),
            ConditionExpression: 'attribute_not_exists(suspended) OR suspended = :false',
            ExpressionAttributeValues: { ':false': { BOOL: false } },
          },
        },
      ]);

      expect(await read('new')).toEqual({ ...key('new'), owner: { S: 'ann' } });
      expect(await read('counter')).toEqual({ ...key('counter'), count: { N: '2' }, tag: { S: 'first' } });
      expect(await read('doomed')).toBeUndefined();
      expect(await read('standing')).toEqual({ ...key('standing'), suspended: { BOOL: false } });
      expect(await owned('ann')).toEqual(['new']);
    });

    it('passes a ConditionCheck of an item that does not exist when its condition allows absence', async () => {
      await transact([
        { ConditionCheck: { TableName: world.tableName, Key: key('nobody'), ConditionExpression: 'attribute_not_exists(suspended)' } },
        { Put: { TableName: world.tableName, Item: key('written') } },
      ]);
      expect(await read('written')).toEqual(key('written'));
      expect(await read('nobody')).toBeUndefined();
    });

    it('writes nothing when one condition fails, and says which one, in item order', async () => {
      await put('taken', { holder: { S: 'someone-else' } });
      await put('kept', { owner: { S: 'bob' } });

      const error = await refusal([
        { Put: { TableName: world.tableName, Item: { ...key('fresh'), owner: { S: 'bob' } } } },
        {
          Put: {
            TableName: world.tableName,
            Item: { ...key('taken'), holder: { S: 'me' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        { Delete: { TableName: world.tableName, Key: key('kept') } },
      ]);

      expect(error).toBeInstanceOf(TransactionCanceledException);
      expect((error as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code)).toEqual([
        'None',
        'ConditionalCheckFailed',
        'None',
      ]);
      expect((error as TransactionCanceledException).CancellationReasons?.[1]?.Item).toBeUndefined();
      expect(await read('fresh')).toBeUndefined();
      expect(await read('taken')).toEqual({ ...key('taken'), holder: { S: 'someone-else' } });
      expect(await read('kept')).toEqual({ ...key('kept'), owner: { S: 'bob' } });
      expect(await owned('bob')).toEqual(['kept']);
    });

    it('returns the item a failed condition ran into when asked for ALL_OLD, and reports every failure', async () => {
      await put('standing', { suspended: { BOOL: true } });
      await put('grant', { version: { N: '3' } });

      const error = (await refusal([
        {
          ConditionCheck: {
            TableName: world.tableName,
            Key: key('standing'),
            ConditionExpression: 'attribute_not_exists(suspended) OR suspended = :false',
            ExpressionAttributeValues: { ':false': { BOOL: false } },
          },
        },
        {
          Put: {
            TableName: world.tableName,
            Item: { ...key('grant'), version: { N: '2' } },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ])) as TransactionCanceledException;

      expect(error.name).toBe('TransactionCanceledException');
      expect(error.CancellationReasons?.[0]).toMatchObject({ Code: 'ConditionalCheckFailed' });
      expect(error.CancellationReasons?.[0]?.Item).toBeUndefined();
      expect(error.CancellationReasons?.[1]).toMatchObject({
        Code: 'ConditionalCheckFailed',
        Item: { ...key('grant'), version: { N: '3' } },
      });
      expect(error.message).toContain('[ConditionalCheckFailed, ConditionalCheckFailed]');
    });

    it('refuses two operations on one item as invalid, writing nothing', async () => {
      const error = await refusal([
        { Put: { TableName: world.tableName, Item: key('twice') } },
        { ConditionCheck: { TableName: world.tableName, Key: key('twice'), ConditionExpression: 'attribute_not_exists(pk)' } },
      ]);
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain('multiple operations on one item');
      expect(await read('twice')).toBeUndefined();
    });

    it('refuses more than 100 operations as invalid, writing nothing', async () => {
      const items = Array.from({ length: 101 }, (_, index) => ({ Put: { TableName: world.tableName, Item: key(`many-${index}`) } }));
      const error = await refusal(items);
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain('less than or equal to 100');
      expect(await read('many-0')).toBeUndefined();
    });

    it('moves an item between index entries with the transaction, and back on nothing when cancelled', async () => {
      await put('moving', { owner: { S: 'carol' } });
      await transact([{ Put: { TableName: world.tableName, Item: { ...key('moving'), owner: { S: 'dave' } } } }]);
      expect(await owned('carol')).toEqual([]);
      expect(await owned('dave')).toEqual(['moving']);

      await refusal([
        { Put: { TableName: world.tableName, Item: { ...key('moving'), owner: { S: 'erin' } } } },
        { ConditionCheck: { TableName: world.tableName, Key: key('absent'), ConditionExpression: 'attribute_exists(pk)' } },
      ]);
      expect(await owned('erin')).toEqual([]);
      expect(await owned('dave')).toEqual(['moving']);
    });
  });
}
