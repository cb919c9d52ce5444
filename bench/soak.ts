// Bench entry (`npm run bench:soak -- --minutes 10`): the soak. The engine runs as its own
// process with faults on (AWS's quotas emulated at a fraction, IAM eventual consistency on
// access keys and session denies), busy runtimes drive it (leaks, a kill switch suspending and
// resuming an agent), and its memory is sampled every few seconds. Then the load stops, the
// engine settles, and the same checks as the crash test run. Writes bench/results/soak.json.
// Flags: --minutes 10, --runtimes 8, --sample-seconds 5, --seed N, --out FILE, --heap-snapshots DIR (two engine heap snapshots).
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { parseArgs } = await import('node:util');
const { mkdir, writeFile } = await import('node:fs/promises');
const { dirname, join } = await import('node:path');
const { runSoak } = await import('./soak-run');
const { describeMachine } = await import('./report');

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    runtimes: { type: 'string', default: '8' },
    'sample-seconds': { type: 'string', default: '5' },
    seed: { type: 'string' },
    'heap-snapshots': { type: 'string' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'soak.json') },
  },
  strict: true,
});
const positive = (name: string, text: string | undefined): number => {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--${name} must be a positive number, not ${text}`);
  return value;
};
const machine = describeMachine();
const result = await runSoak({
  minutes: positive('minutes', values.minutes),
  runtimes: Math.round(positive('runtimes', values.runtimes)),
  sampleSeconds: positive('sample-seconds', values['sample-seconds']),
  seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Math.floor(positive('seed', values.seed)),
  ...(values['heap-snapshots'] ? { heapSnapshotDir: values['heap-snapshots'] } : {}),
  log: (line) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`),
});
const { samples, ...summary } = result;
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify({ ...summary, machine, samples }, null, 2)}\n`);
console.log(JSON.stringify({ ...summary, machine }, null, 2));
console.log(`\nwrote ${values.out}`);
process.exitCode = result.healthy ? 0 : 1;
