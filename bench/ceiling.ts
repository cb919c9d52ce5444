// Bench: the ceiling. How many AWS SDK calls per second this process gets from the embedded
// store with no engine logic at all: GetItem/PutItem through the same client settings.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedStore } from '../lambdas/local/emulated-aws/embedded-store';
import { localClientConfig } from '../lambdas/local/host/sdk-clients';

export interface CeilingOptions {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface CeilingRun {
  readonly sdkCallsPerSecond: number;
  readonly calls: number;
  readonly durationMs: number;
}

const TABLE = 'bench-ceiling';
const KEYS = 1000;
/** About the size of a small record; the grant items of a lifecycle are larger (audit chain). */
const PAYLOAD = 'x'.repeat(200);

export async function measureCeiling(options: CeilingOptions): Promise<CeilingRun> {
  const store = await startEmbeddedStore();
  const dynamo = new DynamoDBClient(localClientConfig(store.endpoint));
  const documents = DynamoDBDocumentClient.from(dynamo);
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const call = (n: number) => {
      const pk = `item-${n % KEYS}`;
      return n % 2 === 0
        ? documents.send(new PutCommand({ TableName: TABLE, Item: { pk, payload: PAYLOAD, n } }))
        : documents.send(new GetCommand({ TableName: TABLE, Key: { pk }, ConsistentRead: true }));
    };
    const hammer = async (ms: number) => {
      let calls = 0;
      const until = performance.now() + ms;
      const worker = async (id: number) => {
        for (let n = id; performance.now() < until; n += options.concurrency) {
          await call(n);
          calls++;
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: options.concurrency }, (_, id) => worker(id)));
      return { calls, durationMs: performance.now() - started };
    };
    await hammer(options.warmupMs);
    const { calls, durationMs } = await hammer(options.durationMs);
    return { sdkCallsPerSecond: calls / (durationMs / 1000), calls, durationMs };
  } finally {
    dynamo.destroy();
    await store.close();
  }
}
