// Bench entry (`npm run bench:latency`): time-to-credential and time-to-dead alone, as `npm run bench`
// measures them (20 runtimes, 1 s tasks, the engine as its own process), with where the time went:
// the spans of each lifecycle (lifecycle-spans.ts) and what the engine process saw of itself
// (latency-probe.mjs: event-loop delay and use, GC, each request's time by operation). Writes
// bench/results/latency.json (or --out).
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { parseArgs } = await import('node:util');
const { mkdir, writeFile } = await import('node:fs/promises');
const { dirname, join } = await import('node:path');
const { startEngineProcess } = await import('./engine-process');
const { runLifecycles } = await import('./lifecycles');
const { describeMachine } = await import('./report');
const { machineCpuMs } = await import('./machine-cpu');
const { ascending, nearestRank, round2 } = await import('./percentiles');

const { values } = parseArgs({
  options: {
    runtimes: { type: 'string', default: '20' },
    'task-ms': { type: 'string', default: '1000' },
    lifecycles: { type: 'string', default: '200' },
    // Lifecycles before the measured ones (default: one per runtime): a longer warm-up lets V8 finish optimising.
    warmup: { type: 'string' },
    'max-seconds': { type: 'string', default: '30' },
    lockstep: { type: 'boolean', default: false },
    wait: { type: 'string', default: 'default' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'latency.json') },
    // Each lifecycle's timeline and the engine's timestamped GC pauses, stalls and calls, to FILE (JSON).
    detail: { type: 'string' },
    // A V8 or Node flag for the engine process only (repeatable), e.g. --engine-node-flag=--max-semi-space-size=32.
    'engine-node-flag': { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});
const positive = (name: keyof typeof values, min = 1) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${values[name]}`);
  return value;
};
const runtimes = positive('runtimes');
const taskMs = positive('task-ms', 0);
const waits = ['default', 'learnt', 'when-slow'] as const;
const wait = waits.find((known) => known === values.wait);
if (wait === undefined) throw new Error(`--wait is ${waits.join(', ')}, not ${values.wait}`);
const machine = describeMachine();

const probeLines: string[] = [];
let waiting: ((line: string) => void) | undefined;
// The engine's other stdout lines (e.g. V8's --trace-opt with --engine-node-flag), timestamped, written with --detail.
const traceOut: string[] | undefined = values.detail ? [] : undefined;
const eventsFile = values.detail ? `${values.detail}.events.jsonl` : undefined;
if (eventsFile) {
  await writeFile(eventsFile, '');
  process.env.LATENCY_PROBE_EVENTS = eventsFile;
}
const engine = await startEngineProcess(join(import.meta.dirname, 'bench.policy.yaml'), 3600, {
  nodeFlags: [...(values['engine-node-flag'] ?? []), '--import', './bench/latency-probe.mjs'],
  onLine: (line) => {
    if (traceOut && !line.startsWith('latency-probe ')) traceOut.push(`${Date.now()} ${line}`);
    if (!line.startsWith('latency-probe ')) return;
    probeLines.push(line);
    waiting?.(line);
  },
});
/** Asks the probe for what it saw since it was last asked. */
const askProbe = () =>
  new Promise<Record<string, unknown>>((resolve) => {
    waiting = (line) => resolve(JSON.parse(line.slice('latency-probe '.length)) as Record<string, unknown>);
    process.kill(engine.pid, 'SIGUSR2');
  });
try {
  let engineProcess: Record<string, unknown> = {};
  const machineCpu: Partial<Record<'start' | 'end', { machine: { busyMs: number; idleMs: number }; loadGenerator: NodeJS.CpuUsage }>> = {};
  const run = await runLifecycles(engine, {
    concurrency: runtimes,
    warmupLifecycles: values.warmup === undefined ? runtimes : positive('warmup', 0),
    lifecycles: positive('lifecycles'),
    maxDurationMs: positive('max-seconds') * 1000,
    taskMs,
    lockstep: values.lockstep === true,
    wait,
    onMeasured: async (moment) => {
      const seen = await askProbe();
      if (moment === 'end') engineProcess = seen;
      machineCpu[moment] = { machine: await machineCpuMs(), loadGenerator: process.cpuUsage() };
    },
  });
  const p = (samples: readonly number[]) => {
    const sorted = ascending(samples);
    return {
      p50: round2(nearestRank(sorted, 50)),
      p90: round2(nearestRank(sorted, 90)),
      p99: round2(nearestRank(sorted, 99)),
      max: round2(sorted.at(-1) ?? Number.NaN),
    };
  };
  const result = {
    runtimes,
    taskMs,
    lockstep: values.lockstep === true,
    wait,
    lifecycles: run.lifecycles,
    failures: run.failures,
    lifecyclesPerSecond: round2(run.lifecyclesPerSecond),
    timeToCredentialMs: p(run.phaseSamplesMs.untilIssued),
    timeToDeadMs: p(run.revocationLatenciesMs),
    deliveryReadsPerLifecycle: round2(run.deliveryPolls / Math.max(1, run.lifecycles)),
    runtimeCallsPerLifecycle: round2(run.runtimeCalls / Math.max(1, run.lifecycles)),
    engineCpuMsPerLifecycle: round2(run.engineCpuMs / Math.max(1, run.lifecycles)),
    engineCallsPerLifecycle: round2(run.engineTrackedCalls / Math.max(1, run.lifecycles)),
    spans: run.spans,
    engineProcess,
    issuanceSamplesMs: run.issuanceSamplesMs,
    machine,
    cpuDuringMeasuredRun: cpuShares(machineCpu, engineProcess),
    loadAverage1mAtEnd: round2((await import('node:os')).loadavg()[0] ?? 0),
  };
  if (values.detail) await writeDetail(values.detail, run.lifecycleDetail, eventsFile);
  if (values.detail && traceOut?.length) await writeFile(`${values.detail}.stdout.txt`, `${traceOut.join('\n')}\n`);
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await engine.stop();
}

/** The lifecycles and the engine's events (the probe's JSON lines), in one file. */
async function writeDetail(file: string, lifecycles: readonly unknown[], eventsFrom: string | undefined) {
  const { readFile } = await import('node:fs/promises');
  const lines = eventsFrom ? (await readFile(eventsFrom, 'utf8')).split('\n').filter(Boolean) : [];
  await writeFile(file, JSON.stringify({ lifecycles, engineEvents: lines.map((line) => JSON.parse(line) as unknown) }));
}

/**
 * Whose CPU the measured run's time went to: the machine's busy time, the engine's threads (the probe's
 * schedstat), this load generator's, and the rest: other processes on the shared machine.
 */
function cpuShares(
  cpu: Partial<Record<'start' | 'end', { machine: { busyMs: number; idleMs: number }; loadGenerator: NodeJS.CpuUsage }>>,
  engineProcess: Record<string, unknown>,
) {
  if (!cpu.start || !cpu.end) return undefined;
  const machineBusyMs = cpu.end.machine.busyMs - cpu.start.machine.busyMs;
  const machineIdleMs = cpu.end.machine.idleMs - cpu.start.machine.idleMs;
  const threads = (engineProcess.threadsMs ?? []) as { runMs: number }[];
  const engineMs = threads.reduce((sum, thread) => sum + thread.runMs, 0);
  const generator =
    (cpu.end.loadGenerator.user + cpu.end.loadGenerator.system - cpu.start.loadGenerator.user - cpu.start.loadGenerator.system) / 1000;
  return {
    machineBusyMs,
    machineIdleMs,
    engineMs: Math.round(engineMs),
    loadGeneratorMs: Math.round(generator),
    otherProcessesMs: Math.round(machineBusyMs - engineMs - generator),
  };
}
