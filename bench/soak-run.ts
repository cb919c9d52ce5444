// Bench (soak): the run behind `npm run bench:soak`. Engine process with faults on, busy
// runtimes for `minutes`, the heap after a full GC sampled in the engine process, then settle and check.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { realSleep as sleep } from '../lambdas/adapters/sleep';
import { startEngineProcess } from './engine-process';
import { BusyRuntimes, seededRandom } from './soak-runtimes';
import { settleAndCheck, settledCleanly, taskbound, type SettledCheck } from './soak-checks';

const SOAK_POLICY_FILE = join(import.meta.dirname, 'soak.policy.yaml');
/**
 * The faults: AWS's request quotas at a tenth (CreateSecret and friends at 5/s, which this
 * load exceeds, so the engine is throttled and retries), a deleted access key working 1.5 s
 * and a revoked session 0.5 s more (the engine's probes see them alive and the sweep retries).
 */
export const SOAK_FAULTS = { quotaScale: 0.1, iamLagMs: 1_500, denyLagMs: 500 } as const;
const SWEEP_INTERVAL_SECONDS = 5;
/** A flat heap: the heap after a full collection grows by less than this per minute (least squares, after the warm-up). */
export const FLAT_HEAP_MIB_PER_MINUTE = 0.25;
/** The engine's heap probe, preloaded into its process (it forces the collections it measures after). */
const HEAP_PROBE = join(import.meta.dirname, 'soak-heap-probe.mjs');
const MIB = 1024 * 1024;

export interface SoakOptions {
  readonly minutes: number;
  readonly runtimes: number;
  readonly sampleSeconds: number;
  readonly seed: number;
  readonly log: (line: string) => void;
  /**
   * Where to write heap snapshots of the engine (`node --heapsnapshot-signal`), for `bench/soak-heap-diff.ts`
   * to compare: when the warm-up ends, when the load stops, and once the engine has settled (what the
   * load left behind, without its requests in flight). None when absent.
   */
  readonly heapSnapshotDir?: string;
}

export interface MemorySample {
  readonly atSeconds: number;
  readonly rssMiB: number;
  /** Heap in use right after a full collection: what the engine keeps alive. */
  readonly heapAfterGcMiB: number;
  readonly tasksEnded: number;
  /** Events on the engine's bus not yet handled (its backlog): memory that grows with it is queued work, not a leak. */
  readonly pendingEvents?: number;
}

export interface SoakResult {
  readonly seed: number;
  readonly minutes: number;
  readonly runtimes: number;
  readonly faults: typeof SOAK_FAULTS & { readonly leakShare: number; readonly suspensionEveryMs: number };
  readonly tasks: Record<string, number>;
  readonly lifecyclesPerSecond: number;
  readonly memory: {
    /** Mean heap after a full collection, MiB, over the first window after the warm-up and over the last window. */
    readonly heapAfterGcStartMiB: number;
    readonly heapAfterGcEndMiB: number;
    /** Least-squares slope of the heap after a full collection, over every sample after the warm-up. */
    readonly heapAfterGcSlopeMiBPerMinute: number;
    /** Heap growth per task ended, KiB (slope ÷ task rate): what a leak would cost per lifecycle. */
    readonly heapAfterGcKiBPerTask: number;
    readonly rssStartMiB: number;
    readonly rssEndMiB: number;
    readonly rssMaxMiB: number;
    readonly warmupSeconds: number;
    readonly windowSeconds: number;
    /** The most events the engine had pending in a sample after the warm-up, and in the last sample: its backlog. */
    readonly pendingEventsMax: number;
    readonly pendingEventsEnd: number;
    readonly flat: boolean;
  };
  readonly lostGrants: number;
  readonly liveCredentialsLeft: number;
  readonly deliveriesHoldingCredentials: number;
  readonly settled: Omit<SettledCheck, 'lostGrants' | 'liveCredentials' | 'deliveriesHoldingCredentials'>;
  readonly healthy: boolean;
  readonly samples: readonly MemorySample[];
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const engineFlags = [
    '--quota-scale',
    String(SOAK_FAULTS.quotaScale),
    '--iam-lag',
    String(SOAK_FAULTS.iamLagMs),
    '--deny-lag',
    String(SOAK_FAULTS.denyLagMs),
    // The heap probe reads the engine thread's heap; the store on that thread too puts dynalite's
    // memory (where the iterator leak was) in what it measures. The store's own thread has a heap apart.
    '--store-thread',
    'shared',
  ];
  process.env.TASKBOUND_SOAK_SAMPLE_MS = String(options.sampleSeconds * 1000);
  const samples: MemorySample[] = [];
  let started = Date.now();
  let tasksEnded = () => 0;
  let backlog: () => Promise<number | undefined> = async () => undefined;
  const onLine = (line: string) => {
    if (!line.startsWith('soak-memory ')) return;
    const memory = JSON.parse(line.slice('soak-memory '.length)) as { heapAfterGcBytes: number; rssBytes: number };
    const sample = {
      atSeconds: round((Date.now() - started) / 1000),
      rssMiB: round(memory.rssBytes / MIB),
      heapAfterGcMiB: round(memory.heapAfterGcBytes / MIB),
      tasksEnded: tasksEnded(),
    };
    void backlog().then(
      (pendingEvents) => samples.push({ ...sample, ...(pendingEvents === undefined ? {} : { pendingEvents }) }),
      () => samples.push(sample),
    );
  };
  if (options.heapSnapshotDir) await mkdir(options.heapSnapshotDir, { recursive: true });
  const snapshotFlags = options.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshotDir}`] : [];
  const nodeFlags = ['--expose-gc', ...snapshotFlags, '--import', HEAP_PROBE];
  const engine = await startEngineProcess(SOAK_POLICY_FILE, SWEEP_INTERVAL_SECONDS, { engineFlags, nodeFlags, onLine });
  backlog = async () => (await engine.usage()).pendingEvents;
  let snapshots = 0;
  /** Signals the engine to write a snapshot; resolves once it is written (the engine answers again). */
  const snapshot = async (when: string) => {
    const dir = options.heapSnapshotDir;
    if (!dir) return;
    options.log(`heap snapshot (${when}) into ${dir}`);
    process.kill(engine.pid, 'SIGUSR2');
    snapshots++;
    while ((await readdir(dir)).filter((name) => name.endsWith('.heapsnapshot')).length < snapshots) await sleep(100);
    await engine.usage();
  };
  const leakShare = 0.05;
  const suspensionEveryMs = 10_000;
  try {
    const resume = async (agentId: string) => {
      const answer = await taskbound(
        engine.url,
        'resume',
        agentId,
        '--as',
        'lead@example.com',
        '--data-dir',
        engine.dataDir,
        '--reason',
        'soak: drill over',
      );
      if (answer.code !== 0) throw new Error(`resume failed (${answer.code}): ${answer.stderr.slice(0, 300)}`);
    };
    const load = new BusyRuntimes({
      endpoint: engine.url,
      runtimes: options.runtimes,
      random: seededRandom(options.seed),
      taskPrefix: `soak-${options.seed}`,
      leakShare,
      resume,
      suspensionEveryMs,
      deliveryTimeoutMs: 30_000,
    });
    options.log(`seed ${options.seed}: ${options.runtimes} runtimes for ${options.minutes} min, faults ${JSON.stringify(SOAK_FAULTS)}`);
    samples.length = 0;
    started = Date.now();
    tasksEnded = () => load.ledger.counts.ended;
    const endAt = started + options.minutes * 60_000;
    const warmupEndsAt = started + warmupSeconds(options.minutes * 60) * 1000;
    load.start();
    while (Date.now() < endAt) {
      const wakeAt = Math.min(endAt, Date.now() + 60_000, warmupEndsAt > Date.now() ? warmupEndsAt : Number.POSITIVE_INFINITY);
      await sleep(Math.max(0, wakeAt - Date.now()));
      if (wakeAt === warmupEndsAt) await snapshot('the warm-up is over');
      const last = samples.at(-1);
      if (last)
        options.log(
          `${last.atSeconds} s: ${last.tasksEnded} tasks ended, heap after GC ${last.heapAfterGcMiB} MiB, rss ${last.rssMiB} MiB, ${last.pendingEvents} events pending`,
        );
    }
    const loadSeconds = (Date.now() - started) / 1000;
    const underLoad = samples.filter((sample) => sample.atSeconds <= loadSeconds);
    await snapshot('the load stops');
    options.log('stopping the load; settling');
    await load.stop();
    const check = await settleAndCheck({ endpoint: engine.url, dataDir: engine.dataDir, ledger: load.ledger, settleTimeoutMs: 90_000 });
    await snapshot('the engine has settled');
    const memory = analyseMemory(underLoad, loadSeconds, load.ledger.counts.ended / loadSeconds);
    const { lostGrants, liveCredentials, deliveriesHoldingCredentials, ...settled } = check;
    return {
      seed: options.seed,
      minutes: options.minutes,
      runtimes: options.runtimes,
      faults: { ...SOAK_FAULTS, leakShare, suspensionEveryMs },
      tasks: { ...load.ledger.counts },
      lifecyclesPerSecond: round(load.ledger.counts.ended / loadSeconds),
      memory,
      lostGrants: lostGrants.length,
      liveCredentialsLeft: liveCredentials.length,
      deliveriesHoldingCredentials: deliveriesHoldingCredentials.length,
      settled,
      healthy: settledCleanly(check) && memory.flat,
      samples,
    };
  } finally {
    await engine.stop();
  }
}

const round = (value: number) => Math.round(value * 100) / 100;
const mean = (values: readonly number[]) =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

/** The first tenth of the run, at least 30 s: code compiles, caches and connection pools fill. */
const warmupSeconds = (loadSeconds: number) => Math.max(30, loadSeconds / 10);

/**
 * The first tenth of the run (at least 30 s) is warm-up: code compiles, caches and connection
 * pools fill. After it, the heap that survives a full collection should not trend upward: the
 * least-squares slope over every sample says whether it does, and the means of the first and
 * last windows (a tenth of the run each) say by how much.
 */
export function analyseMemory(samples: readonly MemorySample[], loadSeconds: number, tasksPerSecond: number): SoakResult['memory'] {
  const warmup = warmupSeconds(loadSeconds);
  const windowSeconds = Math.max(10, loadSeconds / 10);
  const steady = samples.filter((sample) => sample.atSeconds >= warmup);
  const first = steady.filter((sample) => sample.atSeconds < warmup + windowSeconds);
  const last = steady.filter((sample) => sample.atSeconds > loadSeconds - windowSeconds);
  const slope = leastSquaresSlope(steady.map((sample) => [sample.atSeconds / 60, sample.heapAfterGcMiB]));
  const rss = samples.map((sample) => sample.rssMiB);
  return {
    heapAfterGcStartMiB: round(mean(first.map((sample) => sample.heapAfterGcMiB))),
    heapAfterGcEndMiB: round(mean(last.map((sample) => sample.heapAfterGcMiB))),
    heapAfterGcSlopeMiBPerMinute: round(slope),
    heapAfterGcKiBPerTask: round((slope * 1024) / 60 / Math.max(tasksPerSecond, Number.MIN_VALUE)),
    rssStartMiB: rss[0] ?? Number.NaN,
    rssEndMiB: rss.at(-1) ?? Number.NaN,
    rssMaxMiB: rss.length > 0 ? Math.max(...rss) : Number.NaN,
    warmupSeconds: round(warmup),
    windowSeconds: round(windowSeconds),
    pendingEventsMax: Math.max(0, ...steady.map((sample) => sample.pendingEvents ?? 0)),
    pendingEventsEnd: samples.at(-1)?.pendingEvents ?? Number.NaN,
    flat: steady.length >= 3 && slope < FLAT_HEAP_MIB_PER_MINUTE,
  };
}

function leastSquaresSlope(points: readonly (readonly [number, number])[]): number {
  if (points.length < 2) return Number.NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return variance === 0 ? Number.NaN : covariance / variance;
}
