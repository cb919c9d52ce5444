// Test helpers: the simplest DynamoDB table (one string partition key, `pk`), for tests of the
// embedded store and its proxy that need a table but not the grant table's shape.
import { CreateTableCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Creates an on-demand table keyed by the string attribute `pk` and waits until it is ACTIVE (as on
 * AWS, a table is CREATING first; with the store in its own thread a write can arrive before it is ACTIVE).
 */
export async function createPkTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, minDelay: 0.01, maxDelay: 0.1, maxWaitTime: 10 }, { TableName: tableName });
}
