import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { expiryMarkerKey, grantKey, GRANT_TABLE } from '../../../../lambdas/adapters/aws/grant-table';
import { grantTableCreateInput } from '../../../../lambdas/adapters/aws/grant-table-definition';
import { TtlMarkerExpiry } from '../../../../lambdas/adapters/aws/ttl-marker-expiry';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import { useEmbeddedStore } from '../../../helpers/embedded-store-fixture';

const GRANT = grantIdFor('release-bot', 'task-1');

const store = useEmbeddedStore();

/** A fresh grant table: the marker lives in it beside the grant. */
async function createGrantTable(): Promise<string> {
  const tableName = store.freshTableName();
  await store.client.send(new CreateTableCommand(grantTableCreateInput(tableName)));
  return tableName;
}

describe('TtlMarkerExpiry', () => {
  let tableName: string;
  let expiry: TtlMarkerExpiry;

  beforeEach(async () => {
    tableName = await createGrantTable();
    expiry = new TtlMarkerExpiry(store.documents, { tableName });
  });

  const marker = async () => (await store.documents.send(new GetCommand({ TableName: tableName, Key: expiryMarkerKey(GRANT) }))).Item;

  it('writes the marker the TTL stream handler recognises, expiring at the grant’s expiry rounded up to the second', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.250Z'));

    const raw = await store.client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: `GRANT#${GRANT}` }, sk: { S: 'EXPIRY' } } }),
    );
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
    await store.documents.send(new PutCommand({ TableName: tableName, Item: { ...grantKey(GRANT), grantId: GRANT, state: 'active' } }));
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00Z'));

    await expiry.cancelExpiry(GRANT);
    await expiry.cancelExpiry(GRANT);

    expect((await marker())?.[GRANT_TABLE.ttlAttribute]).toBe(Date.parse('2030-01-01T00:15:00Z') / 1000);
    expect((await store.documents.send(new GetCommand({ TableName: tableName, Key: grantKey(GRANT) }))).Item).toMatchObject({
      state: 'active',
    });
  });

  it('surfaces a write that failed', async () => {
    const nowhere = new TtlMarkerExpiry(store.documents, { tableName: 'no-such-table' });
    await expect(nowhere.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00Z'))).rejects.toThrow(/not found|ResourceNotFound/i);
  });
});
