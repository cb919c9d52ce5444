// Test contract: the embedded store's TransactWriteItems against the shared cases (moto runs the same in test/aws/).
import { useEmbeddedStore } from '../helpers/embedded-store-fixture';
import { transactWriteItemsCases } from './transact-write-items-cases';

const dynalite = useEmbeddedStore();

transactWriteItemsCases('the embedded store (dynalite)', async () => ({ client: dynalite.client, tableName: dynalite.freshTableName() }));
