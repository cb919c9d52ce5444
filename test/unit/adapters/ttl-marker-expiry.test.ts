import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expiryMarkerKey, grantKey, GRANT_TABLE } from '../../../lambdas/adapters/aws/grant-table';
import { TtlMarkerExpiry } from '../../../lambdas/adapters/aws/ttl-marker-expiry';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { startEmbeddedStore, type EmbeddedStore } from '../../../lambdas/local/embedded-store';

const GRANT = grantIdFor('release-bot', 'task-1');

let store: EmbeddedStore;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  store = await startEmbeddedStore();
  client = new DynamoDBClient({ endpoint: store.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  documents = DynamoDBDocumentClient.from(client);
});

afterAll(async () => {
  client.destroy();
  await store.close();
});

/** A table with the grant table's keys: all the marker needs. */
async function createGrantTable(): Promise<string> {
  const tableName = `grants-${++tables}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: GRANT_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: GRANT_TABLE.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: GRANT_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: GRANT_TABLE.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  return tableName;
}

describe('TtlMarkerExpiry', () => {
  let tableName: string;
  let expiry: TtlMarkerExpiry;

  beforeEach(async () => {
    tableName = await createGrantTable();
    expiry = new TtlMarkerExpiry(documents, { tableName });
  });

  const marker = async () => (await documents.send(new GetCommand({ TableName: tableName, Key: expiryMarkerKey(GRANT) }))).Item;

  it('writes the marker the TTL stream handler recognises, expiring at the grant’s expiry rounded up to the second', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.250Z'));

    const raw = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `GRANT#${GRANT}` }, sk: { S: 'EXPIRY' } } }));
    expect(raw.Item).toEqual({
      pk: { S: `GRANT#${GRANT}` },
      sk: { S: 'EXPIRY' },
      grantId: { S: GRANT },
      expiresAt: { S: '2030-01-01T00:15:00.250Z' },
      ttl: { N: String(Date.parse('2030-01-01T00:15:01Z') / 1000) },
    });
  });

  it('keeps one marker per grant, the latest expiry winning', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00Z'));
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:30:00Z'));

    expect((await marker())?.[GRANT_TABLE.ttlAttribute]).toBe(Date.parse('2030-01-01T00:30:00Z') / 1000);
  });

  it('cancels by leaving the marker to TTL (its late firing is a no-op) and touches nothing else', async () => {
    await documents.send(new PutCommand({ TableName: tableName, Item: { ...grantKey(GRANT), grantId: GRANT, state: 'active' } }));
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00Z'));

    await expiry.cancelExpiry(GRANT);
    await expiry.cancelExpiry(GRANT);

    expect((await marker())?.[GRANT_TABLE.ttlAttribute]).toBe(Date.parse('2030-01-01T00:15:00Z') / 1000);
    expect((await documents.send(new GetCommand({ TableName: tableName, Key: grantKey(GRANT) }))).Item).toMatchObject({ state: 'active' });
  });

  it('surfaces a write that failed', async () => {
    const nowhere = new TtlMarkerExpiry(documents, { tableName: 'no-such-table' });
    await expect(nowhere.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00Z'))).rejects.toThrow(/not found|ResourceNotFound/i);
  });
});
