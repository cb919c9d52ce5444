// scratch: old issuance store calls vs new, sequential, CPU and wall per start (not committed)
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedStore } from './lambdas/local/emulated-aws/embedded-store';
import { localClientConfig } from './lambdas/local/host/sdk-clients';
import { ensureGrantTable } from './lambdas/adapters/aws/grant-table-definition';
import { DynamoDbGrantStore } from './lambdas/adapters/aws/dynamodb-grant-store';
import { requestedGrant, advance } from './test/helpers/grants';
const store = await startEmbeddedStore();
const client = new DynamoDBClient(localClientConfig(store.endpoint));
await ensureGrantTable(client, 'grants');
const grants = new DynamoDbGrantStore({ client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName: 'grants' });
const N = 400;
async function oldWay(i: number) {
  const g = requestedGrant({ agentId: 'a', taskId: `old-${i}` });
  await grants.getAgent('a');
  const holders = await grants.slotHolders('a');
  await grants.create({ ...g, concurrencySlot: holders.length }); // stands in for the slot put
  await grants.create(g.grantId === '' ? g : { ...g, grantId: g.grantId + 'x' });
  await grants.getAgent('a');
}
async function newWay(i: number) {
  const g = requestedGrant({ agentId: 'b', taskId: `new-${i}` });
  await grants.openHoldingSlot('b', 100000, (slot) => ({ ...g, concurrencySlot: slot }), g.createdAt);
}
for (const [name, fn] of [['old', oldWay], ['new', newWay], ['old', oldWay], ['new', newWay], ['old', oldWay], ['new', newWay], ['old', oldWay], ['new', newWay]] as const) {
  const cpu0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i + (name === 'old' ? 0 : 0) + Math.floor(Math.random() * 1e9));
  const cpu = process.cpuUsage(cpu0); const wall = performance.now() - t0;
  console.log(name, 'cpu ms/start', ((cpu.user + cpu.system) / 1000 / N).toFixed(2), 'wall ms/start', (wall / N).toFixed(2));
}
client.destroy(); await store.close();
