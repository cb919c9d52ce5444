// E2E test: `npm start` stops when its supervisor stops npm. npm passes SIGTERM to the shell that
// runs the script; without `exec` in the script, the shell died and left the engine running, still
// holding the port and the data directory (found by running it under a supervisor).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from './engine-process';

const REPO_ROOT = resolve(__dirname, '../..');

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((wake) => setTimeout(wake, 200));
  }
  return false;
}

describe('npm start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('stops the engine when npm itself is sent SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'taskbound-npm-start-'));
    dirs.push(dataDir);
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    // Its own process group, so a failure below can still stop everything it started.
    const npm = spawn('npm', ['start', '--', '--port', String(port), '--data-dir', dataDir], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    });
    try {
      expect(await until(() => answers(url), 60_000), 'the engine answers /healthz').toBe(true);

      process.kill(npm.pid!, 'SIGTERM');

      expect(await until(async () => !(await answers(url)), 15_000), 'the engine stops answering').toBe(true);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // Already gone: what the test wants.
      }
    }
  }, 90_000);
});
