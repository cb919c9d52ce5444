// Local engine, emulated AWS: the credential authority's reads of credentials it no longer keeps in memory
// (credential-authority.ts keeps the live ones and those revoked moments ago). A dead key presented later
// is read back from the store, so it answers as revoked, never as unknown; the last few answers are kept,
// so a caller retrying with one dead key costs one read, not one per request.
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** Every access key id the authority mints has this shape (`newAccessKeyPair`): any other was never issued, and needs no read. */
const ISSUED_KEY_ID = /^A[KS]IA[A-Z2-7]{16}$/;
/** Answers kept, the oldest used forgotten first: few, so they fill in seconds and never grow with history. */
export const KEPT_COLD_ANSWERS = 128;

export interface ColdCredentialReadsOptions<C> {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly parse: (item: Record<string, unknown>) => C;
  /** Whether an answer can be kept: it must never change (a revocation in force does not; a live credential would). */
  readonly settled: (credential: C) => boolean;
}

/** Reads of credentials by access key id, from the store, with the last few settled answers kept. */
export class ColdCredentialReads<C> {
  /** Access key id → the credential, or null: never issued. In use order, the least recent first. */
  private readonly answers = new Map<string, C | null>();
  private readonly reading = new Map<string, Promise<C | undefined>>();

  constructor(private readonly options: ColdCredentialReadsOptions<C>) {}

  /** What is known without a read: the credential, `null` when it was never issued, `undefined` when only a read can tell. */
  known(accessKeyId: string): C | null | undefined {
    if (!ISSUED_KEY_ID.test(accessKeyId)) return null;
    const answer = this.answers.get(accessKeyId);
    if (answer === undefined) return undefined;
    this.answers.delete(accessKeyId);
    this.answers.set(accessKeyId, answer);
    return answer;
  }

  /** The credential as stored, or undefined when it was never issued. Concurrent reads of one key share one store read. */
  async read(accessKeyId: string): Promise<C | undefined> {
    const known = this.known(accessKeyId);
    if (known !== undefined) return known ?? undefined;
    const pending = this.reading.get(accessKeyId);
    if (pending) return pending;
    const read = this.fetch(accessKeyId).finally(() => this.reading.delete(accessKeyId));
    this.reading.set(accessKeyId, read);
    return read;
  }

  /** Drops a kept answer (the credential is in memory again, or has just left it). */
  forget(accessKeyId: string): void {
    this.answers.delete(accessKeyId);
  }

  /** How many answers are kept (tests: it stays bounded). */
  get size(): number {
    return this.answers.size;
  }

  private async fetch(accessKeyId: string): Promise<C | undefined> {
    const { client, tableName, parse, settled } = this.options;
    const stored = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { accessKeyId: { S: accessKeyId } }, ConsistentRead: true }),
    );
    const credential = stored.Item ? parse(unmarshall(stored.Item)) : undefined;
    if (credential === undefined || settled(credential)) this.keep(accessKeyId, credential ?? null);
    return credential;
  }

  private keep(accessKeyId: string, answer: C | null): void {
    this.answers.set(accessKeyId, answer);
    if (this.answers.size > KEPT_COLD_ANSWERS) this.answers.delete(this.answers.keys().next().value as string);
  }
}
