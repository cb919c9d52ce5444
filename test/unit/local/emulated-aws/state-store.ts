// Test helper: an in-memory embedded store with the emulated services' tables, for tests that
// restart a service over the state a previous instance left.
import { startEmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { openStateTables, scanAll, type StateTableName, type StateTables } from '../../../../lambdas/local/emulated-aws/state-tables';

export interface StateStore extends StateTables {
  /** Every item of one of the tables, as stored. */
  items(name: StateTableName): Promise<Array<Record<string, unknown>>>;
}

export async function startStateStore(): Promise<StateStore> {
  const store = await startEmbeddedStore();
  const tables = await openStateTables(store.endpoint);
  return {
    table: (name) => tables.table(name),
    items: (name) => scanAll(tables.table(name)),
    close: () => {
      tables.close();
      void store.close();
    },
  };
}
