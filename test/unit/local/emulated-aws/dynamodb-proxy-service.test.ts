import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { createDynamoDbProxyService } from '../../../../lambdas/local/emulated-aws/dynamodb-proxy-service';
import { startEmbeddedStore, type EmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { openStateTables, STATE_TABLES } from '../../../../lambdas/local/emulated-aws/state-tables';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { createPkTable } from '../../../helpers/pk-table';

describe('dynamodb proxy service', () => {
  let store: EmbeddedStore;
  let server: RunningServer;
  let client: DynamoDBClient;

  beforeEach(async () => {
    store = await startEmbeddedStore();
    server = await startAwsProtocolServer({ services: [createDynamoDbProxyService(store.endpoint)] });
    client = new DynamoDBClient(localClientConfig(server.url));
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
    await store.close();
  });

  it('creates a table, writes and reads an item through the one local endpoint', async () => {
    await client.send(
      new CreateTableCommand({
        TableName: 'grants',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: 'grants',
        Item: { pk: { S: 'GRANT#g-1' }, sk: { S: 'GRANT' }, state: { S: 'active' }, version: { N: '3' } },
      }),
    );

    const { Item } = await client.send(new GetItemCommand({ TableName: 'grants', Key: { pk: { S: 'GRANT#g-1' }, sk: { S: 'GRANT' } } }));
    expect(Item).toEqual({ pk: { S: 'GRANT#g-1' }, sk: { S: 'GRANT' }, state: { S: 'active' }, version: { N: '3' } });
  });

  it('relays the store errors the SDK maps, such as a failed condition', async () => {
    await createPkTable(client, 'grants');
    const put = () =>
      client.send(new PutItemCommand({ TableName: 'grants', Item: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(client.send(new GetItemCommand({ TableName: 'missing', Key: { pk: { S: 'a' } } }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('hides the emulated services’ own tables: not listed, not found, not in a batch or a statement', async () => {
    const state = await openStateTables(store.endpoint);
    await createPkTable(client, 'grants');
    const hidden = STATE_TABLES.secrets.name;

    const { TableNames } = await client.send(new ListTablesCommand({}));
    const scan = client.send(new ScanCommand({ TableName: hidden }));
    const batch = client.send(new BatchGetItemCommand({ RequestItems: { [hidden]: { Keys: [{ name: { S: 'x' } }] } } }));
    const statement = client.send(new ExecuteStatementCommand({ Statement: `SELECT * FROM "${hidden}"` }));
    state.close();

    expect(TableNames).toEqual(['grants']);
    await expect(scan).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(batch).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(statement).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('answers InternalServerError when the store is gone', async () => {
    await store.close();
    store = { endpoint: store.endpoint, close: async () => undefined };
    const offline = new DynamoDBClient({ ...localClientConfig(server.url), maxAttempts: 1 });
    await expect(offline.send(new GetItemCommand({ TableName: 'grants', Key: { pk: { S: 'a' } } }))).rejects.toMatchObject({
      name: 'InternalServerError',
    });
    offline.destroy();
  });
});
