// Adapter (DynamoDB): where each approval request was posted, kept beside its grant in the
// grant table (pk GRANT#<grantId>, sk SLACK#APPROVAL) so any Lambda can edit it later.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GRANT_TABLE, grantKey } from '../aws/grant-table';
import type { ApprovalMessages, ApprovalThread } from '../../ports';

/** Long after any approval window: the item only serves to edit the message. */
const KEEP_SECONDS = 7 * 24 * 3600;

export class DynamoDbApprovalMessages implements ApprovalMessages {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async get(grantId: string): Promise<ApprovalThread | undefined> {
    const answer = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key(grantId), ConsistentRead: true }));
    return answer.Item?.thread as ApprovalThread | undefined;
  }

  async put(grantId: string, thread: ApprovalThread): Promise<void> {
    const ttl = Math.floor(this.nowMs() / 1000) + KEEP_SECONDS;
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...key(grantId), thread, [GRANT_TABLE.ttlAttribute]: ttl } }),
    );
  }
}

function key(grantId: string) {
  return { ...grantKey(grantId), sk: 'SLACK#APPROVAL' };
}
