import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_CANARY_SECRET_NAME } from '../../lambdas/adapters/aws/canary-probe';
import type { EventEnvelope } from '../../lambdas/local/emulated-aws/event-bus';
import { verifyChain } from '../../lambdas/domain/audit';
import type { Delivery } from '../helpers/agent-runtime';
import { startHarness, type Harness } from './local-engine';

/** The emulated time IAM takes to enforce a revoked session's deny. */
const DENY_LAG_MS = 400;

/** DescribeSecret on the canary, as the agent holding the session would call it: `ok` or AWS's error name. */
async function describeCanaryAs(engineUrl: string, delivery: Delivery): Promise<string> {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: engineUrl,
    maxAttempts: 1,
    credentials: { accessKeyId: delivery.accessKeyId!, secretAccessKey: delivery.secretAccessKey!, sessionToken: delivery.sessionToken! },
  });
  try {
    await client.send(new DescribeSecretCommand({ SecretId: LOCAL_CANARY_SECRET_NAME }));
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  } finally {
    client.destroy();
  }
}

describe('local engine: a revoked session is proven dead by a refused canary call', () => {
  let h: Harness;
  const published: EventEnvelope[] = [];
  beforeAll(async () => {
    h = await startHarness({ sessionDenyLagMs: DENY_LAG_MS, probeSchedule: { attempts: 6, delayMs: 100 } });
    h.engine.bus.subscribe((envelope) => published.push(envelope));
  });
  afterAll(async () => {
    await h.stop();
  });

  it("lets a live session describe the canary, denies it once revoked, and verifies the grant with the deny's propagation time", async () => {
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'canary-1',
      purpose: 'prove it dead',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', 'canary-1', ['issued']);
    expect(delivery.kind).toBe('aws-sts-session');
    expect(await describeCanaryAs(h.engine.url, delivery)).toBe('ok');

    const endedAt = Date.now();
    await h.runtime.endTask({ agentId: 'release-bot', taskId: 'canary-1', outcome: 'succeeded' });
    const answers: string[] = [];
    do answers.push(await describeCanaryAs(h.engine.url, delivery));
    while (answers.at(-1) === 'ok' && Date.now() - endedAt < 5_000);

    // The agent sees its session keep working while the deny propagates, then AccessDenied.
    expect(answers.at(-1)).toBe('AccessDeniedException');
    expect(answers.slice(0, -1).every((answer) => answer === 'ok')).toBe(true);
    const grant = await h.waitForGrant('release-bot', 'canary-1', ['verified']);
    const verified = grant.audit.at(-1)!;
    expect(verified).toMatchObject({ action: 'verified', detail: { probe: 'AccessDeniedException', observed: true } });
    const propagationMs = verified.detail!.propagationMs as number;
    // Revocation write → the engine's first refused canary call: about the emulated lag, bounded by the probe schedule. The lag
    // runs from the emulated IAM's write and the engine stamps the revocation once that call has answered, so on a loaded
    // machine the figure can fall short of the lag by the call's own time (379 ms for a 400 ms lag was seen).
    expect(propagationMs).toBeGreaterThanOrEqual(DENY_LAG_MS / 2);
    expect(propagationMs).toBeLessThan(DENY_LAG_MS + 3_200);
    expect(verifyChain(grant.grantId, grant.audit)).toEqual({ ok: true });
    // The event follows the grant's write, so it may land a moment after the grant reads verified.
    await vi.waitFor(() => {
      const event = published.find(
        (envelope) => envelope['detail-type'] === 'Revocation Verified' && envelope.detail.grantId === grant.grantId,
      );
      expect(event?.detail).toMatchObject({ observed: true, propagationMs });
    });
  });

  it('leaves a session whose deny outlasts the probe schedule revoked, and the sweep verifies it later', async () => {
    await h.stop();
    h = await startHarness({ sessionDenyLagMs: 1_500, probeSchedule: { attempts: 2, delayMs: 100 }, dueTiming: { retryAfterMs: 1_000 } });
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'canary-2',
      purpose: 'slow deny',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', 'canary-2', ['issued']);

    await h.runtime.endTask({ agentId: 'release-bot', taskId: 'canary-2', outcome: 'succeeded' });
    const revoked = await h.waitForGrant('release-bot', 'canary-2', ['revoked']);
    expect(revoked.verifiedAt).toBeUndefined();
    expect(await describeCanaryAs(h.engine.url, delivery)).toBe('ok');

    // Past the deny's lag and the retry delay: the sweep probes again and sees the refusal.
    await new Promise((done) => setTimeout(done, 1_600));
    expect(await h.engine.sweep()).toMatchObject({ verified: 1 });

    const grant = await h.waitForGrant('release-bot', 'canary-2', ['verified']);
    expect(grant.audit.at(-1)?.detail).toMatchObject({ observed: true, propagationMs: expect.any(Number) });
    expect(grant.audit.at(-1)!.detail!.propagationMs as number).toBeGreaterThanOrEqual(1_500);
  });

  it("hands the proof on: with one task-ended slot, a second task's kill does not wait for the first one's proof", async () => {
    await h.stop();
    // One slot per revoking function, and a deny IAM takes 1.5 s to enforce: proven in place, the second
    // Task Ended would wait for the first proof (≥ 1.5 s) before its kill.
    h = await startHarness({
      sessionDenyLagMs: 1_500,
      probeSchedule: { attempts: 6, delayMs: 250 },
      reservedConcurrency: { issuing: 2, revoking: 1 },
    });
    const tasks = ['handed-1', 'handed-2'];
    for (const taskId of tasks) {
      await h.runtime.startTask({
        agentId: 'release-bot',
        taskId,
        purpose: 'hand the proof on',
        requestedBy: 'dev@example.com',
        scopes: ['repo-read'],
      });
    }
    const deliveries = await Promise.all(tasks.map((taskId) => h.runtime.waitForDelivery('release-bot', taskId, ['issued'])));

    const endedAt = Date.now();
    for (const taskId of tasks) await h.runtime.endTask({ agentId: 'release-bot', taskId, outcome: 'succeeded' });
    // Both killed (recorded `revoked`, their deny written) long before either deny is enforced.
    for (const taskId of tasks) await h.waitForGrant('release-bot', taskId, ['revoked', 'verified']);
    expect(Date.now() - endedAt).toBeLessThan(1_200);
    for (const delivery of deliveries) expect(await describeCanaryAs(h.engine.url, delivery)).toBe('ok');

    // prove-revocation proves both once the deny is enforced, without a sweep.
    for (const [index, taskId] of tasks.entries()) {
      const grant = await h.waitForGrant('release-bot', taskId, ['verified']);
      expect(grant.revocation).toMatchObject({ trigger: 'task_ended' });
      expect(grant.audit.at(-1)?.detail).toMatchObject({ probe: 'AccessDeniedException', observed: true });
      expect(await describeCanaryAs(h.engine.url, deliveries[index]!)).toBe('AccessDeniedException');
    }
    expect(h.engine.functionLoad()['prove-revocation']?.invocations).toBe(2);
  });
});
