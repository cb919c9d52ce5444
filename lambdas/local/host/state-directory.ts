// Local engine, host (start-up): checks the data directory before the store opens it. The engine
// keeps every grant and credential there, so it refuses to start on a directory it cannot write
// (it would serve and lose what it issued) or one a newer engine wrote (it may misread it), and
// says when it starts on a new, empty directory (a moved or mistyped --data-dir looks like that).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

/** The data directory's format marker: which layout of the store and its files the directory holds. */
export const STATE_FORMAT_FILE = 'state-format.json';

/**
 * Bumped when a change to the store's tables, items or files means an older engine would misread
 * them. 1: the layout of sessions 6-9 (everything in the embedded store's tables), first marked in session 9.
 */
export const STATE_FORMAT = 1;

/** Files only the engines before session 6 wrote: their event bus and Secrets Manager kept journals. */
const JOURNAL_FILES = ['event-bus.jsonl', 'secrets-manager.jsonl'] as const;

const markerSchema = z.object({ format: z.number().int().min(1) });

/** A data directory the engine will not start on; `message` says why and what to do. */
export class StateDirectoryError extends Error {
  override readonly name = 'StateDirectoryError';
}

/** What the directory held when the engine started. */
export type StateDirectoryOrigin =
  /** It did not exist, or was empty: the engine starts with no grants. */
  | 'new'
  /** Written by an engine of this format. */
  | 'current'
  /** Written by an engine of sessions 6-8, before the marker: the same layout, now marked. */
  | 'unmarked'
  /** Written by an engine before session 6: its journals are not read; see `warnings`. */
  | 'journal';

export interface StateDirectory {
  readonly origin: StateDirectoryOrigin;
  /** What a user should know about the directory, one sentence each. */
  readonly warnings: readonly string[];
}

/**
 * Creates the directory if missing (mode 0700), proves it writable, and reads its format marker.
 * Throws {@link StateDirectoryError} on a directory it cannot write or one of a newer or unknown format.
 * Call {@link markStateFormat} once the store has opened it.
 */
export async function inspectStateDirectory(dataDir: string): Promise<StateDirectory> {
  await ensureDirectory(dataDir);
  const entries = await readdir(dataDir);
  await assertWritable(dataDir);
  if (entries.includes('dynamodb')) await assertWritable(join(dataDir, 'dynamodb'));
  if (entries.includes(STATE_FORMAT_FILE)) {
    const format = await readFormat(join(dataDir, STATE_FORMAT_FILE));
    if (format > STATE_FORMAT) {
      throw new StateDirectoryError(
        `the data directory ${dataDir} was written by a newer Taskbound engine (state format ${format}; this one reads up to ${STATE_FORMAT}): ` +
          'run that version, or choose another directory with --data-dir',
      );
    }
    return { origin: 'current', warnings: [] };
  }
  const journals = JOURNAL_FILES.filter((file) => entries.includes(file));
  if (journals.length > 0) {
    return {
      origin: 'journal',
      warnings: [
        `${dataDir} was written by an engine older than session 6 (${journals.join(', ')}): ` +
          'events and deliveries in those files are not read; a live grant whose delivery was there is revoked at start',
      ],
    };
  }
  // Only the engine's own files (no store yet) count as new: a start that failed before the store opened leaves them.
  return { origin: entries.includes('dynamodb') ? 'unmarked' : 'new', warnings: [] };
}

/** Records this engine's format in the directory, once the store has opened it (so a second engine refused there writes nothing). */
export async function markStateFormat(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, STATE_FORMAT_FILE), `${JSON.stringify({ format: STATE_FORMAT })}\n`, { mode: 0o600 });
}

async function ensureDirectory(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    // mkdir says EEXIST for a file (or a file on the way) where the directory should be: say that.
    const why = codeOf(error) === 'EEXIST' ? 'a file is in the way' : codeOf(error);
    throw new StateDirectoryError(`the data directory ${dataDir} cannot be created (${why}): choose another with --data-dir`, {
      cause: error,
    });
  }
}

/** Writes and removes a file: the only test that holds for root, read-only mounts and ACLs alike. */
async function assertWritable(directory: string): Promise<void> {
  const probe = join(directory, `.write-probe-${process.pid}`);
  try {
    await writeFile(probe, 'taskbound', { mode: 0o600 });
    await rm(probe, { force: true });
  } catch (error) {
    throw new StateDirectoryError(
      `the data directory ${directory} is not writable (${codeOf(error)}): the engine keeps every grant there and will not serve ` +
        'without saving them; make it writable, or choose another with --data-dir',
      { cause: error },
    );
  }
}

async function readFormat(file: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const marker = markerSchema.safeParse(parsed);
  if (!marker.success) {
    throw new StateDirectoryError(`${file} is not a Taskbound state format marker ({"format": <n>}): it was not written by this engine`);
  }
  return marker.data.format;
}

function codeOf(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : String(error);
}
