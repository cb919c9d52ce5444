import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  inspectStateDirectory,
  markStateFormat,
  STATE_FORMAT,
  STATE_FORMAT_FILE,
  StateDirectoryError,
} from '../../../../lambdas/local/host/state-directory';

describe('the local engine data directory check', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'taskbound-state-dir-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a missing directory and calls it new', async () => {
    const dataDir = join(root, 'moved-away', '.taskbound');

    const state = await inspectStateDirectory(dataDir);

    expect(state).toEqual({ origin: 'new', warnings: [] });
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('calls a directory its own format marked current, once the store opened it', async () => {
    await mkdir(join(root, 'dynamodb'));
    await markStateFormat(root);

    const state = await inspectStateDirectory(root);

    expect(state.origin).toBe('current');
    expect(JSON.parse(await readFile(join(root, STATE_FORMAT_FILE), 'utf8'))).toEqual({ format: STATE_FORMAT });
  });

  it('loads a store written before the marker existed as the same layout', async () => {
    await mkdir(join(root, 'dynamodb'));

    expect(await inspectStateDirectory(root)).toEqual({ origin: 'unmarked', warnings: [] });
  });

  it('warns that the journals of an engine older than session 6 are not read', async () => {
    await mkdir(join(root, 'dynamodb'));
    await writeFile(join(root, 'event-bus.jsonl'), '');
    await writeFile(join(root, 'secrets-manager.jsonl'), '');

    const state = await inspectStateDirectory(root);

    expect(state.origin).toBe('journal');
    expect(state.warnings).toEqual([
      expect.stringMatching(/older than session 6 \(event-bus.jsonl, secrets-manager.jsonl\).*revoked at start/),
    ]);
  });

  it('refuses a directory a newer engine wrote, naming both formats', async () => {
    await writeFile(join(root, STATE_FORMAT_FILE), JSON.stringify({ format: STATE_FORMAT + 1 }));

    const inspected = inspectStateDirectory(root);

    await expect(inspected).rejects.toThrow(StateDirectoryError);
    await expect(inspected).rejects.toThrow(
      `newer Taskbound engine (state format ${STATE_FORMAT + 1}; this one reads up to ${STATE_FORMAT})`,
    );
  });

  it.each(['not json', '{}', '{"format":"1"}', '{"format":0}'])('refuses a marker it cannot read: %s', async (marker) => {
    await writeFile(join(root, STATE_FORMAT_FILE), marker);

    await expect(inspectStateDirectory(root)).rejects.toThrow(/is not a Taskbound state format marker/);
  });

  it('refuses a path that is a file, saying it cannot be created', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, '');

    await expect(inspectStateDirectory(file)).rejects.toThrow(/cannot be created \(a file is in the way\).*--data-dir/);
  });

  it('leaves no probe file behind', async () => {
    await inspectStateDirectory(root);

    expect(await readdir(root)).toEqual([]);
  });
});
