// Tests (e2e, the local engine in process): the machine's clock stepped while the engine runs. The
// engine's clock is the one `npm start` uses (steadyClock), fed a wall clock this test steps, so
// the steps reach every part of the engine that reads the time (STS, the gate, timers, the sweep)
// as a real step would, without changing this machine's clock. Forward: what is due dies at once.
// Back: nothing lives longer than its TTL in real time, also when the step came while it was stopped.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { steadyClock } from '../../lambdas/adapters/local/steady-clock';
import { silentLogger } from '../../lambdas/use-cases/engine-deps';
import { startHarness, type Harness } from './local-engine';

/** The sweep's period here: a forward step is caught by the next sweep (timers run on real time). */
const SWEEP_MS = 500;
const TTL_SECONDS = 60;
/**
 * The step: ten minutes, both ways. The runtime here signs with this machine's unstepped clock, and
 * SigV4 refuses a request more than 15 minutes off the engine's; on a real step both move together.
 */
const STEP_MS = 10 * 60_000;
/** How long after its expiry a credential may still work: a sweep, its revocation and the probe. */
const BOUND_MS = 3_000;

describe('local engine: the machine clock stepped while it runs', () => {
  let harness: Harness | undefined;
  const wall = { offsetMs: 0 };

  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  async function issueKey(taskId: string) {
    wall.offsetMs = 0;
    const clock = steadyClock({ wallMs: () => Date.now() + wall.offsetMs, monotonicMs: () => performance.now() });
    harness = await startHarness({ clock, sweepIntervalMs: SWEEP_MS, logger: silentLogger });
    const task = { agentId: 'ops-bot', taskId, scopes: ['reports-upload-key'], ttlSeconds: TTL_SECONDS };
    await harness.runtime.startTask({ ...task, purpose: 'clock steps', requestedBy: 'dev@example.com' });
    const delivery = await harness.runtime.waitForDelivery(task.agentId, task.taskId, ['issued']);
    await harness.waitForGrant(task.agentId, task.taskId, ['active']);
    expect(await harness.runtime.whoAmI(delivery)).toMatchObject({ ok: true });
    return { task, delivery, expiresAtMs: Date.parse(delivery.expiration ?? '') };
  }

  it('expires a grant at once when the clock steps forward past its expiry', async () => {
    const { task, delivery } = await issueKey('forward');

    wall.offsetMs = STEP_MS;
    const stepped = Date.now();

    expect(await harness!.runtime.waitUntilRejected(delivery, BOUND_MS + SWEEP_MS, 100)).toBe('InvalidClientTokenId');
    expect(Date.now() - stepped).toBeLessThan(BOUND_MS + SWEEP_MS);
    expect((await harness!.waitForGrant(task.agentId, task.taskId, ['verified'])).revocation).toMatchObject({ trigger: 'expired' });
  }, 30_000);

  it('kills a grant no later than its TTL in real time when the clock steps back ten minutes before its expiry', async () => {
    const { task, delivery, expiresAtMs } = await issueKey('back');
    // Forward to 3 s before its expiry (so the test need not wait out the TTL); the engine reads its clock
    // (its sweeps) for a second; then back ten minutes.
    wall.offsetMs = expiresAtMs - 3_000 - Date.now();
    await new Promise((done) => setTimeout(done, 1_000));
    const engineNowAtStep = harness!.engine.deps.clock.now().getTime();
    const steppedAt = performance.now();
    wall.offsetMs -= STEP_MS;

    expect(await harness!.runtime.waitUntilRejected(delivery, 2_000 + BOUND_MS + SWEEP_MS, 100)).toBe('InvalidClientTokenId');
    const realMsToExpiry = expiresAtMs - engineNowAtStep;
    expect(performance.now() - steppedAt).toBeLessThan(realMsToExpiry + BOUND_MS + SWEEP_MS);
    expect((await harness!.waitForGrant(task.agentId, task.taskId, ['verified'])).revocation).toMatchObject({ trigger: 'expired' });
  }, 30_000);
});

describe('local engine: the machine clock stepped back while it was stopped', () => {
  let dataDir: string;
  let harness: Harness | undefined;
  const warnings: string[] = [];
  const logger = { info: () => undefined, error: () => undefined, warn: (message: string) => void warnings.push(message) };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-clock-back-'));
  });

  afterAll(async () => {
    await harness?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("runs its clock on from the last run's writes, instead of re-arming every expiry late by the step", async () => {
    const wall = { offsetMs: 0 };
    const clockOver = () => steadyClock({ wallMs: () => Date.now() + wall.offsetMs, monotonicMs: () => performance.now() });
    harness = await startHarness({ dataDir, clock: clockOver(), logger });
    const task = { agentId: 'ops-bot', taskId: 'stopped-then-back', scopes: ['reports-upload-key'], ttlSeconds: TTL_SECONDS };
    await harness.runtime.startTask({ ...task, purpose: 'clock steps', requestedBy: 'dev@example.com' });
    const delivery = await harness.runtime.waitForDelivery(task.agentId, task.taskId, ['issued']);
    const issued = await harness.waitForGrant(task.agentId, task.taskId, ['active']);
    await harness.stop();
    harness = undefined;

    wall.offsetMs = -STEP_MS;
    harness = await startHarness({ dataDir, clock: clockOver(), logger });

    expect(harness.engine.deps.clock.now().getTime()).toBeGreaterThanOrEqual(Date.parse(issued.updatedAt));
    expect(warnings).toContain("this machine's clock is behind the engine's last write: the engine's clock runs on from that write");
    expect(await harness.runtime.whoAmI(delivery)).toMatchObject({ ok: true });
  }, 60_000);
});
