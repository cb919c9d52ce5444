// AWS emulator tier: the AWS API calls of one grant lifecycle, per credential kind, counted
// by SDK middleware on every engine client against moto, and what a million of them cost at
// AWS's list prices (aws-prices.ts). Prints a table and writes bench/results/aws-calls.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { grantIdFor } from '../../lambdas/domain/ids';
import { PRICE_REGION, PRICES, PRICES_TAKEN } from './aws-prices';
import { closeWorld, eventBridgeEvent, openWorld, type HandlerName, type MotoWorld } from './moto-world';
import type { ApiCall } from './sdk-middleware';

/** lib/constructs/taskbound-function.ts: every engine function but the sweep has 512 MB. */
const FUNCTION_GB = 0.5;
const HOUR_OF_A_MONTH = 1 / 730;
const MINUTE = 60_000;

interface Lifecycle {
  readonly kind: 'aws-sts-session' | 'aws-iam-access-key';
  readonly agentId: string;
  readonly scope: string;
}

const LIFECYCLES: readonly Lifecycle[] = [
  { kind: 'aws-sts-session', agentId: 'release-bot', scope: 'repo-read' },
  { kind: 'aws-iam-access-key', agentId: 'deploy-bot', scope: 'bucket-read-key' },
];

interface Measured {
  readonly engine: ApiCall[];
  /** Calls the sweep makes for this grant hours later (the misuse check), beyond an idle sweep's. */
  readonly deferred: ApiCall[];
  readonly runtime: ApiCall[];
  readonly engineEvents: number;
  readonly runtimeEvents: number;
  readonly invocations: { readonly name: HandlerName; readonly ms: number }[];
}

const byOperation = (calls: readonly ApiCall[]) => {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[`${call.service}:${call.operation}`] = (counts[`${call.service}:${call.operation}`] ?? 0) + 1;
  return counts;
};

/** `after` less `before`, operation by operation (what the due grant added to a sweep). */
function beyond(after: readonly ApiCall[], before: readonly ApiCall[]): ApiCall[] {
  const remaining = [...before];
  return after.filter((call) => {
    const index = remaining.findIndex((candidate) => candidate.service === call.service && candidate.operation === call.operation);
    if (index < 0) return true;
    remaining.splice(index, 1);
    return false;
  });
}

/** Every other call of each operation: the share of one of two lifecycles whose calls are alike. */
function half(calls: readonly ApiCall[]): ApiCall[] {
  const seen = new Map<string, number>();
  return calls.filter((call) => {
    const key = `${call.service}:${call.operation}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count % 2 === 1;
  });
}

async function measure(world: MotoWorld, lifecycle: Lifecycle): Promise<Measured> {
  const invocations: { name: HandlerName; ms: number }[] = [];
  const timed = async (name: HandlerName, event: unknown) => {
    const started = performance.now();
    const result = await world.invoke(name, event);
    invocations.push({ name, ms: performance.now() - started });
    return result;
  };
  const taskId = `cost-${lifecycle.kind}`;
  const detail = { taskId, agentId: lifecycle.agentId };
  // A warm container: the role's canary proof (canary-probe.ts, once per role every few minutes) is
  // taken by a lifecycle before the one counted, as it is by all but the first on AWS.
  const warm = { taskId: `${taskId}-warm`, agentId: lifecycle.agentId };
  await world.invoke(
    'task-started',
    eventBridgeEvent('Task Started', { ...warm, purpose: 'warm', requestedBy: 'dev@example.com', scopes: [lifecycle.scope] }),
  );
  await world.invoke('task-ended', eventBridgeEvent('Task Ended', { ...warm, outcome: 'succeeded' }));
  // A warm sweep container too: its first sweep judges every live grant by the policy it was deployed
  // with (one Scan of the live index, per container, not per lifecycle).
  await world.invoke('sweep', eventBridgeEvent('Scheduled Event', {}, 'aws.events'));
  const callsBefore = world.calls.length;
  const batchesBefore = world.putEventsBatches().length;

  const started = await timed(
    'task-started',
    eventBridgeEvent('Task Started', { ...detail, purpose: 'measure', requestedBy: 'dev@example.com', scopes: [lifecycle.scope] }),
  );
  // The runtime: one PutEvents per task event, one read of its delivery.
  const runtime: ApiCall[] = [{ service: 'EventBridge', operation: 'PutEvents' }];
  await world.aws.secrets.send(new GetSecretValueCommand({ SecretId: `taskbound/${lifecycle.agentId}/${taskId}` }));
  runtime.push({ service: 'Secrets Manager', operation: 'GetSecretValue' }, { service: 'EventBridge', operation: 'PutEvents' });
  world.advance(2 * MINUTE);
  const ended = await timed('task-ended', eventBridgeEvent('Task Ended', { ...detail, outcome: 'succeeded' }));
  const engine = world.calls.slice(callsBefore);
  const engineEvents = world.putEventsBatches().slice(batchesBefore).flat().length;

  // The misuse check reads CloudTrail event history; moto 5.2.1 implements no LookupEvents, so
  // it is answered as CloudTrail answers for a credential nobody used after revocation.
  world.fault('CloudTrail', {
    operation: 'LookupEvents',
    error: () => new Error('unused'),
    answer: () => ({ output: { Events: [], $metadata: { httpStatusCode: 200 } }, response: { statusCode: 200, headers: {} } }),
  });
  world.advance(5 * 60 * MINUTE);
  const sweepWithGrant = world.calls.length;
  await world.invoke('sweep', eventBridgeEvent('Scheduled Event', {}, 'aws.events'));
  const idleSweep = world.calls.length;
  await world.invoke('sweep', eventBridgeEvent('Scheduled Event', {}, 'aws.events'));
  // The sweep checks the warm-up's grant and the counted one alike: half its extra calls are this lifecycle's.
  const deferred = half(beyond(world.calls.slice(sweepWithGrant, idleSweep), world.calls.slice(idleSweep)));
  if (process.env.DEBUG_MOTO)
    console.log(
      JSON.stringify(byOperation(world.calls.slice(sweepWithGrant, idleSweep))),
      JSON.stringify(byOperation(world.calls.slice(idleSweep))),
    );

  expect(started).toMatchObject({ outcome: 'issued', grant: { grantId: grantIdFor(lifecycle.agentId, taskId) } });
  expect(ended).toMatchObject({ outcome: 'verified' });
  return { engine, deferred, runtime, engineEvents, runtimeEvents: 2, invocations };
}

/** DynamoDB request units of a call; a grant write also writes each ALL-projected index it is in. */
function requestUnits(call: ApiCall, grantBytes: number): { wru: number; rru: number } {
  const writes = ['PutItem', 'DeleteItem', 'UpdateItem'];
  const itemUnits = (bytes: number | undefined) => Math.max(1, Math.ceil((bytes ?? 0) / 1024));
  // A grant item sits in the due and live-agent indexes (ALL projection) while live: upper bound, both.
  const indexUnits = (sortKey: string | undefined, bytes: number | undefined) => (sortKey === 'GRANT' ? itemUnits(bytes) * 2 + 1 : 0);
  if (writes.includes(call.operation)) return { wru: itemUnits(call.itemBytes) + indexUnits(call.sortKey, call.itemBytes), rru: 0 };
  if (call.operation === 'TransactWriteItems') {
    // A transaction prepares and commits each item: two write units per KB of each, its ConditionCheck
    // items included; the index writes a grant's Put causes are counted as plain writes (upper bound as above).
    const wru = (call.transactItems ?? []).reduce(
      (sum, item) => sum + 2 * itemUnits(item.itemBytes) + indexUnits(item.sortKey, item.itemBytes),
      0,
    );
    return { wru, rru: 0 };
  }
  // Strongly consistent reads of up to 4 KB cost one unit; a grant may be larger.
  return { wru: 0, rru: call.sortKey === 'GRANT' || call.operation === 'Query' ? Math.max(1, Math.ceil(grantBytes / 4096)) : 1 };
}

function costPerMillion(measured: Measured) {
  const all = [...measured.engine, ...measured.deferred];
  const grantWrites = all.flatMap((call) => [call, ...(call.transactItems ?? [])]).filter((call) => call.sortKey === 'GRANT');
  const grantBytes = Math.max(0, ...grantWrites.map((call) => call.itemBytes ?? 0));
  const dynamo = all.filter((call) => call.service === 'DynamoDB').map((call) => requestUnits(call, grantBytes));
  const wru = dynamo.reduce((sum, units) => sum + units.wru, 0);
  const rru = dynamo.reduce((sum, units) => sum + units.rru, 0);
  const secretsCalls = [...all, ...measured.runtime].filter((call) => call.service === 'Secrets Manager');
  // Each call that writes or reads a value asks KMS once (a CreateSecret carries the value: the delivery key locks it).
  const kmsRequests = secretsCalls.filter((call) => ['CreateSecret', 'PutSecretValue', 'GetSecretValue'].includes(call.operation)).length;
  const gbSeconds = measured.invocations.reduce((sum, invocation) => sum + (invocation.ms / 1000) * FUNCTION_GB, 0);
  const perLifecycle = {
    lambda: measured.invocations.length * PRICES.lambdaRequest.usd + gbSeconds * PRICES.lambdaGbSecond.usd,
    dynamodb: wru * PRICES.dynamoWriteRequestUnit.usd + rru * PRICES.dynamoReadRequestUnit.usd,
    eventBridge: (measured.engineEvents + measured.runtimeEvents) * PRICES.eventBridgeCustomEvent.usd,
    secretsManager: secretsCalls.length * PRICES.secretsManagerApiCall.usd + HOUR_OF_A_MONTH * PRICES.secretsManagerSecretMonth.usd,
    kms: kmsRequests * PRICES.kmsRequest.usd,
    scheduler: 0 * PRICES.schedulerInvocation.usd,
    stsIam: 0,
  };
  const perMillion = Object.fromEntries(Object.entries(perLifecycle).map(([service, usd]) => [service, Math.round(usd * 1e6 * 100) / 100]));
  return {
    usdPerMillion: perMillion,
    totalUsdPerMillion: Math.round(Object.values(perLifecycle).reduce((a, b) => a + b, 0) * 1e6 * 100) / 100,
    units: {
      wru,
      rru,
      grantItemBytes: grantBytes,
      kmsRequests,
      lambdaInvocations: measured.invocations.length,
      lambdaGbSeconds: gbSeconds,
      customEvents: measured.engineEvents + measured.runtimeEvents,
    },
  };
}

const results: Record<string, unknown> = {};

afterEach(closeWorld);
afterAll(() => {
  if (Object.keys(results).length < LIFECYCLES.length) return;
  mkdirSync('bench/results', { recursive: true });
  const report = {
    measuredAt: new Date().toISOString(),
    emulator: 'moto_server 5.2.1, authenticated mode',
    lifecycle:
      'Task Started (auto-approved) → runtime reads its delivery → Task Ended → verified; plus the sweep hours later (misuse check)',
    prices: { region: PRICE_REGION, taken: PRICES_TAKEN, list: PRICES },
    assumptions: [
      'every SDK attempt counts (retries included); none happened in this run',
      'DynamoDB: a grant write is billed on the table and on both ALL-projected indexes (upper bound); reads of a grant are strongly consistent',
      'DynamoDB: a TransactWriteItems is billed 2 write units per KB of each of its items (prepare and commit), ConditionCheck items included',
      'Lambda duration is the wall time measured against moto on a shared 2-core machine (an overestimate for AWS)',
      'the periodic sweep and orphan reconciliation are fixed costs per run, not per lifecycle, and are not included',
      'the delivery secret lives one billed hour; no Scheduler invocation (the schedule is deleted before it fires)',
      'the session canary calls (DescribeSecret, signed by the session) are Secrets Manager API calls and priced as such; the one at issue is made once per role every 5 minutes per container, so a warm container makes only the one after revocation',
      'counted on a warm container: one lifecycle of the same agent ran before the one counted, and one sweep (a sweep container judges every live grant by its policy on its first sweep: one Scan of the live index)',
      'CloudTrail LookupEvents (event history, management events) is free; moto does not implement it, so its answer is AWS’s empty one',
    ],
    kinds: results,
  };
  writeFileSync('bench/results/aws-calls.json', `${JSON.stringify(report, null, 2)}\n`);
});

describe('AWS calls per lifecycle, on moto', () => {
  for (const lifecycle of LIFECYCLES) {
    it(`counts every call of an ${lifecycle.kind} lifecycle and prices a million of them`, async () => {
      const world = await openWorld();

      const measured = await measure(world, lifecycle);
      const cost = costPerMillion(measured);

      const engineCalls = measured.engine.length + measured.deferred.length;
      results[lifecycle.kind] = {
        engineCallsPerLifecycle: engineCalls,
        runtimeCallsPerLifecycle: measured.runtime.length,
        engine: byOperation(measured.engine),
        deferredBySweep: byOperation(measured.deferred),
        runtime: byOperation(measured.runtime),
        ...cost,
      };
      console.log(
        [
          `${lifecycle.kind}: ${engineCalls} engine calls + ${measured.runtime.length} runtime calls per lifecycle; $${cost.totalUsdPerMillion} per million lifecycles`,
          ...Object.entries({
            ...byOperation(measured.engine),
            ...Object.fromEntries(Object.entries(byOperation(measured.deferred)).map(([key, count]) => [`${key} (sweep, later)`, count])),
          }).map(([operation, count]) => `  ${String(count).padStart(3)}  ${operation}`),
          `  $/M lifecycles by service: ${JSON.stringify(cost.usdPerMillion)}`,
        ].join('\n'),
      );
      expect(engineCalls).toBeGreaterThan(10);
      expect(measured.engine.filter((call) => call.service === 'STS' && call.operation === 'AssumeRole')).toHaveLength(
        lifecycle.kind === 'aws-sts-session' ? 1 : 0,
      );
      expect(measured.engine.filter((call) => call.operation === 'CreateAccessKey')).toHaveLength(
        lifecycle.kind === 'aws-iam-access-key' ? 1 : 0,
      );
      // The session canary: once after revocation (moto enforces the deny at once; on AWS the probe
      // repeats, up to 7 times, while the deny propagates). At issue, the warm-up proved the role.
      expect(measured.engine.filter((call) => call.operation === 'DescribeSecret')).toHaveLength(
        lifecycle.kind === 'aws-sts-session' ? 1 : 0,
      );
      // Use after revocation, hours later: one CloudTrail lookup by access key id, for both kinds.
      expect(byOperation(measured.deferred)).toEqual({ 'CloudTrail:LookupEvents': 1, 'DynamoDB:PutItem': 1 });
    });
  }
});
