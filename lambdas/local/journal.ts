// Local engine: an append-only JSON-lines journal that makes the local Secrets Manager and
// event bus durable without going through the DynamoDB store.
//
// Durability: an append resolves once its write(2) returned, so the bytes sit in the OS page
// cache. A `kill -9` of this process loses nothing that was acknowledged (the kernel still
// writes the page cache out); only an OS crash or power loss could, as there is no fsync per
// append. Compaction does fsync, because it replaces the whole history.
import { mkdir, open, readFile, rename, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A durable, ordered log of records of one type. */
export interface Journal<T> {
  /** Appends one record; resolves once the OS holds it. The record is serialised at call time. */
  append(record: T): Promise<void>;
  /** Replaces every record appended before this call with `live`, atomically (temp file + rename). */
  compact(live: readonly T[]): Promise<void>;
  /** Records in the file: the caller compacts when this grows well past what is live. */
  readonly recordCount: number;
  close(): Promise<void>;
}

export interface OpenedJournal<T> {
  readonly journal: Journal<T>;
  /** Every record in the file, oldest first. */
  readonly records: T[];
}

interface Batch {
  readonly lines: string[];
  readonly settle: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

/** Opens (creating) the journal at `file`, or an in-memory journal that keeps nothing when `file` is undefined. */
export async function openJournal<T>(file: string | undefined): Promise<OpenedJournal<T>> {
  if (file === undefined) return { journal: new MemoryJournal<T>(), records: [] };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const records = await readRecords<T>(file);
  const handle = await open(file, 'a', 0o600);
  return { journal: new FileJournal<T>(file, handle, records.length), records };
}

/** Reads every complete line; a torn last line (a write cut short) was never acknowledged and is dropped. */
async function readRecords<T>(file: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length) await truncate(file, Buffer.byteLength(text.slice(0, complete)));
  return text
    .slice(0, complete)
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

class MemoryJournal<T> implements Journal<T> {
  readonly recordCount = 0;
  append(_record: T): Promise<void> {
    return Promise.resolve();
  }
  compact(_live: readonly T[]): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Appends are grouped: records arriving while a write is in flight go out together in the
 * next write (group commit). Writes and compactions run one at a time, in call order.
 */
class FileJournal<T> implements Journal<T> {
  private queue: Promise<void> = Promise.resolve();
  private openBatch: Batch | undefined;
  private closed = false;

  constructor(
    private readonly file: string,
    private handle: FileHandle,
    private records: number,
  ) {}

  get recordCount(): number {
    return this.records;
  }

  append(record: T): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    const line = `${JSON.stringify(record)}\n`;
    return new Promise((resolve, reject) => {
      if (!this.openBatch) {
        const batch: Batch = { lines: [], settle: [] };
        this.openBatch = batch;
        this.enqueue(() => this.write(batch));
      }
      this.openBatch.lines.push(line);
      this.openBatch.settle.push({ resolve, reject });
    });
  }

  compact(live: readonly T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    // Records appended from now on belong after the rewrite, in a batch of their own.
    this.openBatch = undefined;
    const text = live.map((record) => `${JSON.stringify(record)}\n`).join('');
    return this.enqueue(() => this.rewrite(text, live.length));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.handle.close();
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(batch: Batch): Promise<void> {
    if (this.openBatch === batch) this.openBatch = undefined;
    try {
      await this.handle.appendFile(batch.lines.join(''));
      this.records += batch.lines.length;
      for (const waiter of batch.settle) waiter.resolve();
    } catch (error) {
      for (const waiter of batch.settle) waiter.reject(error);
    }
  }

  private async rewrite(text: string, count: number): Promise<void> {
    const temp = `${this.file}.compact`;
    const out = await open(temp, 'w', 0o600);
    try {
      await out.writeFile(text);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(temp, this.file);
    await this.handle.close();
    this.handle = await open(this.file, 'a', 0o600);
    this.records = count;
  }
}
