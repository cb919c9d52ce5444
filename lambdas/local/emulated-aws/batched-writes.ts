// Local engine, emulated AWS: group commit for a state table. Writes asked for while a batch is
// forming go to the embedded store as one BatchWriteItem (up to 25 at a time) instead of one
// request each; every caller still resolves only once its own write is stored. Deletes may wait
// to ride with the next put's batch, so a store that puts and later forgets each item (the bus)
// pays about one request per put rather than two.
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
  /**
   * How long a delete waits for company: it goes with the batch the next put starts, or after this
   * long on its own. 0 (the default): at the end of the current turn of the event loop, as a put.
   */
  readonly deleteWindowMs?: number;
}

/**
 * Puts and deletes on one table, grouped. A key written twice while a batch forms is written
 * once, with the later write (BatchWriteItem refuses two writes of one key). Batches already
 * sent are not ordered with each other: a caller that needs one write of a key to land before
 * the next waits for the first.
 */
export class BatchedWrites {
  private forming = new Map<string, Waiting[]>();
  /** The end-of-turn flush a put (or an eager delete) asked for. */
  private immediate: NodeJS.Immediate | undefined;
  /** The flush a waiting delete asked for, `deleteWindowMs` after it. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly table: StateTable,
    private readonly keyAttribute: string,
    private readonly options: BatchedWritesOptions = {},
  ) {}

  /** Resolves once the item is stored. */
  put(item: StringItem): Promise<void> {
    return this.enqueue(String(item[this.keyAttribute]), { put: item }, 0);
  }

  /** Resolves once the item is gone. */
  delete(key: string): Promise<void> {
    return this.enqueue(key, { delete: { [this.keyAttribute]: key } }, this.options.deleteWindowMs ?? 0);
  }

  private enqueue(key: string, request: StoreWrite, waitMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // The later write wins; callers of the earlier one resolve with it, as it supersedes theirs.
      this.forming.set(key, [...(this.forming.get(key) ?? []), { request, resolve, reject }]);
      if (waitMs === 0) this.immediate ??= setImmediate(() => this.flush());
      else this.timer ??= setTimeout(() => this.flush(), waitMs);
    });
  }

  /** Sends everything forming, whoever asked for the flush. */
  private flush(): void {
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearTimeout(this.timer);
    this.immediate = undefined;
    this.timer = undefined;
    const entries = [...this.forming.values()];
    this.forming = new Map();
    for (let start = 0; start < entries.length; start += MAX_BATCH) void this.write(entries.slice(start, start + MAX_BATCH));
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
