// Bench: the whole run, phase by phase. The 60 s expiry wait (the engine as its own process) is
// filled with the sweep (an engine in this process) and the first ceiling, which end before the
// first expiry; the lifecycle run and the bundles (child processes) run alone afterwards.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalEngine, type LocalEngine } from '../lambdas/local/engine';
import { measureBundles } from './bundles';
import { measureCeiling, type CeilingRun } from './ceiling';
import { BenchDriver } from './driver';
import { startEngineProcess, type EngineProcess } from './engine-process';
import { EXPIRING_STARTS_PER_SECOND, issueExpiringGrants, measureExpiryLateness, revocationLatenessOf } from './expiry';
import { HttpCallCounter } from './http-calls';
import { measurePacedRevocation, runLifecycles } from './lifecycles';
import { buildResult, describeMachine, formatTable } from './report';
import { measureSweep } from './sweep';
import { measureSuspension } from './suspension';

const BENCH_DIR = import.meta.dirname;
const BENCH_POLICY = join(BENCH_DIR, 'bench.policy.yaml');
/** Bundles are built with the policy a default deployment compiles in. */
const DEPLOYED_POLICY = resolve(BENCH_DIR, '../examples/taskbound.policy.yaml');
const RESULT_FILE = join(BENCH_DIR, 'results', 'latest.json');
/** Ten Task Ended a second: well under what the process can serve. */
const PACED_END_EVERY_MS = 100;
/** Runtimes at once for time-to-credential and time-to-dead (docs/contract.md §8). */
const LATENCY_CONCURRENCY = 20;
/**
 * How long each of those tasks holds its credential before Task Ended. With no work at all,
 * 20 runtimes are a closed loop that saturates the two cores, and the latencies measure the
 * queue it builds (kept in detail as `latencyClosedLoop`); a task that does something for a
 * second is what a user's runtime looks like.
 */
const LATENCY_TASK_MS = 1000;

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function withEngine<T>(use: (engine: LocalEngine) => Promise<T>): Promise<T> {
  const engine = await startLocalEngine({ policyFile: BENCH_POLICY, port: 0, sweepIntervalMs: 0, print: () => undefined });
  try {
    return await use(engine);
  } finally {
    // Let in-flight handlers finish before the endpoints they call go away.
    await engine.bus.idle();
    await engine.stop();
  }
}

async function withEngineProcess<T>(use: (engine: EngineProcess) => Promise<T>): Promise<T> {
  const engine = await startEngineProcess(BENCH_POLICY);
  try {
    return await use(engine);
  } finally {
    await engine.stop();
  }
}

function options(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      concurrency: { type: 'string', default: '100' },
      lifecycles: { type: 'string', default: '2000' },
      'max-seconds': { type: 'string', default: '45' },
      'expiring-grants': { type: 'string', default: '200' },
      'sweep-grants': { type: 'string', default: '10000' },
      'sweep-due': { type: 'string', default: '100' },
      'suspension-grants': { type: 'string', default: '1000' },
      short: { type: 'boolean', default: false },
    },
  });
  if (values.short) {
    // A quick end-to-end check that every phase runs, not figures to publish.
    Object.assign(values, {
      lifecycles: '200',
      'max-seconds': '10',
      'expiring-grants': '20',
      'sweep-grants': '500',
      'sweep-due': '20',
      'suspension-grants': '100',
    });
  }
  const number = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  return {
    concurrency: number('concurrency'),
    lifecycles: number('lifecycles'),
    maxSeconds: number('max-seconds'),
    expiringGrants: number('expiring-grants'),
    sweepGrants: number('sweep-grants'),
    sweepDue: number('sweep-due'),
    suspensionGrants: number('suspension-grants'),
    short: values.short === true,
  };
}

export async function runBenchmark(argv: readonly string[]): Promise<void> {
  const settings = options(argv);
  const started = performance.now();
  const machine = describeMachine();
  const http = new HttpCallCounter().start();

  const ceilingSettings = {
    concurrency: settings.concurrency,
    warmupMs: settings.short ? 300 : 1000,
    durationMs: settings.short ? 1500 : 5000,
  };
  const ceilings: CeilingRun[] = [];

  // The expiries run down for 60 s: the sweep and a first ceiling fill that time (the engine
  // holding the expiring grants is idle meanwhile) and must be over before the first expiry.
  const { expiry, overlap, sweep } = await withEngineProcess(async (engine) => {
    const driver = new BenchDriver(engine.url);
    try {
      log(`issuing ${settings.expiringGrants} grants with a 60 s TTL, ${EXPIRING_STARTS_PER_SECOND} a second`);
      const expiring = await issueExpiringGrants(driver, settings.expiringGrants);
      const firstExpiry = Math.min(...expiring.map((credential) => credential.delivery.expiresAtMs));
      log(`while they run down: seeding ${settings.sweepGrants} active grants (${settings.sweepDue} due) and sweeping`);
      const sweep = await withEngine((sweepEngine) =>
        measureSweep(sweepEngine, http, { activeGrants: settings.sweepGrants, dueGrants: settings.sweepDue, seedConcurrency: 50 }),
      );
      log('ceiling: raw SDK calls against the embedded store');
      ceilings.push(await measureCeiling(ceilingSettings));
      const overlap = firstExpiry - Date.now();
      log(`waiting for the expiries (${Math.round(overlap / 1000)} s to the first)`);
      const probed = await measureExpiryLateness(driver, expiring);
      await engine.settled();
      const expiry = { ...probed, startedPerSecond: EXPIRING_STARTS_PER_SECOND, engineRevokedMs: await revocationLatenessOf(engine.url) };
      return { expiry, overlap, sweep };
    } finally {
      driver.close();
    }
  });

  log('bundling the Lambda handlers and timing their import');
  const bundles = await measureBundles(DEPLOYED_POLICY);
  const lifecycleSettings = (concurrency: number, taskMs = 0, probeBackoff = false) => ({
    concurrency,
    warmupLifecycles: concurrency,
    lifecycles: settings.lifecycles,
    maxDurationMs: settings.maxSeconds * 1000,
    taskMs,
    probeBackoff,
  });
  log(
    `lifecycles against the engine as its own process: ${LATENCY_CONCURRENCY} runtimes (latencies), then ${settings.concurrency} (throughput), then ${LATENCY_CONCURRENCY} again on the warm engine`,
  );
  // The engine just started first (its first lifecycles run while V8 still compiles its code: kept
  // as `latencyFreshEngine`), then warm, as an engine that has been serving runs (the headline).
  const { latencyFreshEngine, latencyRun, latencyLockstep, latencyClosedLoop, lifecycles, pacedRevocationMs } = await withEngineProcess(
    async (engine) => ({
      latencyFreshEngine: await runLifecycles(engine, lifecycleSettings(LATENCY_CONCURRENCY, LATENCY_TASK_MS)),
      latencyClosedLoop: await runLifecycles(engine, lifecycleSettings(LATENCY_CONCURRENCY)),
      lifecycles: await runLifecycles(engine, lifecycleSettings(settings.concurrency, 0, true)),
      latencyRun: await runLifecycles(engine, lifecycleSettings(LATENCY_CONCURRENCY, LATENCY_TASK_MS)),
      latencyLockstep: await runLifecycles(engine, { ...lifecycleSettings(LATENCY_CONCURRENCY, LATENCY_TASK_MS), lockstep: true }),
      pacedRevocationMs: await measurePacedRevocation(engine, { openTasks: settings.concurrency, endEveryMs: PACED_END_EVERY_MS }),
    }),
  );
  log(`kill switch: ${settings.suspensionGrants} live grants of one agent, then Agent Suspended`);
  const suspension = await withEngineProcess((engine) => measureSuspension(engine, settings.suspensionGrants));
  log('ceiling again');
  ceilings.push(await measureCeiling(ceilingSettings));
  http.stop();

  const result = buildResult({
    machine,
    ceilings,
    lifecycles,
    latencyRun,
    latencyFreshEngine,
    latencyClosedLoop,
    latencyLockstep,
    latencyTaskMs: LATENCY_TASK_MS,
    pacedRevocation: { latenciesMs: pacedRevocationMs, endEveryMs: PACED_END_EVERY_MS },
    concurrency: settings.concurrency,
    expiry,
    overlapFinishedBeforeFirstExpiryMs: overlap,
    sweep,
    suspension,
    bundles,
    totalSeconds: (performance.now() - started) / 1000,
  });
  await mkdir(join(BENCH_DIR, 'results'), { recursive: true });
  await writeFile(RESULT_FILE, `${JSON.stringify(result, null, 2)}\n`);
  console.log(formatTable(result));
  console.log(`\nwrote ${RESULT_FILE}`);
}
