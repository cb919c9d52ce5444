// Tests (e2e, the local engine as a child process): crash under load (issue 12 item 2). Busy
// runtimes start tasks, read deliveries, use, leak and end them while a kill switch suspends
// and resumes an agent; the engine is `kill -9`ed at seeded random moments and restarted on
// the same data directory. Once the load stops and the engine settles: no accepted Task
// Started is without a grant, no credential works, no delivery holds one, every chain verifies.
// Checked from outside only (CLI, STS, Secrets Manager, DynamoDB), so it survives a rework of
// the engine's insides. CRASH_SEED replays a run; CRASH_KILLS sets the kills (npm run test:faults runs more).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BusyRuntimes, seededRandom } from '../../bench/soak-runtimes';
import { settleAndCheck, taskbound } from '../../bench/soak-checks';
import { freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';

const SOAK_POLICY_FILE = resolve(import.meta.dirname, '../../bench/soak.policy.yaml');
const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
const KILLS = Number(process.env.CRASH_KILLS ?? 2);
const RUNTIMES = Number(process.env.CRASH_RUNTIMES ?? 6);
/** Kills come this long after the engine is ready, at a seeded random point in the range. */
const KILL_AFTER_MS = { min: 1_000, max: 5_000 };
/** Engine start (tsx compiles it; 10 s and more on a busy machine) plus load per kill, plus the settle and its CLI calls. */
const TIMEOUT_MS = 60_000 + KILLS * 25_000;

describe('local engine: kill -9 under load, then settle', () => {
  let dataDir: string | undefined;
  let engine: EngineProcess | undefined;
  let runtimes: BusyRuntimes | undefined;

  afterAll(async () => {
    runtimes?.abort();
    await engine?.kill();
    if (dataDir && !process.env.CRASH_KEEP_DIR) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `loses no grant and leaves no credential alive (seed ${SEED}, ${KILLS} kills; CRASH_SEED=${SEED} replays it)`,
    async () => {
      console.log(`crash under load: seed ${SEED}, ${KILLS} kills, ${RUNTIMES} runtimes`);
      const random = seededRandom(SEED);
      const dir = await mkdtemp(join(tmpdir(), 'taskbound-crash-'));
      dataDir = dir;
      const port = await freeLoopbackPort();
      const start = () => startEngineProcess({ dataDir: dir, port, policyFile: SOAK_POLICY_FILE, sweepIntervalSeconds: 2 });
      engine = await start();
      const endpoint = engine.url;
      const resume = async (agentId: string) => {
        const answer = await taskbound(
          endpoint,
          'resume',
          agentId,
          '--as',
          'lead@example.com',
          '--data-dir',
          dir,
          '--reason',
          'crash test: drill over',
        );
        if (answer.code !== 0) throw new Error(`resume failed (${answer.code}): ${answer.stderr.slice(0, 300)}`);
      };
      const load = new BusyRuntimes({
        endpoint,
        runtimes: RUNTIMES,
        random,
        taskPrefix: `crash-${SEED}`,
        leakShare: 0.1,
        switchedShare: 0.25,
        resume,
        suspensionEveryMs: 3_000,
        deliveryTimeoutMs: 8_000,
      });
      runtimes = load;
      load.start();

      const kills: number[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        const afterMs = Math.round(KILL_AFTER_MS.min + random() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min));
        await new Promise((done) => setTimeout(done, afterMs));
        kills.push(afterMs);
        await engine.kill();
        engine = await start();
      }
      // The last engine serves the load a while before it stops.
      await new Promise((done) => setTimeout(done, 1_500));
      await load.stop();

      const check = await settleAndCheck({ endpoint, dataDir: dir, ledger: load.ledger, settleTimeoutMs: 30_000 });
      const summary = JSON.stringify({
        seed: SEED,
        dataDir: dir,
        killsAfterMs: kills,
        counts: load.ledger.counts,
        undelivered: load.ledger.undelivered,
        ...check,
      });
      console.log(`crash under load: ${summary}`);

      // The load was real: tasks ran on both sides of the kills and some credentials were delivered.
      expect(load.ledger.counts.started, summary).toBeGreaterThan(RUNTIMES);
      expect(load.ledger.credentials.length, summary).toBeGreaterThan(0);
      expect(check.lostGrants, summary).toEqual([]);
      expect(check.unsettled, summary).toEqual([]);
      expect(check.liveCredentials, summary).toEqual([]);
      expect(check.deliveriesHoldingCredentials, summary).toEqual([]);
      expect(check.auditVerified, `${summary}\n${engine.output()}`).toBe(true);
    },
    TIMEOUT_MS,
  );
});
