// Bench (soak): the run behind `npm run bench:soak`. Engine process with faults on, busy
// runtimes for `minutes`, the engine's memory sampled from its /healthz, then settle and check.
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
/** A flat heap: the post-GC floor grows by less than this per minute (least squares over the run after its first window). */
export const FLAT_HEAP_MIB_PER_MINUTE = 0.5;
const MIB = 1024 * 1024;

export interface SoakOptions {
  readonly minutes: number;
  readonly runtimes: number;
  readonly sampleSeconds: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface MemorySample {
  readonly atSeconds: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly tasksEnded: number;
}

export interface SoakResult {
  readonly seed: number;
  readonly minutes: number;
  readonly runtimes: number;
  readonly faults: typeof SOAK_FAULTS & { readonly leakShare: number; readonly suspensionEveryMs: number };
  readonly tasks: Record<string, number>;
  readonly lifecyclesPerSecond: number;
  readonly memory: {
    /** Post-GC heap floor (the lowest heapUsed in each window), MiB, in the window after warm-up and the last. */
    readonly heapFloorStartMiB: number;
    readonly heapFloorEndMiB: number;
    readonly heapFloorSlopeMiBPerMinute: number;
    readonly rssStartMiB: number;
    readonly rssEndMiB: number;
    readonly rssMaxMiB: number;
    readonly windowSeconds: number;
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
  const flags = ['--quota-scale', String(SOAK_FAULTS.quotaScale), '--iam-lag', String(SOAK_FAULTS.iamLagMs), '--deny-lag', String(SOAK_FAULTS.denyLagMs)];
  const engine = await startEngineProcess(SOAK_POLICY_FILE, SWEEP_INTERVAL_SECONDS, flags);
  const leakShare = 0.05;
  const suspensionEveryMs = 10_000;
  try {
    const resume = async (agentId: string) => {
      const answer = await taskbound(engine.url, 'resume', agentId, '--as', 'lead@example.com', '--data-dir', engine.dataDir, '--reason', 'soak: drill over');
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
    const started = Date.now();
    const endAt = started + options.minutes * 60_000;
    const samples: MemorySample[] = [];
    load.start();
    while (Date.now() < endAt) {
      await sleep(Math.min(options.sampleSeconds * 1000, Math.max(0, endAt - Date.now())));
      const memory = await readMemory(engine.url);
      if (!memory) continue;
      samples.push({ atSeconds: Math.round((Date.now() - started) / 100) / 10, ...memory, tasksEnded: load.ledger.counts.ended });
      if (samples.length % 12 === 0) options.log(`${samples.at(-1)?.atSeconds} s: ${load.ledger.counts.ended} tasks ended, heap ${memory.heapUsedMiB} MiB, rss ${memory.rssMiB} MiB`);
    }
    const loadSeconds = (Date.now() - started) / 1000;
    options.log('stopping the load; settling');
    await load.stop();
    const check = await settleAndCheck({ endpoint: engine.url, ledger: load.ledger, settleTimeoutMs: 90_000 });
    const memory = analyseMemory(samples, options.minutes);
    const { lostGrants, liveCredentials, deliveriesHoldingCredentials, ...settled } = check;
    return {
      seed: options.seed,
      minutes: options.minutes,
      runtimes: options.runtimes,
      faults: { ...SOAK_FAULTS, leakShare, suspensionEveryMs },
      tasks: { ...load.ledger.counts },
      lifecyclesPerSecond: Math.round((load.ledger.counts.ended / loadSeconds) * 10) / 10,
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

async function readMemory(url: string): Promise<{ rssMiB: number; heapUsedMiB: number } | undefined> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    const health = (await response.json()) as { memory?: { rssBytes: number; heapUsedBytes: number } };
    if (!health.memory) return undefined;
    return { rssMiB: round(health.memory.rssBytes / MIB), heapUsedMiB: round(health.memory.heapUsedBytes / MIB) };
  } catch {
    return undefined;
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

/**
 * V8 collects when it likes, so a single heap reading says little; the lowest reading in a
 * window is close to what survived the last collection in it (the live set). The slope of
 * those floors, fitted by least squares over the run after its first window (start-up fills
 * caches and compiles code), says whether the live set grows.
 */
export function analyseMemory(samples: readonly MemorySample[], minutes: number): SoakResult['memory'] {
  const windowSeconds = Math.max(10, Math.round((minutes * 60) / 10));
  const windows = new Map<number, MemorySample[]>();
  for (const sample of samples) {
    const index = Math.floor(sample.atSeconds / windowSeconds);
    windows.set(index, [...(windows.get(index) ?? []), sample]);
  }
  const floors = [...windows.entries()]
    .sort(([a], [b]) => a - b)
    .slice(1)
    .map(([index, inWindow]) => ({ minute: ((index + 0.5) * windowSeconds) / 60, heap: Math.min(...inWindow.map((sample) => sample.heapUsedMiB)) }));
  const slope = leastSquaresSlope(floors.map((floor) => [floor.minute, floor.heap]));
  const rss = samples.map((sample) => sample.rssMiB);
  return {
    heapFloorStartMiB: floors[0]?.heap ?? Number.NaN,
    heapFloorEndMiB: floors.at(-1)?.heap ?? Number.NaN,
    heapFloorSlopeMiBPerMinute: Math.round(slope * 100) / 100,
    rssStartMiB: rss[0] ?? Number.NaN,
    rssEndMiB: rss.at(-1) ?? Number.NaN,
    rssMaxMiB: rss.length > 0 ? Math.max(...rss) : Number.NaN,
    windowSeconds,
    flat: floors.length >= 2 && slope < FLAT_HEAP_MIB_PER_MINUTE,
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
