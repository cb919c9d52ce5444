import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineRefusal, freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';
import { STATE_FORMAT, STATE_FORMAT_FILE } from '../../lambdas/local/host/state-directory';

describe('starting a second local engine where one already runs', () => {
  let dataDir: string;
  let otherDataDir: string;
  let port: number;
  let running: EngineProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-refusals-'));
    otherDataDir = await mkdtemp(join(tmpdir(), 'taskbound-refusals-other-'));
    port = await freeLoopbackPort();
    running = await startEngineProcess({ dataDir, port });
  }, 60_000);

  afterAll(async () => {
    await running.kill();
    await rm(dataDir, { recursive: true, force: true });
    await rm(otherDataDir, { recursive: true, force: true });
  });

  it('stops at once on a data directory in use, saying another engine may hold it', async () => {
    const second = await engineRefusal({ dataDir, port: await freeLoopbackPort() });

    expect(second.code).toBe(1);
    expect(second.output).toMatch(/is another Taskbound engine using this data directory\?/);
  }, 60_000);

  it('stops at once on a port in use, saying how to choose another', async () => {
    const second = await engineRefusal({ dataDir: otherDataDir, port });

    expect(second.code).toBe(1);
    expect(second.output).toMatch(/EADDRINUSE.*choose one with --port or PORT/);
  }, 60_000);

  it('leaves the running engine serving', async () => {
    const answer = await fetch(`${running.url}/healthz`);

    expect(answer.status).toBe(200);
  });
});

// A user the directory's permissions bind: this one, or (for a test run as root, whom permissions do
// not bind) `nobody`, owning the directory as a user would own theirs.
const NOBODY = 65_534;

describe('starting the local engine on a data directory it must not use', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'taskbound-state-dirs-'));
    await chmod(root, 0o755);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A data directory an engine has written, then made read-only (as a read-only mount or a chmod leaves it). */
  async function readOnlyDataDir(): Promise<{ dataDir: string; uid?: number }> {
    const dataDir = join(root, 'read-only');
    const first = await startEngineProcess({ dataDir, port: await freeLoopbackPort() });
    await first.kill();
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chownTree(dataDir, NOBODY);
    await chmodTree(dataDir, 0o500, 0o400);
    return { dataDir, ...(asRoot ? { uid: NOBODY } : {}) };
  }

  it('refuses a read-only data directory, saying so, instead of serving and losing what it issues', async () => {
    const { dataDir, uid } = await readOnlyDataDir();

    const refusal = await engineRefusal({ dataDir, port: await freeLoopbackPort(), ...(uid !== undefined ? { uid } : {}) });

    expect(refusal.code).toBe(1);
    expect(refusal.output).toMatch(
      /the data directory .*read-only is not writable \((EACCES|EROFS|EPERM)\).*choose another with --data-dir/,
    );
    expect(refusal.output).not.toMatch(/another Taskbound engine/);
  }, 90_000);

  it('refuses a data directory a newer engine wrote, and leaves it as it was', async () => {
    const dataDir = join(root, 'newer');
    await mkdir(dataDir);
    await writeFile(join(dataDir, STATE_FORMAT_FILE), JSON.stringify({ format: STATE_FORMAT + 1 }));

    const refusal = await engineRefusal({ dataDir, port: await freeLoopbackPort() });

    expect(refusal.code).toBe(1);
    expect(refusal.output).toMatch(/written by a newer Taskbound engine/);
    expect(await readdir(dataDir)).toEqual([STATE_FORMAT_FILE]);
  }, 60_000);

  it('says when it starts on a new, empty directory (a moved or mistyped --data-dir), and not when it resumes one', async () => {
    const dataDir = join(root, 'fresh', 'nested');
    const port = await freeLoopbackPort();

    const first = await startEngineProcess({ dataDir, port });
    await first.kill();
    const again = await startEngineProcess({ dataDir, port });
    await again.kill();

    expect(first.output()).toMatch(/state in .*nested \(new and empty: no grants from an earlier run/);
    expect(again.output()).toMatch(/state in .*nested\n/);
    expect(JSON.parse(await readFile(join(dataDir, STATE_FORMAT_FILE), 'utf8'))).toEqual({ format: STATE_FORMAT });
  }, 90_000);
});

async function chownTree(path: string, uid: number): Promise<void> {
  await chown(path, uid, uid);
  if ((await stat(path)).isDirectory()) for (const entry of await readdir(path)) await chownTree(join(path, entry), uid);
}

async function chmodTree(path: string, directoryMode: number, fileMode: number): Promise<void> {
  const directory = (await stat(path)).isDirectory();
  if (directory) for (const entry of await readdir(path)) await chmodTree(join(path, entry), directoryMode, fileMode);
  await chmod(path, directory ? directoryMode : fileMode);
}
