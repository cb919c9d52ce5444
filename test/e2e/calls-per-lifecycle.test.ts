// E2E test: the SDK calls the local engine makes for one auto-approved session lifecycle,
// operation by operation (issue 12 item 4; bench/README.md lists what each is for).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './local-engine';

/** The engine's 15 calls: 8 to issue and deliver, 7 to revoke, prove dead and clean up. */
const ONE_LIFECYCLE: Readonly<Record<string, number>> = {
  TransactWriteItemsCommand: 2,
  PutItemCommand: 2,
  DescribeSecretCommand: 2,
  CreateSecretCommand: 1,
  PutResourcePolicyCommand: 1,
  PutSecretValueCommand: 1,
  PutEventsCommand: 2,
  GetItemCommand: 1,
  UpdateItemCommand: 1,
  GetSecretValueCommand: 1,
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

  it('makes 15 SDK calls for an auto-approved session, from Task Started to verified dead', async () => {
    const before = new Map(h.engine.sdkCalls.byOperation);
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'counted',
      purpose: 'count the calls',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', 'counted', ['issued', 'denied']);
    expect(delivery.status).toBe('issued');
    await h.runtime.endTask({ agentId: 'release-bot', taskId: 'counted', outcome: 'succeeded' });
    await h.waitForGrant('release-bot', 'counted', ['verified']);
    await h.engine.bus.idle();

    const made: Record<string, number> = {};
    for (const [operation, count] of h.engine.sdkCalls.byOperation) {
      const during = count - (before.get(operation) ?? 0);
      if (during !== 0) made[operation] = during;
    }
    expect(made).toEqual(ONE_LIFECYCLE);
    expect(Object.values(made).reduce((sum, count) => sum + count, 0)).toBe(15);
  });
});
