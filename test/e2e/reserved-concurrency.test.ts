// E2E (local engine): the engine's functions run within their reserved concurrency, as on
// Lambda: starts beyond the issuing share wait their turn and are all issued, none refused.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalEngine } from '../../lambdas/local/engine';
import { startHarness, EXAMPLE_POLICY, type Harness } from './local-engine';

const TASKS = ['t1', 't2', 't3', 't4', 't5'];

describe('the local engine with reserved concurrency', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('runs at most the issuing share of task-started at once, queues the rest, and issues every one', async () => {
    h = await startHarness({ reservedConcurrency: { issuing: 2, revoking: 20 } });
    const detail = (taskId: string) => ({
      agentId: 'release-bot',
      taskId,
      purpose: 'bump deps',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });

    // Five starts accepted together reach task-started together.
    await h.engine.bus.put(
      TASKS.map((taskId) => ({ source: 'example.agent-runtime', detailType: 'Task Started', detail: detail(taskId) })),
    );
    for (const taskId of TASKS) await h.waitForGrant('release-bot', taskId, ['active']);
    await h.engine.bus.idle();

    const load = h.engine.functionLoad();
    expect(load['task-started']).toMatchObject({ limit: 2, peakInFlight: 2, inFlight: 0, queued: 0 });
    expect(load['task-started']!.peakQueued).toBeGreaterThanOrEqual(1);
    expect(load['task-ended']).toMatchObject({ limit: 20 });
    expect(load.sweep).toMatchObject({ limit: 1 });
  }, 30_000);

  it('limits every function to the stack defaults unless told otherwise: 10 issuing, 20 revoking, the sweep 1', async () => {
    h = await startHarness();
    const load = h.engine.functionLoad();
    expect(load['task-started']).toMatchObject({ limit: 10 });
    expect(load['expire-grant']).toMatchObject({ limit: 20 });
    expect(load.sweep).toMatchObject({ limit: 1 });
    // Functions the stack reserves nothing for draw on the account's pool: no local limit either.
    expect(load.alerts).toBeUndefined();
  });

  it('refuses a share that is not a positive integer before starting anything', async () => {
    await expect(
      startLocalEngine({ policyFile: EXAMPLE_POLICY, port: 0, reservedConcurrency: { issuing: 0, revoking: 20 } }),
    ).rejects.toThrow(/^invalid local engine settings: reservedConcurrency/);
  });

  it('npm start refuses a share that is not two positive integers, saying what it takes', async () => {
    const entry = resolve(__dirname, '../../bin/local-engine.ts');
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', entry, '--reserved-concurrency', '0,20'], {
      cwd: resolve(__dirname, '../..'),
    });

    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('<issuing>,<revoking> (positive integers, e.g. 10,20) or off'),
    });
  }, 30_000);
});
