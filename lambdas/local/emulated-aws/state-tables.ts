// Local engine, emulated AWS: where the emulated services keep their state. Each has its own
// table in the embedded store, beside the grant table, so one LevelDB directory holds everything
// a restart recovers. The tables are the emulation's insides, not AWS resources: the DynamoDB
// endpoint hides them (dynamodb-proxy-service.ts).
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { realSleep } from '../../adapters/sleep';
import { STORE_AUTHORIZATION, StoreConnection, type StoreWrites } from './store-writes';

/** Every internal table's name starts so; the DynamoDB endpoint refuses them. */
export const INTERNAL_TABLE_PREFIX = 'taskbound-local-';

/** The emulated services' tables and the attribute each is keyed by. */
export const STATE_TABLES = {
  credentials: { name: `${INTERNAL_TABLE_PREFIX}credentials`, key: 'accessKeyId' },
  secrets: { name: `${INTERNAL_TABLE_PREFIX}secrets`, key: 'name' },
  events: { name: `${INTERNAL_TABLE_PREFIX}events`, key: 'id' },
  deadLetters: { name: `${INTERNAL_TABLE_PREFIX}dead-letters`, key: 'id' },
} as const;

export type StateTableName = keyof typeof STATE_TABLES;

const TABLE_READY_POLLS = 200;
const TABLE_READY_POLL_MS = 50;

/**
 * A table of the embedded store and DynamoDB's own client to it (items converted with @aws-sdk/util-dynamodb:
 * the client caches its middleware chains, which the document client refuses).
 */
export interface TableRef {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** One emulated service's table: the client for what is rare (reads at start, a dead letter), `writes` for the hot path. */
export interface StateTable extends TableRef {
  readonly writes: StoreWrites;
}

/** The emulated services' access to the embedded store, with their tables created. */
export interface StateTables {
  table(name: StateTableName): StateTable;
  close(): void;
}

/** The SDK client's signer: the static header store-writes.ts sends (the store never checks a signature). */
const staticAuthorization = {
  sign: async <T extends { headers: Record<string, string> }>(request: T): Promise<T> => {
    request.headers.authorization = STORE_AUTHORIZATION.authorization;
    request.headers['x-amz-date'] = STORE_AUTHORIZATION['x-amz-date'];
    return request;
  },
};

/**
 * Opens a client of its own to the store at `endpoint` (so the engine's counted SDK calls stay
 * the engine's), and creates any of the tables that is missing.
 */
export async function openStateTables(endpoint: string): Promise<StateTables> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCALSTATE000000', secretAccessKey: 'local-state-not-a-secret' },
    maxAttempts: 3,
    signer: staticAuthorization,
    cacheMiddleware: true,
  });
  await Promise.all(Object.values(STATE_TABLES).map(({ name, key }) => ensureStateTable({ client, tableName: name }, key)));
  const connection = new StoreConnection(endpoint);
  const tables = new Map(
    Object.entries(STATE_TABLES).map(([name, { name: tableName }]) => [name, { client, tableName, writes: connection.writes(tableName) }]),
  );
  return {
    table: (name) => tables.get(name) as StateTable,
    close: () => {
      connection.close();
      client.destroy();
    },
  };
}

/** Every item of a table, read consistently (a restart's recovery). */
export async function scanAll(table: TableRef): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await table.client.send(
      new ScanCommand({ TableName: table.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Creates a table keyed by the string attribute `key` unless it exists, and waits until it is ACTIVE. */
export async function ensureStateTable({ client, tableName }: TableRef, key: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let poll = 0; poll < TABLE_READY_POLLS; poll += 1) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await realSleep(TABLE_READY_POLL_MS);
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
