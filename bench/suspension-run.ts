// Bench entry (`npm run bench:suspension -- --grants 1000`): the kill-switch figure alone (it is
// also a step of `npm run bench`, as `suspension1000`). Writes bench/results/suspension1000.json.
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { parseArgs } = await import('node:util');
const { mkdir, writeFile } = await import('node:fs/promises');
const { dirname, join, resolve } = await import('node:path');
const { startEngineProcess } = await import('./engine-process');
const { measureSuspension, suspensionTargetMet } = await import('./suspension');
const { describeMachine } = await import('./report');
const { runLifecycles } = await import('./lifecycles');

const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '1000' },
    /** Writes a CPU profile of the engine's main thread from the suspension to quiet, in DIR. */
    prof: { type: 'string' },
    /** Another checkout whose engine (`bin/local-engine.ts`) this load generator drives: before/after pairs. */
    root: { type: 'string' },
    /**
     * Lifecycles of bench-bot run first, 100 runtimes at once (the full bench's throughput run), to tell
     * what the earlier phases of `npm run bench` leave behind: `--preload-on other` (the default, as
     * `npm run bench` does) on an engine process of their own, stopped before the suspension's starts;
     * `--preload-on same` on the suspension's engine (its store then holds that many closed grants of the agent).
     */
    preload: { type: 'string', default: '0' },
    'preload-on': { type: 'string', default: 'other' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'suspension1000.json') },
  },
  strict: true,
});
const grants = Number(values.grants);
if (!Number.isInteger(grants) || grants < 1) throw new Error(`--grants must be a positive integer, not ${values.grants}`);
const preload = Number(values.preload);
if (!Number.isInteger(preload) || preload < 0) throw new Error(`--preload must be a whole number, not ${values.preload}`);
const preloadOn = values['preload-on'];
if (preloadOn !== 'other' && preloadOn !== 'same') throw new Error(`--preload-on must be other or same, not ${preloadOn}`);
const machine = describeMachine();
const PRELOAD_RUNTIMES = 100;
const runPreload = async (on: Awaited<ReturnType<typeof startEngineProcess>>) => {
  const run = await runLifecycles(on, {
    concurrency: PRELOAD_RUNTIMES,
    warmupLifecycles: PRELOAD_RUNTIMES,
    lifecycles: preload,
    maxDurationMs: 600_000,
    probeBackoff: true,
  });
  console.error(
    `preload: ${run.lifecycles} lifecycles (${run.failures} failed) in ${Math.round(run.durationMs)} ms on the ${preloadOn} engine`,
  );
  return { lifecycles: run.lifecycles + PRELOAD_RUNTIMES, failures: run.failures, on: preloadOn };
};
let preloaded: Awaited<ReturnType<typeof runPreload>> | undefined;
if (preload > 0 && preloadOn === 'other') {
  const other = await startEngineProcess(
    join(import.meta.dirname, 'bench.policy.yaml'),
    3600,
    values.root ? { root: resolve(values.root) } : {},
  );
  try {
    preloaded = await runPreload(other);
  } finally {
    await other.stop();
  }
}
let profileWritten = () => {};
const profileOnDisk = new Promise<void>((done) => (profileWritten = done));
const profiled = values.prof
  ? {
      nodeFlags: ['--import', './bench/cpu-window-probe.mjs'],
      onLine: (line: string) => {
        if (!line.startsWith('cpu-window-probe wrote')) return;
        console.error(line);
        profileWritten();
      },
    }
  : {};
if (values.prof) process.env.TASKBOUND_CPU_PROFILE_DIR = resolve(values.prof);
const engine = await startEngineProcess(join(import.meta.dirname, 'bench.policy.yaml'), 3600, {
  ...profiled,
  ...(values.root ? { root: resolve(values.root) } : {}),
});
const signalProbe = () => void (values.prof && process.kill(engine.pid, 'SIGUSR2'));
try {
  if (preload > 0 && preloadOn === 'same') preloaded = await runPreload(engine);
  const suspension1000 = await measureSuspension(engine, grants, { opened: signalProbe, closed: signalProbe });
  const result = {
    suspension1000,
    ...(preloaded ? { preloaded } : {}),
    target: { allDeadMs: 5000, allVerifiedMs: 5000, met: suspensionTargetMet(suspension1000) },
    machine,
  };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  if (values.prof) await profileOnDisk;
} finally {
  await engine.stop();
}
