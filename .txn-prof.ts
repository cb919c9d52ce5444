import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedStore } from './lambdas/local/emulated-aws/embedded-store';
import { localClientConfig } from './lambdas/local/host/sdk-clients';
import { ensureGrantTable } from './lambdas/adapters/aws/grant-table-definition';
import { DynamoDbGrantStore } from './lambdas/adapters/aws/dynamodb-grant-store';
import { requestedGrant } from './test/helpers/grants';
const store = await startEmbeddedStore();
const client = new DynamoDBClient(localClientConfig(store.endpoint));
await ensureGrantTable(client, 'grants');
const grants = new DynamoDbGrantStore({ client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName: 'grants' });
for (let i = 0; i < 3000; i++) {
  const g = requestedGrant({ agentId: 'b', taskId: `new-${i}` });
  await grants.openHoldingSlot('b', 100000, (slot) => ({ ...g, concurrencySlot: slot }), g.createdAt);
}
client.destroy(); await store.close();
