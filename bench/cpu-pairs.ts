// Bench (`npm run bench:cpu`): the engine's CPU per lifecycle, compared between checkouts under one
// load generator. This checkout's bench drives each checkout's `bin/local-engine.ts` in its own
// process, with the latency run's settings (20 runtimes, 1 s tasks). On a shared machine the load
// changes from minute to minute, so the checkouts are measured as alternated pairs (A, B, A, B …)
// or, with `--together`, at the same time (each under the other's load: the same conditions).
// `--prof DIR` writes each engine's .cpuprofile (main thread in CPU.*.0.001.cpuprofile). The throughput run's
// conditions (the useful share's figure): `--concurrency 100 --task-ms 0 --probe-backoff`.
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEngineProcess } from './engine-process';
import { runLifecycles, type LifecycleRun } from './lifecycles';
import { median } from './percentiles';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HERE = resolve(import.meta.dirname, '..');
const POLICY = join(HERE, 'bench', 'bench.policy.yaml');

/**
 * CPU ms of each thread of `pid` (Linux /proc; empty elsewhere): the main thread, V8's workers, libuv's pool.
 * The main thread's kernel share is also given on its own (`main-sys`): loopback HTTP's system calls are charged there.
 */
function threadCpu(pid: number): Map<string, number> {
  const byThread = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      // utime and stime, in clock ticks of 10 ms.
      const [user, system] = [Number(fields[11]) * 10, Number(fields[12]) * 10];
      byThread.set(tid === String(pid) ? 'main' : tid, user + system);
      if (tid === String(pid)) byThread.set('main-sys', system);
    }
  } catch {
    // Not Linux, or the process ended: no breakdown.
  }
  return byThread;
}

const { values } = parseArgs({
  options: {
    roots: { type: 'string', default: HERE },
    rounds: { type: 'string', default: '3' },
    lifecycles: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '20' },
    'task-ms': { type: 'string', default: '1000' },
    together: { type: 'boolean', default: false },
    /** The throughput run's probing (benchmark.ts): a revoked credential probed at 10, 20, 40 … 160 ms, not every 10 ms. */
    'probe-backoff': { type: 'boolean', default: false },
    /** Node flags for each checkout in turn (`--node-flags=--no-opt`), e.g. the same checkout twice with and without. */
    'node-flags': { type: 'string', multiple: true, default: [] },
    prof: { type: 'string' },
  },
});
const roots = (values.roots ?? HERE).split(',').map((root) => resolve(root));
const concurrency = Number(values.concurrency);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** One measured run of the engine at `root`: its line of the report. */
async function measure(root: string, label: string, nodeFlags: readonly string[]): Promise<string> {
  const loadBefore = load();
  const profile = values.prof ? ['--cpu-prof', '--cpu-prof-dir', join(values.prof, label.replace(/\D+/g, '-').replace(/^-/, ''))] : [];
  const engine = await startEngineProcess(POLICY, 3600, { root, nodeFlags: [...profile, ...nodeFlags] });
  try {
    const threadsBefore = threadCpu(engine.pid);
    const run: LifecycleRun = await runLifecycles(engine, {
      concurrency,
      warmupLifecycles: concurrency,
      lifecycles: Number(values.lifecycles),
      maxDurationMs: 300_000,
      taskMs: Number(values['task-ms']),
      probeBackoff: values['probe-backoff'],
    });
    const started = run.lifecycles + concurrency;
    const threads = [...threadCpu(engine.pid)]
      .map(([thread, ms]) => [thread, (ms - (threadsBefore.get(thread) ?? 0)) / started] as const)
      .filter(([, ms]) => ms >= 0.05)
      .sort((a, b) => b[1] - a[1]);
    const per = (value: number) => (value / run.lifecycles).toFixed(2);
    return [
      `${label} ${root}`,
      `load ${loadBefore} → ${load()}`,
      `${run.lifecycles} lifecycles (${run.failures} failed) in ${(run.durationMs / 1000).toFixed(1)} s: ${((1000 * run.lifecycles) / run.durationMs).toFixed(1)}/s`,
      `CPU ${per(run.engineCpuMs)} ms/lifecycle`,
      `engine SDK calls ${per(run.engineTrackedCalls)}, delivery reads ${per(run.deliveryPolls)}, probes ${per(run.rejectionProbes)}`,
      `to a credential p50 ${median(run.phaseSamplesMs.untilIssued).toFixed(0)} ms, to dead p50 ${median(run.revocationLatenciesMs).toFixed(0)} ms`,
      `threads ms/lifecycle (warm-up included): ${threads.map(([thread, ms]) => `${thread} ${ms.toFixed(1)}`).join(', ')}`,
    ].join(' | ');
  } finally {
    await engine.stop();
  }
}

for (let round = 0; round < Number(values.rounds); round += 1) {
  const label = (index: number) => `round ${round} checkout ${index}`;
  const flags = (index: number) => (values['node-flags'][index] ?? '').split(' ').filter(Boolean);
  if (values.together) {
    for (const line of await Promise.all(roots.map((root, index) => measure(root, label(index), flags(index))))) console.log(line);
  } else {
    for (const [index, root] of roots.entries()) console.log(await measure(root, label(index), flags(index)));
  }
}
