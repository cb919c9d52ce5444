// Bench: the local engine as its own process, started as `npm start` starts it
// (`bin/local-engine.ts`), so the load generator's CPU is not the engine's. Its CPU time and
// SDK calls are read from `GET /healthz`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { realSleep as sleep } from '../lambdas/adapters/sleep';

const REPO_ROOT = resolve(import.meta.dirname, '..');

export interface EngineUsage {
  /** User + system CPU time the engine process has used, ms. */
  readonly cpuMs: number;
  readonly sdkCalls: number;
  readonly sdkCallsByOperation: Readonly<Record<string, number>>;
  /** Events on its bus not yet handled by every rule: its backlog. */
  readonly pendingEvents: number;
}

export interface EngineProcess {
  readonly url: string;
  readonly pid: number;
  /** Its data directory (removed by `stop`). */
  readonly dataDir: string;
  usage(): Promise<EngineUsage>;
  /** Resolves once the engine has made no SDK call for `quietMs`: what it was doing is done. */
  settled(quietMs?: number): Promise<EngineUsage>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** What the soak and the CPU comparison add to the engine process. */
export interface EngineProcessExtras {
  /** The checkout whose `bin/local-engine.ts` runs (`npm run bench:cpu` compares two); this one by default. */
  readonly root?: string;
  /** Passed to `bin/local-engine.ts` as they are (the soak's `--iam-lag`, `--quota-scale`). */
  readonly engineFlags?: readonly string[];
  /** Passed to Node before the entry point (the soak's `--expose-gc` and its memory probe). */
  readonly nodeFlags?: readonly string[];
  /** Each line the engine prints on stdout (ignored when absent). */
  readonly onLine?: (line: string) => void;
}

/** Starts the engine on a fresh data directory with `policyFile`; sweeps are off unless asked for. */
export async function startEngineProcess(
  policyFile: string,
  sweepIntervalSeconds = 3600,
  extras: EngineProcessExtras = {},
): Promise<EngineProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'taskbound-bench-'));
  // tsx as an import hook (not its CLI), so the child's pid is the engine's own.
  const child = spawn(
    process.execPath,
    [
      ...(extras.nodeFlags ?? []),
      ...['--import', 'tsx', 'bin/local-engine.ts', '--port', String(port), '--data-dir', dataDir, '--policy', policyFile],
      ...['--sweep-interval', String(sweepIntervalSeconds), ...(extras.engineFlags ?? [])],
    ],
    {
      cwd: extras.root ?? REPO_ROOT,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN', SLACK_WEBHOOK_URL: '' },
      stdio: ['ignore', extras.onLine ? 'pipe' : 'ignore', 'inherit'],
    },
  );
  const onLine = extras.onLine;
  if (onLine && child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  const usage = async (): Promise<EngineUsage> => {
    const response = await fetch(`${url}/healthz`);
    if (response.status !== 200) throw new Error(`engine not ready (${response.status})`);
    const health = (await response.json()) as Omit<EngineUsage, 'pendingEvents'> & Partial<Pick<EngineUsage, 'pendingEvents'>>;
    return {
      cpuMs: health.cpuMs,
      sdkCalls: health.sdkCalls,
      sdkCallsByOperation: health.sdkCallsByOperation,
      // An older checkout (bench:cpu) may not report its backlog.
      pendingEvents: health.pendingEvents ?? 0,
    };
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the engine at ${extras.root ?? REPO_ROOT} exited (${child.exitCode}) before it was ready`);
    if (
      await usage().then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error('the engine was not ready within 60 s');
    await sleep(100);
  }
  return {
    url,
    pid: child.pid ?? -1,
    dataDir,
    usage,
    async settled(quietMs = 300) {
      let last = await usage();
      for (;;) {
        await sleep(quietMs);
        const now = await usage();
        if (now.sdkCalls === last.sdkCalls) return now;
        last = now;
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls of one run: the difference between two readings. */
export function usageBetween(before: EngineUsage, after: EngineUsage): EngineUsage {
  const byOperation: Record<string, number> = {};
  for (const [operation, count] of Object.entries(after.sdkCallsByOperation)) {
    const delta = count - (before.sdkCallsByOperation[operation] ?? 0);
    if (delta > 0) byOperation[operation] = delta;
  }
  return {
    cpuMs: after.cpuMs - before.cpuMs,
    sdkCalls: after.sdkCalls - before.sdkCalls,
    sdkCallsByOperation: byOperation,
    pendingEvents: after.pendingEvents,
  };
}
