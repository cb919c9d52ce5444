// Local engine, emulated AWS: group commit for a state table. Writes asked for while a batch is
// forming go to the embedded store as one BatchWriteItem (up to 25 at a time) instead of one
// request each; every caller still resolves only once its own write is stored.
import type { StateTable } from './state-tables';
import type { StoreWrite, StringItem } from './store-writes';

/** DynamoDB's limit of writes per BatchWriteItem. */
const MAX_BATCH = 25;
/** How often a batch's unprocessed writes are sent again before the batch fails. */
const MAX_UNPROCESSED_ROUNDS = 5;

interface Waiting {
  readonly request: StoreWrite;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface BatchedWritesOptions {
  /** How long a batch keeps forming after its first write; 0 = until the current turn of the event loop ends. */
  readonly windowMs?: number;
}

/**
 * Puts and deletes on one table, grouped. A key written twice while a batch forms is written
 * once, with the later write (BatchWriteItem refuses two writes of one key). Batches already
 * sent are not ordered with each other: a caller that needs one write of a key to land before
 * the next waits for the first.
 */
export class BatchedWrites {
  private forming = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(
    private readonly table: StateTable,
    private readonly keyAttribute: string,
    private readonly options: BatchedWritesOptions = {},
  ) {}

  /** Resolves once the item is stored. */
  put(item: StringItem): Promise<void> {
    return this.enqueue(String(item[this.keyAttribute]), { put: item });
  }

  /** Resolves once the item is gone. */
  delete(key: string): Promise<void> {
    return this.enqueue(key, { delete: { [this.keyAttribute]: key } });
  }

  private enqueue(key: string, request: StoreWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // The later write wins; callers of the earlier one resolve with it, as it supersedes theirs.
      this.forming.set(key, [...(this.forming.get(key) ?? []), { request, resolve, reject }]);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      const batch = this.forming;
      this.forming = new Map();
      const chunks: Waiting[][][] = [];
      const entries = [...batch.values()];
      for (let start = 0; start < entries.length; start += MAX_BATCH) chunks.push(entries.slice(start, start + MAX_BATCH));
      for (const chunk of chunks) void this.write(chunk);
    };
    const windowMs = this.options.windowMs ?? 0;
    if (windowMs > 0) setTimeout(flush, windowMs);
    else setImmediate(flush);
  }

  /** One BatchWriteItem per chunk (a key each), sending back what the store left unprocessed. */
  private async write(chunk: Waiting[][]): Promise<void> {
    const waiting = chunk.flat();
    try {
      let requests = chunk.map((forKey) => (forKey.at(-1) as Waiting).request);
      for (let round = 0; requests.length > 0; round += 1) {
        if (round === MAX_UNPROCESSED_ROUNDS) throw new Error(`${requests.length} writes to ${this.table.tableName} stayed unprocessed`);
        requests = await this.table.writes.batch(requests);
      }
      for (const { resolve } of waiting) resolve();
    } catch (error) {
      for (const { reject } of waiting) reject(error);
    }
  }
}
