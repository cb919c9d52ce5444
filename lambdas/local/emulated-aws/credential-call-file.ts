// Local engine, emulated AWS: where the credential call log (credential-calls.ts) keeps its calls when the
// engine has a data directory: one JSON line per call appended to `credential-calls.jsonl`, so the
// record costs no memory per credential (a soak's thousands of credentials grew the heap ~1 KiB each)
// and survives a restart. Bounded on disk: past `maxBytes` the file becomes `.1`, replacing the older one.
import { createReadStream } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** A call as kept: its time as a number. */
export interface KeptCall {
  readonly atMs: number;
  readonly service: string;
  readonly operation: string;
  readonly status: number;
  readonly errorCode?: string;
}

/** Where the call log keeps its calls: in memory (an engine without a data directory) or on disk. */
export interface CallStore {
  add(accessKeyId: string, call: KeptCall): void;
  /** The credential's calls, oldest first, at most the newest `max`. */
  read(accessKeyId: string, max: number): Promise<readonly KeptCall[]>;
  /** Writes what is still buffered. */
  close(): Promise<void>;
}

/** A line of the file: the access key id beside the call. */
interface CallLine extends KeptCall {
  readonly accessKeyId: string;
}

export const CALL_FILE = 'credential-calls.jsonl';
/** After a failed write, the next try comes this much later. */
const RETRY_AFTER_MS = 5_000;

export interface CredentialCallFileOptions {
  /** `<dataDir>/credential-calls.jsonl`. */
  readonly path: string;
  /** A write that failed; its calls stay buffered and the next write tries again. */
  readonly onWriteError: (error: unknown) => void;
  /** Past this size the file is set aside as `.1`: 64 MiB, some 600,000 calls, by default. */
  readonly maxBytes?: number;
  /** Calls are buffered this long and appended together: one write, not one per request. 100 ms by default. */
  readonly flushAfterMs?: number;
  /** While writes fail, at most this many calls wait (the oldest are dropped, and the drop reported). 10,000 by default. */
  readonly maxBuffered?: number;
}

export class CredentialCallFile implements CallStore {
  private buffered: string[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private bytes: number | undefined;
  /** The file, kept open for appending: opening and closing it for each write cost more than the write. */
  private file: FileHandle | undefined;
  /** The last write failed: the next one waits longer than a batch would. */
  private failing = false;
  private readonly maxBytes: number;
  private readonly flushAfterMs: number;
  private readonly maxBuffered: number;

  constructor(private readonly options: CredentialCallFileOptions) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.flushAfterMs = options.flushAfterMs ?? 100;
    this.maxBuffered = options.maxBuffered ?? 10_000;
  }

  add(accessKeyId: string, call: KeptCall): void {
    this.buffered.push(JSON.stringify({ accessKeyId, ...call } satisfies CallLine));
    if (this.buffered.length > this.maxBuffered) {
      const dropped = this.buffered.splice(0, this.buffered.length - this.maxBuffered).length;
      this.options.onWriteError(
        new Error(`${dropped} credential calls dropped: ${this.maxBuffered} were already waiting for a write that keeps failing`),
      );
    }
    this.schedule();
  }

  async read(accessKeyId: string, max: number): Promise<readonly KeptCall[]> {
    await this.flushNow().catch(this.options.onWriteError);
    const marker = `{"accessKeyId":${JSON.stringify(accessKeyId)},`;
    const calls: KeptCall[] = [];
    const keep = (line: string) => {
      if (!line.startsWith(marker)) return;
      const { accessKeyId: _key, ...call } = JSON.parse(line) as CallLine;
      calls.push(call);
      if (calls.length > max) calls.shift();
    };
    for (const file of [`${this.options.path}.1`, this.options.path]) for await (const line of linesOf(file)) keep(line);
    // What a failing write left waiting is newer than anything in the files.
    for (const line of this.buffered) keep(line);
    return calls;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.flushNow();
    } finally {
      await this.closeFile();
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  private schedule(): void {
    if (this.timer || this.buffered.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flushNow().catch(this.options.onWriteError);
      },
      this.failing ? RETRY_AFTER_MS : this.flushAfterMs,
    );
    this.timer.unref();
  }

  /** Waits for a write under way, then writes whatever is buffered (one write at a time, in order). */
  private async flushNow(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
    if (this.buffered.length === 0) return;
    const lines = this.buffered;
    this.buffered = [];
    this.writing = this.append(`${lines.join('\n')}\n`).then(
      () => {
        this.failing = false;
      },
      (error: unknown) => {
        this.failing = true;
        this.buffered = [...lines, ...this.buffered];
        throw error;
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
      this.schedule();
    }
  }

  private async append(text: string): Promise<void> {
    const { path } = this.options;
    this.bytes ??= await stat(path).then(
      (file) => file.size,
      () => 0,
    );
    if (this.bytes > 0 && this.bytes + Buffer.byteLength(text) > this.maxBytes) {
      await this.closeFile();
      await rename(path, `${path}.1`);
      this.bytes = 0;
    }
    try {
      this.file ??= await open(path, 'a', 0o600);
      await this.file.appendFile(text);
    } catch (error) {
      // Opened again by the next write: the file may have been moved or its disk remounted.
      await this.closeFile().catch(() => undefined);
      throw error;
    }
    this.bytes += Buffer.byteLength(text);
  }
}

/** The file's lines; none when it does not exist (nothing recorded yet, or never set aside). */
async function* linesOf(file: string): AsyncIterable<string> {
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return;
  const input = createReadStream(file, { encoding: 'utf8' });
  try {
    yield* createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  } finally {
    input.destroy();
  }
}
