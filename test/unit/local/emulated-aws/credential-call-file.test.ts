import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CALL_FILE, CredentialCallFile, type KeptCall } from '../../../../lambdas/local/emulated-aws/credential-call-file';

const KEY = 'ASIALOCALKEY00000001';
const OTHER = 'AKIALOCALKEY00000002';
const call = (atMs: number, extra: Partial<KeptCall> = {}): KeptCall => ({
  atMs,
  service: 'sts',
  operation: 'GetCallerIdentity',
  status: 200,
  ...extra,
});

describe('the credential call log on disk', () => {
  let dataDir: string;
  const errors: unknown[] = [];
  // Every log a test opens is closed after it: a file handle left to the garbage collector is deprecated (DEP0137).
  const opened: CredentialCallFile[] = [];
  const open = (options: { maxBytes?: number; path?: string } = {}) => {
    const calls = new CredentialCallFile({
      path: options.path ?? join(dataDir, CALL_FILE),
      onWriteError: (error) => errors.push(error),
      flushAfterMs: 10,
      ...options,
    });
    opened.push(calls);
    return calls;
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-calls-'));
    errors.length = 0;
  });
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((calls) => calls.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads back one credential’s calls, oldest first, including those not yet written', async () => {
    const calls = open();
    calls.add(KEY, call(1));
    calls.add(OTHER, call(2));
    calls.add(KEY, call(3, { status: 403, errorCode: 'InvalidClientTokenId' }));

    expect(await calls.read(KEY, 500)).toEqual([call(1), call(3, { status: 403, errorCode: 'InvalidClientTokenId' })]);
    expect(await calls.read(OTHER, 500)).toEqual([call(2)]);
    expect(await calls.read('AKIANEVERUSED0000000', 500)).toEqual([]);
  });

  it('keeps the calls across a restart, in a file only its owner can read, and gives only the newest asked for', async () => {
    const first = open();
    for (let at = 1; at <= 4; at++) first.add(KEY, call(at));
    await first.close();

    const second = open();

    expect(await second.read(KEY, 2)).toEqual([call(3), call(4)]);
    expect((await stat(join(dataDir, CALL_FILE))).mode & 0o777).toBe(0o600);
  });

  it('writes the calls of a batch together, a moment after the first, without being asked', async () => {
    const calls = open();
    calls.add(KEY, call(1));
    calls.add(KEY, call(2));

    await new Promise((resolve) => setTimeout(resolve, 100));

    expect((await stat(join(dataDir, CALL_FILE))).size).toBeGreaterThan(0);
    expect(await open().read(KEY, 500)).toEqual([call(1), call(2)]);
  });

  it('sets a full file aside as .1 and drops the one set aside before, so the disk holds at most two', async () => {
    const calls = open({ maxBytes: 300 });
    for (let at = 1; at <= 12; at++) {
      calls.add(KEY, call(at));
      await calls.close();
    }

    const kept = (await calls.read(KEY, 500)).map((kept) => kept.atMs);

    expect(await readdir(dataDir)).toEqual([CALL_FILE, `${CALL_FILE}.1`]);
    expect(kept.length).toBeLessThan(12);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, index) => 12 - kept.length + 1 + index));
  });

  it('reports a write that fails, keeps its calls readable, and writes them once it can', async () => {
    const directory = join(dataDir, 'not-yet');
    const calls = open({ path: join(directory, CALL_FILE) });
    calls.add(KEY, call(1));

    await expect(calls.close()).rejects.toThrow(/ENOENT/);
    expect(await calls.read(KEY, 500)).toEqual([call(1)]);
    expect(errors).toHaveLength(1);

    await mkdir(directory);
    await calls.close();

    expect(await open({ path: join(directory, CALL_FILE) }).read(KEY, 500)).toEqual([call(1)]);
  });
});
