// Adapter (DynamoDB): the expiry backstop. A marker item whose TTL is the grant's expiry;
// when DynamoDB's TTL deletes it, the stream record (by `dynamodb.amazonaws.com`) expires the
// grant (handlers/ttl-expiry-stream.ts), even if the grant's schedule was lost.
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ExpiryScheduler } from '../../ports';
import { expiryMarkerKey, GRANT_TABLE } from './grant-table';

export interface TtlMarkerExpiryOptions {
  readonly tableName: string;
}

export class TtlMarkerExpiry implements ExpiryScheduler {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly options: TtlMarkerExpiryOptions,
  ) {}

  /**
   * SDK calls: 1. Overwrites any earlier marker: the latest expiry wins. The TTL is rounded up
   * because TTL deletes items whose time has passed, and a second early would be too early.
   */
  async scheduleExpiry(grantId: string, at: Date): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...expiryMarkerKey(grantId),
          grantId,
          expiresAt: at.toISOString(),
          [GRANT_TABLE.ttlAttribute]: Math.ceil(at.getTime() / 1000),
        },
      }),
    );
  }

  /**
   * SDK calls: 0. The marker is left for TTL to remove: when its delete fires the expiry of
   * a grant already revoked, expire-grant finds nothing to do. This keeps the engine's
   * roles free of `dynamodb:DeleteItem` (nothing in the table is ever deleted by hand).
   */
  async cancelExpiry(_grantId: string): Promise<void> {
    return undefined;
  }
}
