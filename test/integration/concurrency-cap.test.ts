// Integration: the concurrency cap under simultaneous starts. Several engines (as several
// Lambdas would be), each with its own DynamoDB client and store, over one dynalite table:
// the cap is a transaction's conditional write on the agent's slot items, so no read-then-write race.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbGrantStore } from '../../lambdas/adapters/aws/dynamodb-grant-store';
import { ensureGrantTable } from '../../lambdas/adapters/aws/grant-table-definition';
import { slotKey } from '../../lambdas/adapters/aws/grant-table';
import { grantIdFor } from '../../lambdas/domain/ids';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { endTask } from '../../lambdas/use-cases/end-task';
import { SLOT_GRACE_MS } from '../../lambdas/use-cases/release-stale-slots';
import { startTask } from '../../lambdas/use-cases/start-task';
import { sweepDueGrants } from '../../lambdas/use-cases/sweep';
import { useEmbeddedStore } from '../helpers/embedded-store-fixture';
import { fakeEngine, taskStarted, type FakeEngine } from '../helpers/fake-engine';
import { TEST_POLICY_YAML } from '../helpers/test-policy';

const fixture = useEmbeddedStore();
/** deploy-bot capped at four live grants. */
const CAPPED_AT_FOUR = parsePolicy(TEST_POLICY_YAML.replace('maxConcurrentGrants: 5', 'maxConcurrentGrants: 4'), 'test.policy.yaml');

/** `count` engines sharing one table and one clock, each with a store of its own. */
async function lambdas(count: number): Promise<{ engines: FakeEngine[]; tableName: string }> {
  const tableName = fixture.freshTableName();
  await ensureGrantTable(fixture.client, tableName);
  const first = fakeEngine();
  const engines = Array.from({ length: count }, () => {
    // Each engine's own client, its middleware cached as the engines build it.
    const store = new DynamoDbGrantStore({
      client: new DynamoDBClient({ ...localClientConfig(fixture.endpoint), cacheMiddleware: true }),
      tableName,
    });
    return { ...first, policy: CAPPED_AT_FOUR, store } as unknown as FakeEngine;
  });
  return { engines, tableName };
}

const keyTask = (taskId: string) => taskStarted({ agentId: 'deploy-bot', taskId, scopes: ['bucket-read-key'] });

describe('the concurrency cap, with starts racing on separate engines', () => {
  it('six simultaneous Task Started for an agent capped at four issue four credentials and deny two, saying why', async () => {
    const { engines } = await lambdas(6);

    const results = await Promise.all(engines.map((engine, index) => startTask(engine, keyTask(`race-${index}`))));

    const issued = results.filter((result) => result.outcome === 'issued');
    const denied = results.filter((result) => result.outcome === 'denied');
    expect(issued).toHaveLength(4);
    expect(denied).toHaveLength(2);
    for (const refusal of denied) expect(refusal).toMatchObject({ reason: 'agent "deploy-bot" already holds 4 live grants (maximum 4)' });
    expect(engines[0]?.keys.issued.size).toBe(4);
    expect(new Set(issued.map((result) => result.grant.concurrencySlot))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('a duplicate of a live grant keeps its one slot; a task that ends gives its slot to the next start', async () => {
    const { engines } = await lambdas(4);
    const [engine] = engines as [FakeEngine];
    for (const taskId of ['a', 'b', 'c', 'd']) await startTask(engine, keyTask(taskId));

    const duplicate = await startTask(engine, keyTask('a'));
    const refused = await startTask(engine, keyTask('e'));
    await endTask(engine, { agentId: 'deploy-bot', taskId: 'b', outcome: 'succeeded' });
    const next = await startTask(engine, keyTask('f'));

    expect(duplicate).toMatchObject({ outcome: 'duplicate' });
    expect(refused).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/maximum 4/) });
    expect(next).toMatchObject({ outcome: 'issued' });
    expect((await engine.store.slotHolders('deploy-bot')).map((holder) => holder.grantId).sort()).toEqual(
      ['a', 'c', 'd', 'f'].map((taskId) => grantIdFor('deploy-bot', taskId)).sort(),
    );
  });

  it('a failed issue gives its slot back', async () => {
    const { engines } = await lambdas(1);
    const [engine] = engines as [FakeEngine];
    engine.keys.failNextIssue = new Error('IAM is down');

    const failed = await startTask(engine, keyTask('broken'));

    expect(failed).toMatchObject({ outcome: 'failed' });
    expect(await engine.store.slotHolders('deploy-bot')).toEqual([]);
  });

  it('the sweep frees a slot whose holder never became a grant (a start that died between its two writes, before they were one)', async () => {
    const { engines, tableName } = await lambdas(1);
    const [engine] = engines as [FakeEngine];
    const at = engine.clock.now().toISOString();
    // Slots with no grant behind them: what a start that died between its two writes left before both were one transaction.
    for (const [slot, ghost] of ['ghost-1', 'ghost-2', 'ghost-3', 'ghost-4'].entries())
      await fixture.documents.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...slotKey('deploy-bot', slot), holder: grantIdFor('deploy-bot', ghost), reservedAt: at },
        }),
      );
    await startTask(engine, keyTask('blocked')).then((result) => expect(result).toMatchObject({ outcome: 'denied' }));

    const early = await sweepDueGrants(engine);
    engine.clock.advance(SLOT_GRACE_MS + 1000);
    const late = await sweepDueGrants(engine);
    const after = await startTask(engine, keyTask('unblocked'));

    expect(early.slotsReleased).toBe(0);
    expect(late.slotsReleased).toBe(4);
    expect(after).toMatchObject({ outcome: 'issued' });
  });
});
