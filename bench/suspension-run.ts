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

const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '1000' },
    /** Writes a CPU profile of the engine's main thread from the suspension to quiet, in DIR. */
    prof: { type: 'string' },
    /** Another checkout whose engine (`bin/local-engine.ts`) this load generator drives: before/after pairs. */
    root: { type: 'string' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'suspension1000.json') },
  },
  strict: true,
});
const grants = Number(values.grants);
if (!Number.isInteger(grants) || grants < 1) throw new Error(`--grants must be a positive integer, not ${values.grants}`);
const machine = describeMachine();
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
  const suspension1000 = await measureSuspension(engine, grants, { opened: signalProbe, closed: signalProbe });
  const result = { suspension1000, target: { allDeadMs: 5000, allVerifiedMs: 5000, met: suspensionTargetMet(suspension1000) }, machine };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  if (values.prof) await profileOnDisk;
} finally {
  await engine.stop();
}
