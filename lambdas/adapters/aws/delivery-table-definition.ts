// Adapter (DynamoDB): the delivery table of the `dynamodb-kms` mode, as the local engine and the
// emulator tier create it; on AWS the CDK construct declares the same key (lib/constructs/delivery-table.ts).
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DELIVERY_ITEM } from '../../domain/delivery-item';

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
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(deliveryTableCreateInput(tableName)));
    } catch (createError) {
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  await waitUntilTableExists({ client, minDelay: 1, maxDelay: 5, maxWaitTime: 300 }, { TableName: tableName });
}
