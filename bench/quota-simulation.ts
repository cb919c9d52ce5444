// Bench: the quota simulation (`npm run bench:quota`). The local engine runs with its emulated
// Secrets Manager and EventBridge throttling at AWS's documented quotas (scaled by --scale), its
// own clients paced to them with revocations first; `overload`× the issuing quota of task starts
// arrives for `seconds`, while tasks issued beforehand are ended at a steady rate. It reports lost
// grants, time-to-credential against the deterministic-queue prediction, revocation latency with
// and without the flood, what the emulated services throttled, and what was left alive.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalEngine, LOCAL_BUS, type LocalEngine, type LocalEngineOptions } from '../lambdas/local/engine';
import { localClientConfig } from '../lambdas/local/host/sdk-clients';
import { scaledQuotas } from '../lambdas/adapters/aws/documented-quotas';
import { realSleep as sleep } from '../lambdas/adapters/sleep';
import type { EngineLogger } from '../lambdas/use-cases/engine-deps';
import { grantIdFor } from '../lambdas/domain/ids';
import type { FunctionLoad } from '../lambdas/local/host/reserved-concurrency';
import { ascending, nearestRank, round2 } from './percentiles';
import { describeMachine, type Machine } from './report';

export interface QuotaSimulationOptions {
  /** Fraction of the documented quotas the emulated services throttle at (1 = AWS's numbers). */
  readonly scale: number;
  /** Task starts arrive at this multiple of the issuing quota… */
  readonly overload: number;
  /** …for this many seconds (60 is the minute; smaller for quick runs). */
  readonly seconds: number;
  /** Tasks issued before the flood, half ended before it (baseline) and half during it. */
  readonly victims: number;
  /** One `Task Ended` every this many ms, in both phases. */
  readonly killEveryMs: number;
  /** The engine's per-function limits: the stack's default unless set; `false` runs every delivery at once (before session 4). */
  readonly reservedConcurrency?: LocalEngineOptions['reservedConcurrency'];
}

export const DEFAULT_QUOTA_SIMULATION: QuotaSimulationOptions = { scale: 0.2, overload: 10, seconds: 6, victims: 40, killEveryMs: 250 };

interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface QuotaSimulationResult {
  readonly machine: Machine;
  readonly options: QuotaSimulationOptions;
  readonly issuingQuotaPerSecond: number;
  readonly arrivalsPerSecond: number;
  readonly starts: number;
  readonly issued: number;
  readonly lostGrants: number;
  readonly deniedOrFailed: number;
  readonly drainSeconds: number;
  readonly timeToCredentialMs: Percentiles;
  readonly predictedTimeToCredentialMs: Percentiles;
  readonly revocationLatencyMs: { readonly baseline: Percentiles; readonly underFlood: Percentiles };
  readonly throttledByService: Readonly<Record<string, number>>;
  readonly acceptedByService: Readonly<Record<string, number>>;
  readonly leftAlive: { readonly grantsNotVerified: number; readonly deliverySecrets: number };
  readonly engineErrors: number;
  /** How starved the process was: event-loop delay during the flood and CPU it got per wall second. */
  readonly flood: { readonly eventLoopDelayP99Ms: number; readonly cpuShareOfOneCore: number };
  /** The limited functions' peak invocations in flight and queued over the run. */
  readonly functionPeaks: Readonly<Record<string, Pick<FunctionLoad, 'limit' | 'peakInFlight' | 'peakQueued'>>>;
}

const AGENT_PREFIX = 'flood-bot-';
const GRANTS_PER_AGENT = 20;
const SCOPE = 'flood-read';

/** One agent per 20 grants: many agents with a few tasks each, as a fleet looks (and each start counts only its agent's live grants). */
function policyFor(agents: number): string {
  const agentBlocks = Array.from({ length: agents }, (_, index) =>
    [
      `  ${AGENT_PREFIX}${index}:`,
      '    owner: lead@example.com',
      '    purpose: Quota simulation load',
      '    riskTier: low',
      '    runtimePrincipal: arn:aws:iam::111122223333:role/flood-runtime',
      `    scopes: [${SCOPE}]`,
      '    maxTtlSeconds: 3600',
      '    defaultTtlSeconds: 3600',
      `    maxConcurrentGrants: 1000`,
    ].join('\n'),
  );
  return [
    'version: 1',
    'approvals:',
    '  read: { mode: auto }',
    '  write: { mode: auto }',
    '  deploy: { mode: manual, approvers: 1, approverGroup: [lead@example.com, sre@example.com] }',
    '  transact: { mode: manual, approvers: 2, approverGroup: [cfo@example.com, sre@example.com, lead@example.com] }',
    'people:',
    '  lead@example.com: { awsPrincipals: [arn:aws:iam::111122223333:role/taskbound-operator-lead] }',
    '  sre@example.com: { awsPrincipals: [arn:aws:iam::111122223333:role/taskbound-operator-sre] }',
    '  cfo@example.com: { awsPrincipals: [arn:aws:iam::111122223333:user/cfo] }',
    'scopes:',
    `  ${SCOPE}:`,
    '    action: read',
    '    credential: aws-sts-session',
    '    statements:',
    '      - { Effect: Allow, Action: [codecommit:GitPull], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }',
    'agents:',
    ...agentBlocks,
    '',
  ].join('\n');
}

function percentiles(samples: readonly number[]): Percentiles {
  const sorted = ascending(samples);
  return {
    p50: round2(nearestRank(sorted, 50)),
    p90: round2(nearestRank(sorted, 90)),
    p99: round2(nearestRank(sorted, 99)),
    max: round2(sorted.at(-1) ?? Number.NaN),
  };
}

/**
 * The deterministic-queue (D/D/1 in overload) prediction: arrivals every 1/λ, served evenly at μ
 * (the engine paces with a quarter-second burst, ignored here). Arrival k is served at k/μ, so it waits k/μ − k/λ, plus
 * `serviceMs`, the unloaded time-to-credential. M/D/1 has no steady state at ρ = 10; this does.
 */
export function predictTimeToCredential(arrivals: number, lambda: number, mu: number, serviceMs: number): Percentiles {
  const waits = Array.from({ length: arrivals }, (_, k) => Math.max(0, (k / mu - k / lambda) * 1000) + serviceMs);
  return percentiles(waits);
}

class Stopwatch {
  private readonly waiting = new Map<string, { readonly at: number; readonly done: (ms: number) => void }>();

  constructor(engine: LocalEngine, detailType: string) {
    engine.bus.subscribe((envelope) => {
      if (envelope.source !== 'taskbound' || envelope['detail-type'] !== detailType) return;
      const taskId = String(envelope.detail.taskId);
      const entry = this.waiting.get(taskId);
      if (!entry) return;
      this.waiting.delete(taskId);
      entry.done(performance.now() - entry.at);
    });
  }

  /** Starts timing `taskId` at `at` (performance.now()); resolves with the ms until the event. */
  time(taskId: string, at: number): Promise<number> {
    return new Promise((done) => this.waiting.set(taskId, { at, done }));
  }
}

export async function runQuotaSimulation(
  options: QuotaSimulationOptions,
  log: (line: string) => void = console.log,
): Promise<QuotaSimulationResult> {
  const quotas = scaledQuotas(options.scale);
  const mu = Math.min(
    ...['CreateSecret', 'PutResourcePolicy', 'PutSecretValue'].map((operation) => quotas[`secretsmanager:${operation}`] ?? Infinity),
  );
  const lambda = mu * options.overload;
  const starts = Math.round(lambda * options.seconds);
  const agents = Math.ceil((starts + options.victims) / GRANTS_PER_AGENT);
  const dir = await mkdtemp(join(tmpdir(), 'taskbound-quota-'));
  const policyFile = join(dir, 'quota.policy.yaml');
  await writeFile(policyFile, policyFor(agents));
  let engineErrors = 0;
  const logger: EngineLogger = { info: () => undefined, warn: () => undefined, error: () => void engineErrors++ };
  const limits = options.reservedConcurrency === undefined ? {} : { reservedConcurrency: options.reservedConcurrency };
  const engine = await startLocalEngine({ policyFile, port: 0, sweepIntervalMs: 0, quotas, logger, print: () => undefined, ...limits });
  const events = new EventBridgeClient({ ...localClientConfig(engine.url), retryMode: 'adaptive', maxAttempts: 10 });
  const issuedWatch = new Stopwatch(engine, 'Grant Issued');
  const verifiedWatch = new Stopwatch(engine, 'Revocation Verified');
  let deniedOrFailed = 0;
  engine.bus.subscribe((envelope) => {
    if (envelope.source === 'taskbound' && envelope['detail-type'] === 'Grant Denied') deniedOrFailed++;
  });
  const agentOf = (index: number) => `${AGENT_PREFIX}${index % agents}`;
  const put = async (detailType: string, detail: Record<string, unknown>) => {
    const answer = await events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: LOCAL_BUS, Source: 'bench.flood', DetailType: detailType, Detail: JSON.stringify(detail) }],
      }),
    );
    if (!answer.Entries?.[0]?.EventId) throw new Error(`PutEvents refused ${detailType}`);
    return performance.now();
  };
  const start = (taskId: string, index: number) =>
    put('Task Started', {
      agentId: agentOf(index),
      taskId,
      purpose: 'quota simulation',
      requestedBy: 'bench@example.com',
      scopes: [SCOPE],
    });
  const end = (taskId: string, index: number) => put('Task Ended', { agentId: agentOf(index), taskId, outcome: 'succeeded' });
  const tasks: Array<{ readonly taskId: string; readonly index: number }> = [];

  try {
    log(
      `quota simulation: issuing quota ${mu}/s (×${options.scale} of AWS's), ${lambda} starts/s for ${options.seconds} s = ${starts} starts, ${agents} agent(s)`,
    );
    // Victims: issued before the flood, one at a time, so each one's time-to-credential is the unloaded one.
    const unloaded: number[] = [];
    for (let i = 0; i < options.victims; i++) {
      const taskId = `victim-${i}`;
      tasks.push({ taskId, index: i });
      const issued = issuedWatch.time(taskId, performance.now());
      await start(taskId, i);
      unloaded.push(await issued);
    }
    const serviceMs = nearestRank(ascending(unloaded), 50);
    const kill = async (i: number) => {
      const taskId = `victim-${i}`;
      const verified = verifiedWatch.time(taskId, performance.now());
      await end(taskId, i);
      return verified;
    };
    const half = Math.floor(options.victims / 2);
    const baseline: Array<Promise<number>> = [];
    for (let i = 0; i < half; i++) {
      baseline.push(kill(i));
      await sleep(options.killEveryMs);
    }
    const baselineMs = await Promise.all(baseline);
    log(`baseline: unloaded time-to-credential p50 ${round2(serviceMs)} ms; revocation p99 ${percentiles(baselineMs).p99} ms`);

    // The flood, with kills spread over it and its drain.
    const floodStart = performance.now();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const cpuAtStart = process.cpuUsage();
    const timeToCredential: Array<Promise<number>> = [];
    const flood = (async () => {
      for (let k = 0; k < starts; k++) {
        const due = floodStart + (k / lambda) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const taskId = `flood-${k}`;
        const index = options.victims + k;
        tasks.push({ taskId, index });
        const issued = issuedWatch.time(taskId, performance.now());
        timeToCredential.push(start(taskId, index).then(() => issued));
      }
    })();
    const expectedDrainMs = (starts / mu) * 1000;
    const killGap = Math.max(options.killEveryMs, expectedDrainMs / Math.max(1, options.victims - half));
    const underFlood: Array<Promise<number>> = [];
    for (let i = half; i < options.victims; i++) {
      underFlood.push(kill(i));
      await sleep(killGap);
    }
    await flood;
    const ttc = await Promise.all(timeToCredential);
    const drainSeconds = round2((performance.now() - floodStart) / 1000);
    loopDelay.disable();
    const cpu = process.cpuUsage(cpuAtStart);
    const floodFigures = {
      eventLoopDelayP99Ms: round2(loopDelay.percentile(99) / 1e6),
      cpuShareOfOneCore: round2((cpu.user + cpu.system) / 1e6 / drainSeconds),
    };
    const underFloodMs = await Promise.all(underFlood);
    log(`flood drained in ${drainSeconds} s; revocation under flood p99 ${percentiles(underFloodMs).p99} ms`);

    // Nothing left alive: end every flood task, then look.
    await Promise.all(tasks.filter((task) => task.taskId.startsWith('flood-')).map((task) => end(task.taskId, task.index)));
    await engine.bus.idle();
    await waitUntil(async () => (await notVerified(engine, tasks, agents)) === 0, 10 * expectedDrainMs + 60_000);
    const grantsNotVerified = await notVerified(engine, tasks, agents);
    let deliverySecrets = 0;
    for await (const delivery of engine.deps.vault.listDeliveries?.() ?? [])
      if (delivery.name.startsWith(`taskbound/${AGENT_PREFIX}`)) deliverySecrets++;
    const counts = engine.throttleCounts();
    return {
      machine: describeMachine(),
      options,
      issuingQuotaPerSecond: mu,
      arrivalsPerSecond: lambda,
      starts,
      issued: ttc.length,
      lostGrants: starts - ttc.length,
      deniedOrFailed,
      drainSeconds,
      timeToCredentialMs: percentiles(ttc),
      predictedTimeToCredentialMs: predictTimeToCredential(starts, lambda, mu, serviceMs),
      revocationLatencyMs: { baseline: percentiles(baselineMs), underFlood: percentiles(underFloodMs) },
      throttledByService: counts?.throttled ?? {},
      acceptedByService: counts?.accepted ?? {},
      leftAlive: { grantsNotVerified, deliverySecrets },
      engineErrors,
      flood: floodFigures,
      functionPeaks: Object.fromEntries(
        Object.entries(engine.functionLoad()).map(([name, load]) => [
          name,
          { limit: load.limit, peakInFlight: load.peakInFlight, peakQueued: load.peakQueued },
        ]),
      ),
    };
  } finally {
    events.destroy();
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function notVerified(
  engine: LocalEngine,
  tasks: ReadonlyArray<{ readonly taskId: string; readonly index: number }>,
  agents: number,
): Promise<number> {
  let count = 0;
  for (const { taskId, index } of tasks) {
    const grant = await engine.deps.store.get(grantIdFor(`${AGENT_PREFIX}${index % agents}`, taskId));
    if (grant?.state !== 'verified') count++;
  }
  return count;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return;
    await sleep(500);
  }
}
