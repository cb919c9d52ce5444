// Adapter (DynamoDB): the delivery table of the `dynamodb-kms` mode, as the local engine and the
// emulator tier create it; on AWS the CDK construct declares the same key (lib/constructs/delivery-table.ts).
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DELIVERY_ITEM } from '../../domain/delivery-item';
import { ensureTable } from './grant-table-definition';

/** Partition by agent (what `dynamodb:LeadingKeys` confines a runtime to), sort by task. */
export function deliveryTableCreateInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: DELIVERY_ITEM.partitionKey, AttributeType: 'S' },
      { AttributeName: DELIVERY_ITEM.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: DELIVERY_ITEM.partitionKey, KeyType: 'HASH' },
      { AttributeName: DELIVERY_ITEM.sortKey, KeyType: 'RANGE' },
    ],
  };
}

/** Creates the delivery table unless it exists, then waits until it is ACTIVE (TTL: see ensureGrantTable). */
export async function ensureDeliveryTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await ensureTable(client, deliveryTableCreateInput(tableName));
}
