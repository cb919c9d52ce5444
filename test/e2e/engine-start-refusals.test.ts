import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
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

/** `bin/local-engine.ts ARGV` with `env` added, expected to stop before it serves: its exit code and what it printed. */
async function engineStartRefusal(
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const { PORT: _port, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '../../bin/local-engine.ts'), ...argv], {
    cwd: resolve(__dirname, '../..'),
    env: { ...inherited, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)));
  clearTimeout(timer);
  return { code, output };
}

describe('starting the local engine with bad flags or a policy file it cannot read', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-bad-start-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a PORT out of range as a bad flag, without a stack trace', async () => {
    const refusal = await engineStartRefusal(['--data-dir', dataDir], { PORT: '99999' });

    expect(refusal.code).toBe(1);
    expect(refusal.output).toMatch(/option '--port <port>' value '99999' from env 'PORT' is invalid\. a port is 0-65535/);
    expect(refusal.output).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('refuses an interval or a lag that is not a number, naming the flag', async () => {
    const sweep = await engineStartRefusal(['--data-dir', dataDir, '--sweep-interval', 'abc']);
    const lag = await engineStartRefusal(['--data-dir', dataDir, '--iam-lag', '5s']);

    expect(sweep.output).toMatch(/option '--sweep-interval <seconds>' argument 'abc' is invalid\. a number of seconds, 0 or more/);
    expect(lag.output).toMatch(/option '--iam-lag <ms>' argument '5s' is invalid/);
    expect(`${sweep.output}${lag.output}`).not.toMatch(/invalid local engine settings/);
  }, 60_000);

  it('shows the intervals’ defaults in seconds, as their flags take them', async () => {
    const help = await engineStartRefusal(['--help']);

    expect(help.code).toBe(0);
    expect(help.output).toMatch(/--sweep-interval <seconds> .*\(default: 30\)/);
    expect(help.output).toMatch(/--due-interval <seconds> .*\(default: 60\)/);
  }, 60_000);

  it('refuses an invalid policy file naming the path of each problem, and says how to see their lines (exit 2)', async () => {
    const file = join(dataDir, 'typo.policy.yaml');
    await writeFile(
      file,
      (await readFile(resolve(__dirname, '../../examples/taskbound.policy.yaml'), 'utf8')).replace('version: 1', 'version: 2'),
    );

    const refusal = await engineStartRefusal(['--data-dir', dataDir, '--policy', file]);

    expect(refusal.code).toBe(2);
    expect(refusal.output).toContain(`${file}: invalid policy\n  - version: Invalid input: expected 1`);
    expect(refusal.output).toContain(`(run \`npm run -s taskbound -- policy check ${file}\` for the line of each)`);
  }, 60_000);

  it('says which policy file it cannot read and how to name another (exit 2)', async () => {
    const missing = await engineStartRefusal(['--data-dir', dataDir, '--policy', join(dataDir, 'nope.yaml')]);
    const directory = await engineStartRefusal(['--data-dir', dataDir, '--policy', dataDir]);

    expect(missing.code).toBe(2);
    expect(missing.output).toContain(`${join(dataDir, 'nope.yaml')}: cannot read the policy file (ENOENT); pass one with --policy FILE`);
    expect(directory.code).toBe(2);
    expect(directory.output).toContain(`${dataDir}: cannot read the policy file (EISDIR)`);
  }, 60_000);
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

    // /healthz can answer before the banner reaches this process: each is killed once its banner is in.
    const first = await startEngineProcess({ dataDir, port });
    await expect.poll(first.output, { timeout: 20_000 }).toMatch(/decide as one of them/);
    await first.kill();
    const again = await startEngineProcess({ dataDir, port });
    await expect.poll(again.output, { timeout: 20_000 }).toMatch(/state in .*nested\n/);
    await again.kill();

    expect(first.output()).toMatch(/state in .*nested \(new and empty: no grants from an earlier run/);
    expect(first.output()).toContain(
      `decide as one of them: npm run -s taskbound -- --endpoint http://127.0.0.1:${port} approve <grantId> --as lead@example.com --data-dir ${dataDir} --reason`,
    );
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
