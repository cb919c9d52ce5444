import { ensureGrantTable } from '../../lambdas/adapters/aws/grant-table-definition';
import { DynamoDbGrantStore } from '../../lambdas/adapters/aws/dynamodb-grant-store';
import { useEmbeddedStore } from '../helpers/embedded-store-fixture';
import { InMemoryGrantStore } from '../helpers/in-memory-grant-store';
import { grantStoreContract } from './grant-store-contract';

const dynalite = useEmbeddedStore();

grantStoreContract('DynamoDbGrantStore (on dynalite)', async () => {
  const tableName = dynalite.freshTableName();
  await ensureGrantTable(dynalite.client, tableName);
  return new DynamoDbGrantStore({ client: dynalite.client, tableName });
});

grantStoreContract('InMemoryGrantStore (the use-case tests’ fake)', async () => new InMemoryGrantStore());
