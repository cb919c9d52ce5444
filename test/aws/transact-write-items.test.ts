// AWS emulator tier: moto answers the same TransactWriteItems cases the embedded store must pass
// (test/contracts/transact-write-items-cases.ts), so the cases, and the store, follow AWS's semantics.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach } from 'vitest';
import { transactWriteItemsCases } from '../contracts/transact-write-items-cases';
import { freshMoto } from './moto-world';

const clients: DynamoDBClient[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.destroy()));

transactWriteItemsCases('moto', async () => {
  const moto = await freshMoto();
  const client = new DynamoDBClient(moto.engineConfig);
  clients.push(client);
  return { client, tableName: `transactions-${randomUUID().slice(0, 8)}` };
});
