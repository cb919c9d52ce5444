// Bench (`npm run bench:modes`): the two scale modes of docs/scale.md §8, measured on the local
// engine. (1) SDK calls per lifecycle in each delivery mode, by operation and credential kind.
// (2) Expiry lateness in the `due-index` mode: grants of the minimum TTL whose expiries fall
// evenly over one reader interval; lateness = the recorded revocation − the expiry. Scheduler's
// `at()` rounding (scheduler-expiry.ts) is computed for the same expiries, for comparison.
// Options: --lifecycles 10, --grants 60, --interval 60 (seconds), --out bench/results/scale-modes.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { grantIdFor } from '../lambdas/domain/ids';
import { startLocalEngine, type LocalEngine, type LocalEngineOptions } from '../lambdas/local/engine';
import { localClientConfig, SdkCallCounter } from '../lambdas/local/host/sdk-clients';
import { realSleep as sleep } from '../lambdas/adapters/sleep';
import { Taskbound } from '../sdk';
import { LOCAL_RUNTIME_CREDENTIALS } from '../sdk/taskbound';
import { ACCESS_KEY_SCOPE, BENCH_AGENT, SESSION_SCOPE } from './driver';
import { MIN_TTL_SECONDS } from './expiry';
import { ascending, nearestRank, round2 } from './percentiles';
import { describeMachine } from './report';

const BENCH_DIR = import.meta.dirname;
const POLICY = join(BENCH_DIR, 'bench.policy.yaml');
const RESULT_FILE = join(BENCH_DIR, 'results', 'scale-modes.json');
const SCHEDULER_PRECISION_MS = 60_000;
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function withEngine<T>(options: Partial<LocalEngineOptions>, use: (engine: LocalEngine) => Promise<T>): Promise<T> {
  const engine = await startLocalEngine({ policyFile: POLICY, port: 0, sweepIntervalMs: 0, print: () => undefined, ...options });
  try {
    return await use(engine);
  } finally {
    await engine.bus.idle();
    await engine.stop();
  }
}

function runtimeFor(engine: LocalEngine, calls: SdkCallCounter): Taskbound {
  // Signed as a runtime, not as the engine: a delivery not locked yet is refused to it, as on AWS.
  const config = { ...localClientConfig(engine.url), credentials: LOCAL_RUNTIME_CREDENTIALS };
  return new Taskbound({
    ...config,
    eventBridge: calls.track(new EventBridgeClient(config)),
    secretsManager: calls.track(new SecretsManagerClient(config)),
    dynamoDb: calls.track(new DynamoDBClient(config)),
    kms: calls.track(new KMSClient(config)),
    ...(engine.deliveryTable ? { deliveryTable: engine.deliveryTable } : {}),
  });
}

async function untilState(engine: LocalEngine, taskId: string, states: readonly string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const grant = await engine.deps.store.get(grantIdFor(BENCH_AGENT, taskId));
    if (grant && states.includes(grant.state)) return grant;
    if (Date.now() > deadline) throw new Error(`${taskId} is ${grant?.state ?? 'absent'}, not ${states.join('/')}`);
    await sleep(20);
  }
}

const perLifecycle = (after: ReadonlyMap<string, number>, before: ReadonlyMap<string, number>, count: number) =>
  Object.fromEntries(
    [...after]
      .map(([operation, calls]) => [operation.replace(/Command$/, ''), round2((calls - (before.get(operation) ?? 0)) / count)] as const)
      .filter(([, calls]) => calls > 0)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
const total = (byOperation: Readonly<Record<string, number>>) => round2(Object.values(byOperation).reduce((sum, calls) => sum + calls, 0));

/** Start, wait for the credential, end, wait until verified: `count` lifecycles one after another, per kind. */
async function countCalls(delivery: 'secrets-manager' | 'dynamodb-kms', count: number) {
  return withEngine({ delivery }, async (engine) => {
    const kinds: Record<string, unknown> = {};
    for (const [kind, scope] of [
      ['aws-sts-session', SESSION_SCOPE],
      ['aws-iam-access-key', ACCESS_KEY_SCOPE],
    ] as const) {
      const runtimeCalls = new SdkCallCounter();
      const runtime = runtimeFor(engine, runtimeCalls);
      const engineBefore = new Map(engine.sdkCalls.byOperation);
      for (let index = 0; index < count; index++) {
        const taskId = `calls-${delivery}-${kind}-${index}`;
        await runtime.withTaskCredentials(
          { agentId: BENCH_AGENT, taskId, purpose: 'count calls', requestedBy: 'bench@example.com', scopes: [scope] },
          async () => undefined,
        );
        await untilState(engine, taskId, ['verified']);
      }
      await engine.bus.idle();
      const engineCalls = perLifecycle(engine.sdkCalls.byOperation, engineBefore, count);
      const runtimeCallsPer = perLifecycle(runtimeCalls.byOperation, new Map(), count);
      kinds[kind] = {
        lifecycles: count,
        engine: total(engineCalls),
        runtime: total(runtimeCallsPer),
        engineByOperation: engineCalls,
        runtimeByOperation: runtimeCallsPer,
      };
      runtime.destroy();
      log(`${delivery} ${kind}: engine ${total(engineCalls)} calls per lifecycle, runtime ${total(runtimeCallsPer)}`);
    }
    return kinds;
  });
}

/** Grants of TTL 60 s started evenly over one interval, so their expiries fall at every phase of the readers' period. */
async function dueIndexLateness(grants: number, intervalMs: number) {
  return withEngine({ expiry: 'due-index', dueIndexIntervalMs: intervalMs }, async (engine) => {
    const runtime = runtimeFor(engine, new SdkCallCounter());
    const run = Date.now().toString(36);
    const taskIds = Array.from({ length: grants }, (_, index) => `due-${run}-${index}`);
    const started = Date.now();
    await Promise.all(
      taskIds.map(async (taskId, index) => {
        await sleep(Math.max(0, started + (index * intervalMs) / grants - Date.now()));
        await runtime.startTask({
          agentId: BENCH_AGENT,
          taskId,
          purpose: 'due-index expiry',
          requestedBy: 'bench@example.com',
          scopes: [index % 2 === 0 ? SESSION_SCOPE : ACCESS_KEY_SCOPE],
          ttlSeconds: MIN_TTL_SECONDS,
        });
      }),
    );
    log(
      `${grants} grants started over ${intervalMs / 1000} s; waiting for their expiries (TTL ${MIN_TTL_SECONDS} s, readers every ${intervalMs / 1000} s)`,
    );
    const settled = await Promise.all(
      taskIds.map((taskId) =>
        untilState(engine, taskId, ['verified', 'revoked', 'failed'], (MIN_TTL_SECONDS + 30) * 1000 + 3 * intervalMs),
      ),
    );
    runtime.destroy();
    const measured = settled.map((grant) => Date.parse(grant.revokedAt ?? grant.updatedAt) - Date.parse(grant.expiresAt!));
    const scheduler = settled.map((grant) => {
      const expiresAt = Date.parse(grant.expiresAt!);
      return Math.ceil(expiresAt / SCHEDULER_PRECISION_MS) * SCHEDULER_PRECISION_MS - expiresAt;
    });
    const summary = (samples: readonly number[]) => {
      const sorted = ascending(samples);
      return {
        p50: round2(nearestRank(sorted, 50)),
        p90: round2(nearestRank(sorted, 90)),
        p99: round2(nearestRank(sorted, 99)),
        max: round2(sorted.at(-1) ?? Number.NaN),
      };
    };
    return {
      grants,
      readerIntervalMs: intervalMs,
      expiredBy: Object.fromEntries(
        settled
          .map((grant) => grant.revocation?.trigger ?? 'none')
          .reduce((counts, trigger) => counts.set(trigger, (counts.get(trigger) ?? 0) + 1), new Map<string, number>()),
      ),
      states: Object.fromEntries(
        settled
          .map((grant) => grant.state)
          .reduce((counts, state) => counts.set(state, (counts.get(state) ?? 0) + 1), new Map<string, number>()),
      ),
      latenessMs: summary(measured),
      schedulerRoundingMs: summary(scheduler),
    };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      lifecycles: { type: 'string', default: '10' },
      grants: { type: 'string', default: '60' },
      interval: { type: 'string', default: '60' },
      out: { type: 'string', default: RESULT_FILE },
    },
  });
  const lifecycles = Number(values.lifecycles);
  const grants = Number(values.grants);
  const intervalMs = Number(values.interval) * 1000;
  const machine = describeMachine();
  const calls = {
    'secrets-manager': await countCalls('secrets-manager', lifecycles),
    'dynamodb-kms': await countCalls('dynamodb-kms', lifecycles),
  };
  const expiry = await dueIndexLateness(grants, intervalMs);
  log(
    `due-index lateness p50 ${expiry.latenessMs.p50} p99 ${expiry.latenessMs.p99} ms; Scheduler's rounding alone p50 ${expiry.schedulerRoundingMs.p50} p99 ${expiry.schedulerRoundingMs.p99} ms`,
  );
  const result = { at: new Date().toISOString(), machine, callsPerLifecycle: calls, dueIndexExpiry: expiry };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
