// Local engine, emulated AWS: the emulated services' hot writes (an event accepted or done with, a
// secret changed) sent to the embedded store as DynamoDB JSON over kept-alive loopback connections.
// These are the emulation's own bookkeeping, not AWS calls of the engine, so they skip the SDK:
// its middleware stack cost about 0.5 ms of CPU per write, more than the store's own work
// (0.8 ms per PutItem with the SDK, 0.3 ms without, both sides in one process; bench/README.md).
import { Agent, request } from 'node:http';
import { notYet, retry, settled } from '../../adapters/retry';

/** An item of a state table: every attribute a string (the services store JSON as one string). */
export type StringItem = Readonly<Record<string, string>>;

/** One write of a BatchWriteItem. */
export type StoreWrite = { readonly put: StringItem } | { readonly delete: StringItem };

/** Writes to one table of the embedded store; each resolves once the store has acknowledged it. */
export interface StoreWrites {
  put(item: StringItem): Promise<void>;
  /** Deletes the item with this key (absent already: nothing to do, as DynamoDB answers). */
  delete(key: StringItem): Promise<void>;
  /** Up to 25 writes, each of its own key, in one BatchWriteItem; resolves with those the store left unprocessed. */
  batch(writes: readonly StoreWrite[]): Promise<StoreWrite[]>;
}

/** An error the store answered with, named as DynamoDB names it (`ValidationException`). */
export class StoreError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    /** HTTP status: 4xx is the request's fault, 5xx the store's. */
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The store is in process, on loopback, and dynalite checks that a request carries an
 * Authorization header of SigV4's shape, never its signature; signing (hashing every body, an
 * HMAC chain per request) would be CPU spent for nothing. A static header of the right shape stands in.
 */
export const STORE_AUTHORIZATION = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIALOCALSTATE000000/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
  'x-amz-date': '20260101T000000Z',
} as const;

/** A kept-alive socket the store closed just as a request went out: the write never arrived, so it is sent again. */
const RETRY = { attempts: 3, baseDelayMs: 10 } as const;
const RETRIED_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED']);

type AttributeMap = Record<string, { readonly S: string }>;
type WireWrite = { readonly PutRequest: { readonly Item: AttributeMap } } | { readonly DeleteRequest: { readonly Key: AttributeMap } };

const marshall = (item: StringItem): AttributeMap => Object.fromEntries(Object.entries(item).map(([name, value]) => [name, { S: value }]));

function unmarshall(attributes: Readonly<Record<string, { readonly S?: unknown }>>): StringItem {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => {
      if (typeof value.S !== 'string') throw new Error(`the store returned attribute ${name} that is not a string`);
      return [name, value.S];
    }),
  );
}

const toWire = (write: StoreWrite): WireWrite =>
  'put' in write ? { PutRequest: { Item: marshall(write.put) } } : { DeleteRequest: { Key: marshall(write.delete) } };

function fromWire(write: {
  readonly PutRequest?: { readonly Item: AttributeMap };
  readonly DeleteRequest?: { readonly Key: AttributeMap };
}): StoreWrite {
  if (write.PutRequest) return { put: unmarshall(write.PutRequest.Item) };
  if (write.DeleteRequest) return { delete: unmarshall(write.DeleteRequest.Key) };
  throw new Error('the store returned an unprocessed write that is neither a put nor a delete');
}

/** Requests to the embedded store at `endpoint`, over a pool of kept-alive connections. */
export class StoreConnection {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly host: string;
  private readonly port: number;

  constructor(endpoint: string) {
    const url = new URL(endpoint);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  /** Writes to `tableName`. */
  writes(tableName: string): StoreWrites {
    return {
      put: async (item) => void (await this.send('PutItem', { TableName: tableName, Item: marshall(item) })),
      delete: async (key) => void (await this.send('DeleteItem', { TableName: tableName, Key: marshall(key) })),
      batch: async (writes) => {
        const answer = (await this.send('BatchWriteItem', { RequestItems: { [tableName]: writes.map(toWire) } })) as {
          UnprocessedItems?: Record<string, Parameters<typeof fromWire>[0][]>;
        };
        return (answer.UnprocessedItems?.[tableName] ?? []).map(fromWire);
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }

  /** One operation; these writes are idempotent, so one the store may not have seen (a reset socket, a 5xx) is sent again. */
  private async send(operation: string, input: object): Promise<unknown> {
    const body = JSON.stringify(input);
    const outcome = await retry(RETRY, async () => {
      try {
        return settled(await this.post(operation, body));
      } catch (error) {
        const retryable =
          error instanceof StoreError ? error.status >= 500 : RETRIED_SOCKET_ERRORS.has((error as NodeJS.ErrnoException).code ?? '');
        if (!retryable) throw error;
        return notYet(error);
      }
    });
    if (!outcome.settled) throw outcome.last;
    return outcome.value;
  }

  private post(operation: string, body: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const headers = {
        ...STORE_AUTHORIZATION,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        'content-length': Buffer.byteLength(body),
      };
      const outgoing = request({ agent: this.agent, host: this.host, port: this.port, method: 'POST', path: '/', headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
          try {
            parsed = text ? (JSON.parse(text) as typeof parsed) : {};
          } catch {
            // Not JSON: a failure of the store itself, reported by status below.
          }
          const status = response.statusCode ?? 500;
          if (status === 200) return resolve(parsed);
          const name = typeof parsed.__type === 'string' ? (parsed.__type.split('#').at(-1) ?? 'StoreError') : 'StoreError';
          reject(new StoreError(name, String(parsed.message ?? parsed.Message ?? `the embedded store answered ${status}`), status));
        });
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}
