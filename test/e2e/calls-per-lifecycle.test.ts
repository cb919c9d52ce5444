// E2E test: the SDK calls the local engine makes for one auto-approved session lifecycle,
// operation by operation (issue 12 item 4; bench/README.md lists what each is for).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './local-engine';

/**
 * The engine's 11 calls: 6 to issue and deliver (the delivery created with its value, then locked:
 * the delivery key's policy locks the value until then), 5 to revoke, prove dead and clean up (the grant and
 * the credential are not read back: the engine remembers what it wrote). The agent's first session
 * also takes its role's canary proof (one DescribeSecret more, every 5 minutes) and writes the copies
 * of its standing that its starts check (the opening refused, the agent read, the copies written: 3).
 */
const ONE_LIFECYCLE: Readonly<Record<string, number>> = {
  TransactWriteItemsCommand: 2,
  PutItemCommand: 2,
  DescribeSecretCommand: 1,
  CreateSecretCommand: 1,
  PutResourcePolicyCommand: 1,
  PutEventsCommand: 2,
  UpdateItemCommand: 1,
  DeleteSecretCommand: 1,
};

describe('local engine: SDK calls per lifecycle', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });

  /** One auto-approved session lifecycle, Task Started to verified dead: the SDK calls it made, by operation. */
  async function countedLifecycle(taskId: string): Promise<Record<string, number>> {
    const before = new Map(h.engine.sdkCalls.byOperation);
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId,
      purpose: 'count the calls',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', taskId, ['issued', 'denied']);
    expect(delivery.status).toBe('issued');
    await h.runtime.endTask({ agentId: 'release-bot', taskId, outcome: 'succeeded' });
    await h.waitForGrant('release-bot', taskId, ['verified']);
    await h.engine.bus.idle();

    const made: Record<string, number> = {};
    for (const [operation, count] of h.engine.sdkCalls.byOperation) {
      const during = count - (before.get(operation) ?? 0);
      if (during !== 0) made[operation] = during;
    }
    return made;
  }

  it("makes 15 SDK calls for an agent's first session: the 11 of every lifecycle, its role's canary proof and its standing's copies", async () => {
    const made = await countedLifecycle('first');

    expect(made).toEqual({ ...ONE_LIFECYCLE, DescribeSecretCommand: 2, TransactWriteItemsCommand: 4, GetItemCommand: 1 });
  });

  it('makes 11 SDK calls for each session after it, from Task Started to verified dead', async () => {
    const made = await countedLifecycle('counted');

    expect(made).toEqual(ONE_LIFECYCLE);
    expect(Object.values(made).reduce((sum, count) => sum + count, 0)).toBe(11);
  });
});
