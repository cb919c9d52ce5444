// E2E test: a path typed through `npm --prefix <clone> run taskbound -- …` or `npm start -- …` is the
// caller's, not the clone's: npm runs the script in the package's root and names the caller's
// directory in INIT_CWD (cli/caller-path.ts). Defaults stay the clone's.
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from './engine-process';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
let caller: string;

beforeAll(async () => {
  caller = await mkdtemp(join(tmpdir(), 'taskbound-caller-'));
  await copyFile(join(REPO_ROOT, 'examples/taskbound.policy.yaml'), join(caller, 'mine.yaml'));
});
afterAll(() => rm(caller, { recursive: true, force: true }));

/** `npm --prefix <clone> run -s taskbound -- <argv>`, run from the caller's directory, as a user would from theirs. */
function npmTaskbound(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { INIT_CWD: _npmsOwn, ...env } = process.env;
  return new Promise((done) => {
    execFile(
      'npm',
      ['--prefix', REPO_ROOT, 'run', '-s', 'taskbound', '--', ...argv],
      { cwd: caller, env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('paths typed through npm', () => {
  it("reads `policy check FILE` from the caller's directory, and names the file as typed", async () => {
    const found = await npmTaskbound('policy', 'check', 'mine.yaml', '--json');
    expect(found.code, found.stderr).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ file: 'mine.yaml', valid: true });

    const missing = await npmTaskbound('policy', 'check', 'not-there.yaml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('not-there.yaml: cannot read the policy file (ENOENT)');
  }, 60_000);

  it("starts the engine on the caller's policy file and data directory (INIT_CWD as npm sets it)", async () => {
    const port = await freeLoopbackPort();
    const engine = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'bin/local-engine.ts'), '--policy', 'mine.yaml', '--data-dir', 'state', '--port', String(port)],
      { cwd: REPO_ROOT, env: { ...process.env, INIT_CWD: caller, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    let output = '';
    engine.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    engine.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    try {
      await expect.poll(() => output, { timeout: 45_000, interval: 200 }).toMatch(/state in .*\n/);
      expect(output).toContain(`state in ${join(caller, 'state')}`);
      expect((await stat(join(caller, 'state'))).isDirectory()).toBe(true);
      expect(output).toContain(`--data-dir ${join(caller, 'state')}`);
    } finally {
      engine.kill('SIGKILL');
    }
  }, 60_000);
});
