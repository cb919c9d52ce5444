// Test helpers (e2e): the local engine as a real child process (`bin/local-engine.ts`), so a
// test can `kill -9` it and start it again on the same data directory and port.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '../..');
const ENGINE_ENTRY = resolve(REPO_ROOT, 'bin/local-engine.ts');
const EXAMPLE_POLICY = resolve(REPO_ROOT, 'examples/taskbound.policy.yaml');
const OUTPUT_KEPT_CHARS = 4_000;

export interface EngineProcessOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly policyFile?: string;
  /** Seconds between sweeps; long by default, so only the engine's timers revoke on time. */
  readonly sweepIntervalSeconds?: number;
  readonly readyTimeoutMs?: number;
  /** Runs the engine's clock this far ahead of real time (the engine's test-only flag). */
  readonly clockOffsetMs?: number;
  /** Runs the engine as this user (root only may): how a test as root meets a directory it may not write. */
  readonly uid?: number;
}

export interface EngineProcess {
  readonly url: string;
  readonly pid: number;
  /** The tail of what the engine printed, for failure messages. */
  output(): string;
  /** `kill -9`: no shutdown hook runs. Resolves once the process is gone. Call it in afterAll. */
  kill(): Promise<void>;
}

/** A loopback port nobody listens on right now. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', done);
  });
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/**
 * Starts `bin/local-engine.ts` in its own Node process (tsx as an import hook, not the tsx
 * CLI, so that the child's pid is the engine's and SIGKILL reaches it) and resolves once
 * `GET /healthz` answers 200.
 */
export async function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  const { engine, ready } = spawnEngineProcess(options);
  await ready;
  return engine;
}

/**
 * Starts the engine without waiting for it: `engine` can be killed while it starts (its recovery,
 * its first sweep); `ready` resolves once `GET /healthz` answers 200 (and kills it if it never does).
 */
export function spawnEngineProcess(options: EngineProcessOptions): { engine: EngineProcess; ready: Promise<void> } {
  const child = spawnEngine(options);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const engine: EngineProcess = {
    url: `http://127.0.0.1:${options.port}`,
    pid: child.pid ?? -1,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  const ready = waitUntilHealthy(engine.url, exited, options.readyTimeoutMs ?? 45_000).catch(async (error: unknown) => {
    await engine.kill();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- engine output ---\n${output}`, { cause: error });
  });
  return { engine, ready };
}

function spawnEngine(options: EngineProcessOptions) {
  const { SLACK_WEBHOOK_URL: _slack, PORT: _port, ...env } = process.env;
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ENGINE_ENTRY,
      ...['--data-dir', options.dataDir],
      ...['--port', String(options.port)],
      ...['--policy', options.policyFile ?? EXAMPLE_POLICY],
      ...['--sweep-interval', String(options.sweepIntervalSeconds ?? 3600)],
      ...(options.clockOffsetMs ? ['--test-clock-offset-ms', String(options.clockOffsetMs)] : []),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
    },
  );
}

/** Starts the engine expecting it to refuse to start: resolves with its exit code and what it printed (killed after `timeoutMs`). */
export async function engineRefusal(options: EngineProcessOptions, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawnEngine(options);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)));
  clearTimeout(timer);
  return { code, output };
}

async function waitUntilHealthy(url: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error('the engine exited before it was ready');
    try {
      const answer = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (answer.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the engine was not ready within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}
