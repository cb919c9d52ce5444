// Adapter (DynamoDB): the grant table as a CreateTable request, built from grant-table.ts, so
// the local engine's bootstrap and the tests create exactly the table the store expects.
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import { AGENT_INDEX, CREDENTIAL_INDEX, DUE_INDEX, GRANT_TABLE } from './grant-table';

/**
 * Each index's projection, and why. Exported so the CDK table declares the same ones.
 * - due: ALL. The sweep acts on every due grant with a version-conditioned write of the
 *   whole grant (audit chain included), so it needs the full item; KEYS_ONLY would add a
 *   GetItem per due grant. The index is sparse, so the copy costs storage only for due grants.
 * - liveByAgent: ALL. Suspension revokes each live grant of an agent, again needing full items;
 *   KEYS_ONLY would turn one Query into 1 + N round trips on the kill switch's path. Sparse
 *   (live grants only), so the copy is small and counting live grants reads only those.
 * - byCredential: KEYS_ONLY. Leak reports are rare; the one GetItem after it is cheap.
 */
export const GRANT_INDEX_PROJECTIONS = {
  [DUE_INDEX.name]: { ProjectionType: 'ALL' },
  [AGENT_INDEX.name]: { ProjectionType: 'ALL' },
  [CREDENTIAL_INDEX.name]: { ProjectionType: 'KEYS_ONLY' },
} as const satisfies Record<string, Projection>;

/** The CreateTable input of the grant table: on-demand, its keys and its three indexes. */
export function grantTableCreateInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: GRANT_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: GRANT_TABLE.sortKey, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      GRANT_TABLE.partitionKey,
      GRANT_TABLE.sortKey,
      DUE_INDEX.partitionKey,
      DUE_INDEX.sortKey,
      AGENT_INDEX.partitionKey,
      AGENT_INDEX.sortKey,
      CREDENTIAL_INDEX.partitionKey,
    ].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    GlobalSecondaryIndexes: [
      {
        IndexName: DUE_INDEX.name,
        KeySchema: [
          { AttributeName: DUE_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: DUE_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: GRANT_INDEX_PROJECTIONS[DUE_INDEX.name],
      },
      {
        IndexName: AGENT_INDEX.name,
        KeySchema: [
          { AttributeName: AGENT_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: AGENT_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: GRANT_INDEX_PROJECTIONS[AGENT_INDEX.name],
      },
      {
        IndexName: CREDENTIAL_INDEX.name,
        KeySchema: [{ AttributeName: CREDENTIAL_INDEX.partitionKey, KeyType: 'HASH' }],
        Projection: GRANT_INDEX_PROJECTIONS[CREDENTIAL_INDEX.name],
      },
    ],
  };
}

/**
 * Creates the grant table unless it exists, then waits until it is ACTIVE.
 *
 * TTL is not enabled here: dynalite does not implement UpdateTimeToLive (it answers
 * UnknownOperationException), so locally `ttl` is only recorded, never acted on. On AWS the
 * table comes from CDK, which declares the TTL attribute itself.
 */
export async function ensureGrantTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await ensureTable(client, grantTableCreateInput(tableName));
}

/** Creates a table from its create input unless it exists, then waits until it is ACTIVE. */
export async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  const TableName = input.TableName;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(input));
    } catch (createError) {
      // Another process created it between our describe and create: wait for theirs.
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  await waitUntilTableExists({ client, minDelay: 1, maxDelay: 5, maxWaitTime: 300 }, { TableName });
}
