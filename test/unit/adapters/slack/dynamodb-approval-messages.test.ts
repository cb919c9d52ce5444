import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureGrantTable } from '../../../../lambdas/adapters/aws/grant-table-definition';
import { DynamoDbApprovalMessages } from '../../../../lambdas/adapters/slack/dynamodb-approval-messages';
import { useEmbeddedStore } from '../../../helpers/embedded-store-fixture';

const TABLE = 'taskbound-grants';
const GRANT_ID = 'g-abcdefghijklmnopqrstuvwxyz';

describe('DynamoDbApprovalMessages', () => {
  const store = useEmbeddedStore();
  beforeAll(() => ensureGrantTable(store.client, TABLE));

  it('keeps an approval thread beside its grant, expiring with a TTL, and reads it back', async () => {
    const messages = new DynamoDbApprovalMessages(store.documents, TABLE, () => Date.parse('2025-03-01T12:00:00Z'));
    const thread = {
      refs: [{ channel: 'C0SECUR1TY', ts: '17000.1' }],
      request: { grantId: GRANT_ID, agentId: 'refund-bot' },
      approvedBy: ['sre@example.com'],
    };
    expect(await messages.get(GRANT_ID)).toBeUndefined();
    await messages.put(GRANT_ID, thread);
    expect(await messages.get(GRANT_ID)).toEqual(thread);
    const item = await store.documents.send(new GetCommand({ TableName: TABLE, Key: { pk: `GRANT#${GRANT_ID}`, sk: 'SLACK#APPROVAL' } }));
    expect(item.Item?.ttl).toBe(Date.parse('2025-03-08T12:00:00Z') / 1000);
  });
});
