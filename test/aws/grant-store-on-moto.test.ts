// AWS emulator tier: the grant store keeps the same contract on moto as on the embedded store
// (test/contracts/grant-store.test.ts), so the contract, and the store, follow DynamoDB's semantics
// where moto knows them: conditions, transactions, their cancellation reasons, indexes.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach } from 'vitest';
import { DynamoDbGrantStore } from '../../lambdas/adapters/aws/dynamodb-grant-store';
import { ensureGrantTable } from '../../lambdas/adapters/aws/grant-table-definition';
import { grantStoreContract } from '../contracts/grant-store-contract';
import { freshMoto } from './moto-world';

const clients: DynamoDBClient[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.destroy()));

grantStoreContract(
  'DynamoDbGrantStore (on moto)',
  async () => {
    const moto = await freshMoto();
    const client = new DynamoDBClient(moto.engineConfig);
    clients.push(client);
    const tableName = `grants-${randomUUID().slice(0, 8)}`;
    await ensureGrantTable(client, tableName);
    return new DynamoDbGrantStore({ client, tableName });
    // moto applies racing transactions without isolation (grant-store-contract.ts): the race's exact counts are asserted on dynalite.
  },
  { isolatesConcurrentWrites: false },
);
