// Test helpers: one embedded DynamoDB store (dynalite on loopback) shared by the tests of a file
// or describe block, started before them and closed after them with everything started on it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../lambdas/local/emulated-aws/embedded-store';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';

interface Closable {
  close(): Promise<void>;
}

export interface EmbeddedStoreFixture {
  /** The store's `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  /** A table name no earlier call returned, so each test can have a table of its own. */
  freshTableName(): string;
  /** Servers the tests started on top of the store; closed after the tests, before the store. */
  readonly servers: Closable[];
}

/** Registers the beforeAll/afterAll hooks of the enclosing suite; the accessors work inside hooks and tests. */
export function useEmbeddedStore(): EmbeddedStoreFixture {
  let running: { store: EmbeddedStore; client: DynamoDBClient; documents: DynamoDBDocumentClient } | undefined;
  let tables = 0;
  const servers: Closable[] = [];

  beforeAll(async () => {
    const store = await startEmbeddedStore();
    const client = new DynamoDBClient(localClientConfig(store.endpoint));
    running = { store, client, documents: DynamoDBDocumentClient.from(client) };
  });

  afterAll(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    // The document client's own destroy() is a no-op: the connections belong to the base client.
    running?.client.destroy();
    await running?.store.close();
    running = undefined;
  });

  const started = () => {
    if (!running) throw new Error('the embedded store runs only between its beforeAll and afterAll');
    return running;
  };
  return {
    get endpoint() {
      return started().store.endpoint;
    },
    get client() {
      return started().client;
    },
    get documents() {
      return started().documents;
    },
    freshTableName: () => `table-${++tables}`,
    servers,
  };
}
