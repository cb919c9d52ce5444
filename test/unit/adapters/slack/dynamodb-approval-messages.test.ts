import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbApprovalMessages } from '../../../../lambdas/adapters/slack/dynamodb-approval-messages';
import { startEmbeddedStore, type EmbeddedStore } from '../../../../lambdas/local/embedded-store';

const TABLE = 'taskbound-grants';
const GRANT_ID = 'g-abcdefghijklmnopqrstuvwxyz';

describe('DynamoDbApprovalMessages', () => {
  let store: EmbeddedStore;
  let client: DynamoDBDocumentClient;
  beforeAll(async () => {
    store = await startEmbeddedStore();
    const raw = new DynamoDBClient({ endpoint: store.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
    await raw.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    client = DynamoDBDocumentClient.from(raw);
  });
  afterAll(() => store.close());

  it('keeps an approval thread beside its grant, expiring with a TTL, and reads it back', async () => {
    const messages = new DynamoDbApprovalMessages(client, TABLE, () => Date.parse('2025-03-01T12:00:00Z'));
    const thread = { refs: [{ channel: 'C0SECUR1TY', ts: '17000.1' }], request: { grantId: GRANT_ID, agentId: 'refund-bot' }, approvedBy: ['sre@example.com'] };
    expect(await messages.get(GRANT_ID)).toBeUndefined();
    await messages.put(GRANT_ID, thread);
    expect(await messages.get(GRANT_ID)).toEqual(thread);
    const item = await client.send(new GetCommand({ TableName: TABLE, Key: { pk: `GRANT#${GRANT_ID}`, sk: 'SLACK#APPROVAL' } }));
    expect(item.Item?.ttl).toBe(Date.parse('2025-03-08T12:00:00Z') / 1000);
  });
});
