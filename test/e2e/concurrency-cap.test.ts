// E2E: the concurrency cap on the local engine, driven only through its AWS endpoints: six
// Task Started put on the bus at once for an agent capped at four live grants.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY, startHarness, type Harness } from './local-engine';

describe('local engine: the concurrency cap under simultaneous starts', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskbound-cap-'));
    const policyFile = join(dir, 'capped.policy.yaml');
    // release-bot capped at four live grants instead of five.
    const capped = readFileSync(EXAMPLE_POLICY, 'utf8').replace(/(release-bot:[\s\S]*?maxConcurrentGrants: )5/, '$14');
    expect(capped).not.toBe(readFileSync(EXAMPLE_POLICY, 'utf8'));
    writeFileSync(policyFile, capped);
    h = await startHarness({ policyFile });
  });
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issues four credentials and denies two, each denial saying the agent holds four', async () => {
    const tasks = Array.from({ length: 6 }, (_, index) => `race-${index}`);

    await Promise.all(
      tasks.map((taskId) =>
        h.runtime.startTask({ agentId: 'release-bot', taskId, purpose: 'race', requestedBy: 'dev@example.com', scopes: ['repo-read'] }),
      ),
    );
    const deliveries = await Promise.all(tasks.map((taskId) => h.runtime.waitForDelivery('release-bot', taskId, ['issued', 'denied'])));

    expect(deliveries.filter((delivery) => delivery.status === 'issued')).toHaveLength(4);
    const denied = deliveries.filter((delivery) => delivery.status === 'denied');
    expect(denied).toHaveLength(2);
    for (const refusal of denied) expect(refusal.reason).toBe('agent "release-bot" already holds 4 live grants (maximum 4)');
  });
});
