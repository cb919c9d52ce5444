// AWS emulator tier: the quota flood of docs/scale.md §5, on the AWS composition against moto.
// AWS's quotas are token buckets as SDK middleware on the engine's clients (ServiceQuotas: an
// attempt past the quota is answered ThrottlingException). The engine paces itself with the
// composition's own QuotaThrottle (aws-engine.ts: documented quota ÷ QUOTA_SHARE), and the revoking
// handlers run in the revocation lane by themselves (composition/revocation-lane.ts). Scaled down to
// fit CI: QUOTA_SHARE=10 makes this process one of ten containers sharing the account's quota, and the
// emulated services throttle at that one container's share (a tenth of the documented quotas);
// ten times its issuing quota of Task Started arrive for a second, each function within its reserved concurrency as on
// Lambda (`FLOOD_UNRESERVED=1`: all at once). `FLOOD_UNPACED=1` removes the
// composition's pacing middleware, as aws-engine.ts deployed before it was wired (docs/scale.md §5.1;
// that run fails the no-failed-task assertion, as it should).
import { writeFileSync } from 'node:fs';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { ListUsersCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenBucket } from '../../lambdas/adapters/aws/quota-throttle';
import { DOCUMENTED_QUOTAS, scaledQuotas } from '../../lambdas/adapters/aws/documented-quotas';
import { grantIdFor } from '../../lambdas/domain/ids';
import { ReservedConcurrency } from '../../lambdas/local/host/reserved-concurrency';
import { DEFAULT_RESERVED_CONCURRENCY, reservedConcurrencyPerFunction } from '../../lambdas/routes';
import { TEST_POLICY_YAML } from '../helpers/test-policy';
import { closeWorld, eventBridgeEvent, openWorld, type HandlerResult, type MotoWorld } from './moto-world';
import { ServiceQuotas } from './sdk-middleware';

/** This process's share of each quota: one of ten containers. */
const QUOTA_SHARE = 10;
const SCALE = 1 / QUOTA_SHARE;
const OVERLOAD = 10;
const FLOOD_SECONDS = 1;
const VICTIMS = 6;
const AGENT = 'deploy-bot';
const SCOPE = 'bucket-read-key';
/** Secrets Manager's write quota bounds issuance: three writes of it per delivery, each its own bucket. */
const ISSUING_QUOTA = DOCUMENTED_QUOTAS['secretsmanager:CreateSecret']! * SCALE;
/** EventBridge retries a Lambda target's failed async invocation twice. */
const INVOCATIONS = 3;
/** The composition's pacing middleware (QuotaThrottle.attach). */
const PACING = 'taskboundQuotaThrottle';
const SERVICES = { 'Secrets Manager': 'secretsmanager', EventBridge: 'events', Scheduler: 'scheduler' } as const;

afterEach(closeWorld);

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const seconds = (ms: number) => Math.round(ms) / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Lambda's side: each function runs at most its reserved concurrency (the stack's default: task-started 10, task-ended
 * 20) and the rest wait in its queue, as asynchronous invocations do. `FLOOD_UNRESERVED=1` runs every invocation at once.
 */
const lambdaConcurrency = new ReservedConcurrency(
  process.env.FLOOD_UNRESERVED ? {} : reservedConcurrencyPerFunction(DEFAULT_RESERVED_CONCURRENCY, false),
);

/** Invokes as EventBridge would: an invocation that fails is tried again, up to twice. */
async function deliver(
  world: MotoWorld,
  handler: 'task-started' | 'task-ended',
  detail: object,
): Promise<{ result?: HandlerResult; failures: number }> {
  const event = eventBridgeEvent(handler === 'task-started' ? 'Task Started' : 'Task Ended', detail);
  let failures = 0;
  for (let attempt = 1; attempt <= INVOCATIONS; attempt++) {
    try {
      // Task Ended's handler runs itself in the revocation lane, as its own function does on Lambda.
      return { result: await lambdaConcurrency.run(handler, () => world.invoke(handler, event)), failures };
    } catch {
      failures += 1;
    }
  }
  return { failures };
}

const start = (world: MotoWorld, taskId: string) =>
  deliver(world, 'task-started', { taskId, agentId: AGENT, purpose: `flood ${taskId}`, requestedBy: 'dev@example.com', scopes: [SCOPE] });
const end = (world: MotoWorld, taskId: string) =>
  deliver(world, 'task-ended', { taskId, agentId: AGENT, outcome: 'succeeded', systemsTouched: [] });

describe('the engine on moto under a flood of Task Started at ten times the issuing quota', () => {
  it('loses no grant, issues every credential in quota order, keeps revocation moving, and leaves nothing alive', async () => {
    const world = await openWorld({
      realTime: true,
      quotaShare: QUOTA_SHARE,
      policyYaml: TEST_POLICY_YAML.replace('maxConcurrentGrants: 5', 'maxConcurrentGrants: 100'),
    });
    const service = new ServiceQuotas(scaledQuotas(SCALE), (rate) => new TokenBucket(rate));
    const paced: string[] = [];
    for (const [name, signingName] of Object.entries(SERVICES)) {
      for (const client of world.engineClients(name)) {
        // The composition's own pacing sits right after the SDK's retry step, before the service's buckets.
        if (client.middlewareStack.identify().some((entry) => entry.startsWith(PACING))) paced.push(name);
        if (process.env.FLOOD_UNPACED) (client.middlewareStack as unknown as { remove(name: string): boolean }).remove(PACING);
        service.attach(client, signingName);
      }
    }
    expect(paced.sort()).toEqual(['EventBridge', 'Scheduler', 'Secrets Manager']);
    const failures = { invocations: 0 };
    const issuedIn = async (taskId: string) => {
      const began = performance.now();
      const { result, failures: failed } = await start(world, taskId);
      failures.invocations += failed;
      return { taskId, outcome: result?.outcome, ms: performance.now() - began };
    };
    const revokedIn = async (taskId: string) => {
      const began = performance.now();
      const { failures: failed } = await end(world, taskId);
      failures.invocations += failed;
      const grant = await world.engine.store.get(grantIdFor(AGENT, taskId));
      return { taskId, state: grant?.state, ms: performance.now() - began };
    };

    // Unloaded: victims issued one at a time, half of them ended one at a time.
    const victims = Array.from({ length: VICTIMS }, (_, index) => `victim-${index}`);
    const unloaded = [];
    for (const taskId of victims) unloaded.push(await issuedIn(taskId));
    const baseline = [];
    for (const taskId of victims.slice(0, VICTIMS / 2)) baseline.push(await revokedIn(taskId));

    // The flood: λ = 10 μ for a second, while the other victims end during it.
    const arrivals = OVERLOAD * ISSUING_QUOTA;
    const flood = Array.from({ length: arrivals * FLOOD_SECONDS }, (_, index) => `flood-${index}`);
    const floodStarted = performance.now();
    const issuing = flood.map(async (taskId, index) => {
      await sleep((index / arrivals) * 1000);
      return issuedIn(taskId);
    });
    const underFlood = victims.slice(VICTIMS / 2).map(async (taskId, index) => {
      await sleep(((index + 1) / (VICTIMS / 2 + 1)) * FLOOD_SECONDS * 1000);
      return revokedIn(taskId);
    });
    const issued = await Promise.all(issuing);
    const drainMs = performance.now() - floodStarted;
    const revokedUnderFlood = await Promise.all(underFlood);

    // Every flood task ends; the sweep finishes whatever is still in flight.
    const ended = await Promise.all(flood.map((taskId) => revokedIn(taskId)));
    await world.invoke('sweep', eventBridgeEvent('Scheduled Event', {}, 'aws.events'));

    const grants = await world.engine.store.listGrants({ limit: 1000 });
    const { Users: users } = await world.aws.iam.send(new ListUsersCommand({ PathPrefix: '/taskbound/' }));
    const { SecretList: deliveries } = await world.aws.secrets.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['taskbound/'] }] }),
    );
    const ttc = issued.filter((one) => one.outcome === 'issued').map((one) => one.ms);
    const report = {
      machine: 'shared 2-core VM (see docs/scale.md §5)',
      date: new Date().toISOString().slice(0, 10),
      quotaScale: SCALE,
      quotaShare: QUOTA_SHARE,
      pacing: process.env.FLOOD_UNPACED ? 'removed (FLOOD_UNPACED=1)' : 'the composition’s (aws-engine.ts)',
      lambdaConcurrency: process.env.FLOOD_UNRESERVED
        ? 'unlimited (FLOOD_UNRESERVED=1)'
        : 'the stack’s default reservations (task-started 10, task-ended 20)',
      issuingQuotaPerSecond: ISSUING_QUOTA,
      arrivalsPerSecond: arrivals,
      starts: flood.length,
      // Issued, or answered otherwise (the agent was told: denied, failed), or lost: no answer after every invocation.
      outcomes: Object.fromEntries(
        [...new Set(issued.map((one) => one.outcome ?? 'lost'))].map((outcome) => [
          outcome,
          issued.filter((one) => (one.outcome ?? 'lost') === outcome).length,
        ]),
      ),
      lost: issued.filter((one) => one.outcome === undefined).length,
      failedInvocationsRetried: failures.invocations,
      drainSeconds: seconds(drainMs),
      predictedDrainSeconds: flood.length / ISSUING_QUOTA,
      timeToCredentialSeconds: {
        unloadedP50: seconds(
          percentile(
            unloaded.map((one) => one.ms),
            50,
          ),
        ),
        p50: seconds(percentile(ttc, 50)),
        p90: seconds(percentile(ttc, 90)),
        p99: seconds(percentile(ttc, 99)),
      },
      revocationSeconds: {
        baselineP99: seconds(
          percentile(
            baseline.map((one) => one.ms),
            99,
          ),
        ),
        underFloodP99: seconds(
          percentile(
            revokedUnderFlood.map((one) => one.ms),
            99,
          ),
        ),
        afterFloodP50: seconds(
          percentile(
            ended.map((one) => one.ms),
            50,
          ),
        ),
        afterFloodP99: seconds(
          percentile(
            ended.map((one) => one.ms),
            99,
          ),
        ),
      },
      throttledByTheService: service.throttled,
      leftAlive: {
        grants: grants.filter((grant) => grant.state !== 'verified').length,
        users: users?.length ?? 0,
        deliveries: deliveries?.length ?? 0,
      },
    };
    console.log(JSON.stringify(report, null, 2));
    writeFileSync(
      `bench/results/quota-flood-moto${process.env.FLOOD_UNPACED ? '-unpaced' : ''}.json`,
      `${JSON.stringify(report, null, 2)}\n`,
    );

    expect(report.lost).toBe(0);
    // Paced, the engine never sends past its share: the service had nothing to throttle.
    if (!process.env.FLOOD_UNPACED) expect(report.throttledByTheService).toEqual({});
    expect(report.outcomes).toEqual({ issued: flood.length });
    expect(grants).toHaveLength(VICTIMS + flood.length);
    expect(report.leftAlive).toEqual({ grants: 0, users: 0, deliveries: 0 });
    expect([...baseline, ...revokedUnderFlood, ...ended].every((one) => one.state === 'verified')).toBe(true);
    // The quota, not the emulator, set the pace: the flood drained no faster than the quota allows.
    expect(drainMs / 1000).toBeGreaterThanOrEqual(flood.length / ISSUING_QUOTA - 1);
    // 30-45 s on the loaded 2-core machine; the tier's 60 s default leaves too little margin.
  }, 180_000);
});
