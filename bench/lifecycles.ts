// Bench: full task lifecycles against the local engine over loopback HTTP, N at a time:
// Task Started → poll the delivery → use the credential → Task Ended → probe until refused.
import { BenchDriver, SESSION_SCOPE } from './driver';
import { usageBetween, type EngineProcess } from './engine-process';
import { realSleep } from '../lambdas/adapters/sleep';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Grant } from '../lambdas/domain/grant';
import { LOCAL_TABLE } from '../lambdas/local/engine';
import { localClientConfig } from '../lambdas/local/sdk-clients';

export interface LifecycleRunOptions {
  readonly concurrency: number;
  readonly warmupLifecycles: number;
  readonly lifecycles: number;
  /** Stops starting new lifecycles after this long, whatever the count. */
  readonly maxDurationMs: number;
  /** How long each task holds its credential (its work) before Task Ended; 0: a closed loop with no work. */
  readonly taskMs?: number;
  /**
   * Probe a revoked credential with a doubling interval (10, 20, 40 … 160 ms) instead of every
   * 10 ms: for the throughput run, where the probes are not the figure and would eat the capacity being measured.
   */
  readonly probeBackoff?: boolean;
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
  /** ms from PutEvents(Task Ended) answering to the first refused GetCallerIdentity answering. */
  readonly revocationLatenciesMs: readonly number[];
  readonly rejectionCodes: Readonly<Record<string, number>>;
  /** Per session: ms from the revocation's write to the engine's first refused canary call (the audit's `propagationMs`). */
  readonly sessionDenyPropagationsMs: readonly number[];
  /** Medians of each step, ms. */
  readonly phaseSamplesMs: Readonly<Record<Phase, readonly number[]>>;
}

type Phase = 'startTask' | 'untilIssued' | 'use' | 'endTask' | 'untilRejected';

interface OneLifecycle {
  readonly revocationMs: number;
  readonly code: string;
  readonly polls: number;
  readonly probes: number;
  readonly phases: Readonly<Record<Phase, number>>;
}

async function runOne(driver: BenchDriver, taskId: string, taskMs: number, probeBackoff: boolean): Promise<OneLifecycle> {
  const t0 = performance.now();
  await driver.startTask(taskId, SESSION_SCOPE);
  const t1 = performance.now();
  const { delivery, polls } = await driver.waitForIssued(taskId);
  const t2 = performance.now();
  const sts = driver.clientFor(delivery);
  const use = await driver.probe(sts);
  if (!use.ok) throw new Error(`a fresh credential was refused (${use.code})`);
  if (taskMs > 0) await realSleep(taskMs);
  const t3 = performance.now();
  await driver.endTask(taskId);
  const t4 = performance.now();
  const rejected = await driver.waitUntilRejected(sts, 30_000, probeBackoff);
  const t5 = performance.now();
  return {
    revocationMs: t5 - t4,
    code: rejected.code,
    polls,
    probes: rejected.probes,
    phases: { startTask: t1 - t0, untilIssued: t2 - t1, use: t3 - t2 - taskMs, endTask: t4 - t3, untilRejected: t5 - t4 },
  };
}

/** Runs `count` lifecycles on `concurrency` workers; a failed lifecycle is counted, not retried. */
async function runBatch(driver: BenchDriver, prefix: string, options: { concurrency: number; count: number; maxDurationMs: number; taskMs: number; probeBackoff: boolean }) {
  const results: OneLifecycle[] = [];
  const errors: string[] = [];
  const deadline = Date.now() + options.maxDurationMs;
  let next = 0;
  const worker = async () => {
    while (next < options.count && Date.now() < deadline) {
      const taskId = `${prefix}-${next++}`;
      try {
        results.push(await runOne(driver, taskId, options.taskMs, options.probeBackoff));
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { results, errors, durationMs: performance.now() - started };
}

export async function runLifecycles(engine: EngineProcess, options: LifecycleRunOptions): Promise<LifecycleRun> {
  const driver = new BenchDriver(engine.url);
  const run = `${Date.now().toString(36)}`;
  try {
    const taskMs = options.taskMs ?? 0;
    const probeBackoff = options.probeBackoff ?? false;
    await runBatch(driver, `warm-${run}`, { concurrency: options.concurrency, count: options.warmupLifecycles, maxDurationMs: options.maxDurationMs, taskMs, probeBackoff });
    const before = await engine.settled();
    const driverBefore = driver.calls.calls;
    const batch = await runBatch(driver, `life-${run}`, { concurrency: options.concurrency, count: options.lifecycles, maxDurationMs: options.maxDurationMs, taskMs, probeBackoff });
    // Verification finishes after the runtime saw the refusal: its calls belong to these lifecycles.
    const used = usageBetween(before, await engine.settled());
    const driverCalls = driver.calls.calls - driverBefore;
    const sessionDenyPropagationsMs = await propagationsOf(engine.url, `life-${run}`);

    for (const message of new Set(batch.errors)) console.error(`  lifecycle failed: ${message}`);
    const lifecycles = batch.results.length;
    const rejectionCodes: Record<string, number> = {};
    for (const result of batch.results) rejectionCodes[result.code] = (rejectionCodes[result.code] ?? 0) + 1;
    const phase = (name: Phase) => batch.results.map((result) => result.phases[name]);
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
      rejectionProbes: batch.results.reduce((sum, result) => sum + result.probes, 0),
      revocationLatenciesMs: batch.results.map((result) => result.revocationMs),
      rejectionCodes,
      sessionDenyPropagationsMs,
      phaseSamplesMs: { startTask: phase('startTask'), untilIssued: phase('untilIssued'), use: phase('use'), endTask: phase('endTask'), untilRejected: phase('untilRejected') },
    };
  } finally {
    driver.close();
  }
}

/** The propagation times the engine recorded when it verified the run's sessions dead (read from its table, as the CLI does). */
async function propagationsOf(engineUrl: string, taskPrefix: string): Promise<number[]> {
  const dynamo = new DynamoDBClient(localClientConfig(engineUrl));
  const documents = DynamoDBDocumentClient.from(dynamo);
  const found: number[] = [];
  try {
    for await (const page of paginateScan({ client: documents }, { TableName: LOCAL_TABLE })) {
      for (const grant of (page.Items ?? []) as Partial<Grant>[]) {
        if (grant.state !== 'verified' || grant.credentialKind !== 'aws-sts-session' || !grant.taskId?.startsWith(taskPrefix)) continue;
        const propagationMs = grant.audit?.find((entry) => entry.action === 'verified')?.detail?.propagationMs;
        if (typeof propagationMs === 'number') found.push(propagationMs);
      }
    }
  } finally {
    dynamo.destroy();
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
