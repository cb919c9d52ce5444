// Bench: full task lifecycles against the local engine over loopback HTTP, N at a time:
// Task Started → poll the delivery → use the credential → Task Ended → probe until refused.
import { BenchDriver, epochMs, SESSION_SCOPE, type BenchWait } from './driver';
import { round2 } from './percentiles';
import { grantsOf, spanSamples, summariseSpans, type RuntimeTimeline } from './lifecycle-spans';
import { usageBetween, type EngineProcess } from './engine-process';
import { realSleep } from '../lambdas/adapters/sleep';
import type { Grant } from '../lambdas/domain/grant';

export interface LifecycleRunOptions {
  readonly concurrency: number;
  readonly warmupLifecycles: number;
  readonly lifecycles: number;
  /** Stops starting new lifecycles after this long, whatever the count. */
  readonly maxDurationMs: number;
  /** How long each task holds its credential (its work) before Task Ended, on average; 0: a closed loop with no work. */
  readonly taskMs?: number;
  /**
   * With task time: every runtime starts at once and every task takes exactly `taskMs`, so the
   * runtimes stay in step and every `Task Started` of a round arrives in the same instant (a
   * fleet restarting together). Without it (the default), runtimes start spread over one task's
   * time and each task takes between half and one and a half `taskMs` (uniformly): independent
   * runtimes, as a user's are.
   */
  readonly lockstep?: boolean;
  /**
   * Probe a revoked credential with a doubling interval (10, 20, 40 … 160 ms) instead of every
   * 10 ms: for the throughput run, where the probes are not the figure and would eat the capacity being measured.
   */
  readonly probeBackoff?: boolean;
  /** The SDK's wait (driver.ts `BenchWait`). */
  readonly wait?: BenchWait;
  /** Told when the measured lifecycles (after the warm-up) begin, and when they are over and settled. */
  readonly onMeasured?: (moment: 'start' | 'end') => Promise<void>;
}

export interface LifecycleRun {
  readonly lifecycles: number;
  readonly failures: number;
  readonly durationMs: number;
  readonly lifecyclesPerSecond: number;
  /** The engine's SDK calls in the measured run, by operation (read from its /healthz). */
  readonly engineCallsByOperation: Readonly<Record<string, number>>;
  /** Engine and runtime calls together. */
  readonly sdkCalls: number;
  /** Calls counted by the engine's own counter, and by the runtime's (the driver). */
  readonly engineTrackedCalls: number;
  readonly driverCalls: number;
  /** CPU time the engine process spent on the measured run, ms. */
  readonly engineCpuMs: number;
  readonly deliveryPolls: number;
  readonly rejectionProbes: number;
  /** The runtime's own calls (both PutEvents, the reads alone or batched, the use): the driver's without the bench's refusal probes. */
  readonly runtimeCalls: number;
  /** ms from PutEvents(Task Ended) answering to the first refused GetCallerIdentity answering. */
  readonly revocationLatenciesMs: readonly number[];
  readonly rejectionCodes: Readonly<Record<string, number>>;
  /** Per session: ms from the revocation's write to the engine's first refused canary call (the audit's `propagationMs`). */
  readonly sessionDenyPropagationsMs: readonly number[];
  /** Medians of each step, ms. */
  readonly phaseSamplesMs: Readonly<Record<Phase, readonly number[]>>;
  /** Where time-to-credential and time-to-dead went, span by span (lifecycle-spans.ts). */
  readonly spans: ReturnType<typeof summariseSpans>;
  /** Each lifecycle's issuance time (PutEvents answered → the delivery's version date), in the order the tasks started. */
  readonly issuanceSamplesMs: readonly number[];
  /** Each measured lifecycle as the runtime saw it, with its grant's audit times: to match late ones with the engine's events. */
  readonly lifecycleDetail: readonly LifecycleDetail[];
}

/** One lifecycle's runtime timeline and its grant's audit entries (action, epoch ms). */
export interface LifecycleDetail extends RuntimeTimeline {
  readonly audit: readonly { readonly action: string; readonly atMs: number }[];
}

type Phase = 'startTask' | 'untilIssued' | 'use' | 'endTask' | 'untilRejected';

interface OneLifecycle {
  readonly revocationMs: number;
  readonly code: string;
  readonly polls: number;
  readonly probes: number;
  readonly phases: Readonly<Record<Phase, number>>;
  readonly timeline: RuntimeTimeline;
}

async function runOne(driver: BenchDriver, taskId: string, taskMs: number, probeBackoff: boolean): Promise<OneLifecycle> {
  const t0 = performance.now();
  await driver.startTask(taskId, SESSION_SCOPE);
  const t1 = performance.now();
  const startAnsweredMs = epochMs();
  const { delivery, polls, reads, deliveredAtMs } = await driver.waitForIssued(taskId);
  const t2 = performance.now();
  const sts = driver.clientFor(delivery);
  const use = await driver.probe(sts);
  if (!use.ok) throw new Error(`a fresh credential was refused (${use.code})`);
  if (taskMs > 0) await realSleep(taskMs);
  const t3 = performance.now();
  await driver.endTask(taskId);
  const t4 = performance.now();
  const endAnsweredMs = epochMs();
  const rejected = await driver.waitUntilRejected(sts, 30_000, probeBackoff);
  const t5 = performance.now();
  const refusedMs = epochMs();
  return {
    timeline: {
      taskId,
      startAnsweredMs,
      reads,
      ...(deliveredAtMs !== undefined ? { deliveredAtMs } : {}),
      endAnsweredMs,
      ...(rejected.lastAcceptedSentMs !== undefined ? { lastAcceptedSentMs: rejected.lastAcceptedSentMs } : {}),
      refusedMs,
    },
    revocationMs: t5 - t4,
    code: rejected.code,
    polls,
    probes: rejected.probes,
    phases: { startTask: t1 - t0, untilIssued: t2 - t1, use: t3 - t2 - taskMs, endTask: t4 - t3, untilRejected: t5 - t4 },
  };
}

interface BatchOptions {
  readonly concurrency: number;
  readonly count: number;
  readonly maxDurationMs: number;
  readonly taskMs: number;
  readonly probeBackoff: boolean;
  readonly lockstep: boolean;
}

/** Runs `count` lifecycles on `concurrency` workers; a failed lifecycle is counted, not retried. */
async function runBatch(driver: BenchDriver, prefix: string, options: BatchOptions) {
  const results: OneLifecycle[] = [];
  const errors: string[] = [];
  const deadline = Date.now() + options.maxDurationMs;
  const independent = options.taskMs > 0 && !options.lockstep;
  const workTime = () => (independent ? options.taskMs * (0.5 + Math.random()) : options.taskMs);
  let next = 0;
  const worker = async (index: number) => {
    if (independent) await realSleep((index * options.taskMs) / options.concurrency);
    while (next < options.count && Date.now() < deadline) {
      const taskId = `${prefix}-${next++}`;
      try {
        results.push(await runOne(driver, taskId, workTime(), options.probeBackoff));
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  return { results, errors, durationMs: performance.now() - started };
}

export async function runLifecycles(engine: EngineProcess, options: LifecycleRunOptions): Promise<LifecycleRun> {
  const driver = new BenchDriver(engine.url, options.wait);
  const run = `${Date.now().toString(36)}`;
  try {
    const taskMs = options.taskMs ?? 0;
    const probeBackoff = options.probeBackoff ?? false;
    const lockstep = options.lockstep ?? false;
    await runBatch(driver, `warm-${run}`, {
      concurrency: options.concurrency,
      count: options.warmupLifecycles,
      maxDurationMs: options.maxDurationMs,
      taskMs,
      probeBackoff,
      lockstep,
    });
    const before = await engine.settled();
    const driverBefore = driver.calls.calls;
    await options.onMeasured?.('start');
    const batch = await runBatch(driver, `life-${run}`, {
      concurrency: options.concurrency,
      count: options.lifecycles,
      maxDurationMs: options.maxDurationMs,
      taskMs,
      probeBackoff,
      lockstep,
    });
    // Verification finishes after the runtime saw the refusal: its calls belong to these lifecycles.
    const used = usageBetween(before, await engine.settled());
    await options.onMeasured?.('end');
    const driverCalls = driver.calls.calls - driverBefore;
    const grants = await grantsOf(engine.url, `life-${run}`);
    const sessionDenyPropagationsMs = propagationsOf(grants.values());

    for (const message of new Set(batch.errors)) console.error(`  lifecycle failed: ${message}`);
    const lifecycles = batch.results.length;
    const rejectionCodes: Record<string, number> = {};
    for (const result of batch.results) rejectionCodes[result.code] = (rejectionCodes[result.code] ?? 0) + 1;
    const phase = (name: Phase) => batch.results.map((result) => result.phases[name]);
    const rejectionProbes = batch.results.reduce((sum, result) => sum + result.probes, 0);
    return {
      lifecycles,
      failures: batch.errors.length,
      durationMs: batch.durationMs,
      lifecyclesPerSecond: lifecycles / (batch.durationMs / 1000),
      engineCallsByOperation: used.sdkCallsByOperation,
      sdkCalls: used.sdkCalls + driverCalls,
      engineTrackedCalls: used.sdkCalls,
      driverCalls,
      // The settling wait is idle time: the engine's CPU counts only what it did.
      engineCpuMs: used.cpuMs,
      deliveryPolls: batch.results.reduce((sum, result) => sum + result.polls, 0),
      rejectionProbes,
      runtimeCalls: driverCalls - rejectionProbes,
      revocationLatenciesMs: batch.results.map((result) => result.revocationMs),
      rejectionCodes,
      sessionDenyPropagationsMs,
      phaseSamplesMs: {
        startTask: phase('startTask'),
        untilIssued: phase('untilIssued'),
        use: phase('use'),
        endTask: phase('endTask'),
        untilRejected: phase('untilRejected'),
      },
      spans: summariseSpans(
        spanSamples(
          batch.results.map((result) => result.timeline),
          grants,
        ),
      ),
      issuanceSamplesMs: issuanceSamplesOf(batch.results.map((result) => result.timeline)),
      lifecycleDetail: batch.results.map(({ timeline }) => ({
        ...timeline,
        audit: (grants.get(timeline.taskId)?.audit ?? []).map((entry) => ({ action: entry.action, atMs: Date.parse(entry.at) })),
      })),
    };
  } finally {
    driver.close();
  }
}

function issuanceSamplesOf(timelines: readonly RuntimeTimeline[]): number[] {
  return [...timelines]
    .sort((a, b) => a.startAnsweredMs - b.startAnsweredMs)
    .flatMap((timeline) => (timeline.deliveredAtMs === undefined ? [] : [round2(timeline.deliveredAtMs - timeline.startAnsweredMs)]));
}

/** The propagation times the engine recorded when it verified the run's sessions dead. */
function propagationsOf(grants: Iterable<Grant>): number[] {
  const found: number[] = [];
  for (const grant of grants) {
    if (grant.state !== 'verified' || grant.credentialKind !== 'aws-sts-session') continue;
    const propagationMs = grant.audit?.find((entry) => entry.action === 'verified')?.detail?.propagationMs;
    if (typeof propagationMs === 'number') found.push(propagationMs);
  }
  return found;
}

export interface PacedRevocationOptions {
  /** Tasks holding a credential at once. */
  readonly openTasks: number;
  /** One Task Ended every this many ms, so the process is not saturated by the runtime itself. */
  readonly endEveryMs: number;
}

/**
 * Revocation latency with `openTasks` tasks open but Task Ended arriving at a steady pace:
 * the engine's own latency, rather than the queue a saturated closed loop builds.
 */
export async function measurePacedRevocation(engine: EngineProcess, options: PacedRevocationOptions): Promise<readonly number[]> {
  const driver = new BenchDriver(engine.url);
  const run = `paced-${Date.now().toString(36)}`;
  try {
    const open: { taskId: string; sts: ReturnType<BenchDriver['clientFor']> }[] = [];
    let next = 0;
    const opener = async () => {
      while (next < options.openTasks) {
        const taskId = `${run}-${next++}`;
        await driver.startTask(taskId, SESSION_SCOPE);
        const { delivery } = await driver.waitForIssued(taskId);
        const sts = driver.clientFor(delivery);
        if (!(await driver.probe(sts)).ok) throw new Error('a fresh credential was refused');
        open.push({ taskId, sts });
      }
    };
    await Promise.all(Array.from({ length: 20 }, opener));
    await engine.settled();
    const latencies = open.map(async (task, index) => {
      await realSleep(index * options.endEveryMs);
      await driver.endTask(task.taskId);
      const ended = performance.now();
      await driver.waitUntilRejected(task.sts);
      return performance.now() - ended;
    });
    const samples = await Promise.all(latencies);
    await engine.settled();
    return samples;
  } finally {
    driver.close();
  }
}
