// Bench: one sweep over a table of 10,000 active grants of which some are past expiry.
// The grants are seeded straight into the engine's GrantStore (issuing 10,000 through the
// full path would take minutes); the due ones get a real credential and delivery, so the
// sweep revokes, probes and verifies them as it would in production.
import { ENGINE_ACTOR, openGrant, transition, type Grant } from '../lambdas/domain/grant';
import { deliverySecretName, grantIdFor } from '../lambdas/domain/ids';
import type { LocalEngine } from '../lambdas/local/engine';
import type { SweepReport } from '../lambdas/use-cases/sweep';
import { ACCESS_KEY_SCOPE, BENCH_AGENT } from './driver';
import { callsBetween, totalCalls, type HttpCallCounter, type HttpCallCounts } from './http-calls';

export interface SweepOptions {
  readonly activeGrants: number;
  /** How many of the active grants are already past their expiry. */
  readonly dueGrants: number;
  readonly seedConcurrency: number;
}

export interface SweepRun {
  readonly activeGrants: number;
  readonly seedMs: number;
  readonly report: SweepReport;
  readonly ms: number;
  readonly http: HttpCallCounts;
  readonly sdkCalls: number;
  /** A second sweep right after: nothing is due any more. */
  readonly idle: { readonly report: SweepReport; readonly ms: number };
}

const KIND = 'aws-iam-access-key';
const HOUR_MS = 3_600_000;

async function seedGrant(engine: LocalEngine, taskId: string, due: boolean): Promise<void> {
  const { deps, policy } = engine;
  const agent = policy.agents[BENCH_AGENT];
  if (!agent) throw new Error(`the bench policy lacks agent ${BENCH_AGENT}`);
  const issuedAt = new Date(Date.now() - (due ? 2 * 60_000 : 0));
  const expiresAt = new Date(due ? Date.now() - 60_000 : Date.now() + HOUR_MS);
  const at = issuedAt.toISOString();
  const grantId = grantIdFor(BENCH_AGENT, taskId);
  const deliverySecret = deliverySecretName(BENCH_AGENT, taskId);
  const opened = openGrant({
    grantId,
    taskId,
    agentId: BENCH_AGENT,
    at,
    actor: 'bench@example.com',
    policyVersion: policy.policyVersion,
    scopes: [ACCESS_KEY_SCOPE],
    purpose: 'seeded by the bench',
    requestedBy: 'bench@example.com',
    owner: agent.owner,
    ttlSeconds: 3600,
  });
  const issuing = transition(opened, {
    to: 'issuing',
    at,
    actor: ENGINE_ACTOR,
    action: 'auto-approved',
    changes: { actionClasses: ['write'], credentialKind: KIND, ttlSeconds: 3600, deliverySecret },
  });
  const credential = due
    ? await deps.issuers[KIND].issue({
        grantId,
        taskId,
        agentId: BENCH_AGENT,
        kind: KIND,
        statements: [],
        brokeredSecretArns: [],
        ttlSeconds: 3600,
        expiresAt,
      })
    : undefined;
  if (credential) {
    await deps.vault.deliver({
      name: deliverySecret,
      grantId,
      agentId: BENCH_AGENT,
      taskId,
      readerArn: agent.runtimePrincipal,
      expiresAt: expiresAt.toISOString(),
      payload: {
        status: 'issued',
        grantId,
        scopes: [ACCESS_KEY_SCOPE],
        kind: KIND,
        accessKeyId: credential.accessKeyId,
        secretAccessKey: credential.secretAccessKey,
        expiration: expiresAt.toISOString(),
      },
    });
  }
  const active: Grant = transition(issuing, {
    to: 'active',
    at,
    actor: ENGINE_ACTOR,
    action: 'issued',
    changes: {
      credential: {
        kind: KIND,
        accessKeyId: credential?.accessKeyId ?? `AKIABENCH${taskId.replace(/\D/g, '').padStart(11, '0')}`,
        principalArn: credential?.principalArn ?? 'arn:aws:iam::000000000000:user/bench',
        expiresAt: expiresAt.toISOString(),
      },
      expiresAt: expiresAt.toISOString(),
    },
  });
  const created = await deps.store.create(active);
  if (!created.created) throw new Error(`seeded grant ${grantId} already existed`);
}

/** Seeds the table, then times one sweep and one more with nothing left due. */
export async function measureSweep(engine: LocalEngine, http: HttpCallCounter, options: SweepOptions): Promise<SweepRun> {
  const run = Date.now().toString(36);
  const seedStarted = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < options.activeGrants) {
      const index = next++;
      await seedGrant(engine, `sweep-${run}-${index}`, index < options.dueGrants);
    }
  };
  await Promise.all(Array.from({ length: options.seedConcurrency }, worker));
  const seedMs = performance.now() - seedStarted;

  const before = http.snapshot();
  const started = performance.now();
  const report = await engine.sweep();
  const ms = performance.now() - started;
  const calls = callsBetween(before, http.snapshot());
  await engine.bus.idle();

  const idleStarted = performance.now();
  const idleReport = await engine.sweep();
  const idle = { report: idleReport, ms: performance.now() - idleStarted };
  return { activeGrants: options.activeGrants, seedMs, report, ms, http: calls, sdkCalls: totalCalls(calls), idle };
}
