// expireDueShard: one reader of the due-index fan-out, over the real grant store on an embedded
// DynamoDB (its shards are the real ones): it expires exactly the expired active grants of its
// shard, leaves the rest, and a grant whose revocation fails stays due for the next reader.
import { describe, expect, it } from 'vitest';
import { DynamoDbGrantStore } from '../../../lambdas/adapters/aws/dynamodb-grant-store';
import { ensureGrantTable } from '../../../lambdas/adapters/aws/grant-table-definition';
import { grantIdFor, shardOf } from '../../../lambdas/domain/ids';
import { expireDueShard } from '../../../lambdas/use-cases/expire-due';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { useEmbeddedStore } from '../../helpers/embedded-store-fixture';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

const SHARDS = 4;

describe('expireDueShard', () => {
  const db = useEmbeddedStore();

  async function engineWithGrants(ttls: Readonly<Record<string, number>>) {
    const tableName = db.freshTableName();
    await ensureGrantTable(db.client, tableName);
    const engine = { ...fakeEngine(), store: new DynamoDbGrantStore({ client: db.client, tableName, dueShards: SHARDS }) };
    for (const [taskId, ttlSeconds] of Object.entries(ttls)) await startTask(engine, taskStarted({ taskId, ttlSeconds }));
    return engine;
  }
  const shardOfTask = (taskId: string) => shardOf(grantIdFor('release-bot', taskId), SHARDS);

  it('expires the expired active grants of its shard only, and nothing before their expiry', async () => {
    const tasks = { a: 60, later: 1800 }; // release-bot may hold 2 at once
    const engine = await engineWithGrants(tasks);
    const readAll = async () => Promise.all(Array.from({ length: SHARDS }, (_, shard) => expireDueShard(engine, shard)));

    expect((await readAll()).reduce((sum, report) => sum + report.expired, 0)).toBe(0);
    engine.clock.advance(60_000);
    const reports = await readAll();

    for (const report of reports) {
      const inShard = ['a'].filter((taskId) => shardOfTask(taskId) === report.shard);
      expect(report, `shard ${report.shard}`).toMatchObject({ expired: inShard.length, errors: 0, itemsRead: inShard.length });
    }
    for (const taskId of ['a']) {
      expect((await engine.store.get(grantIdFor('release-bot', taskId)))?.revocation).toMatchObject({
        trigger: 'expired',
        reason: 'TTL of 60 s elapsed',
      });
    }
    expect((await engine.store.get(grantIdFor('release-bot', 'later')))?.state).toBe('active');
  });

  it('leaves a revocation the issuer refused to the sweep, said on the bus', async () => {
    const engine = await engineWithGrants({ refused: 60 });
    engine.clock.advance(61_000);
    engine.sessions.failRevocations = 1;
    expect(await expireDueShard(engine, shardOfTask('refused'))).toMatchObject({ expired: 0, failed: 1, errors: 0 });
    expect(engine.events.published.map((event) => event.detailType)).toContain('Revocation Failed');
    expect((await engine.store.get(grantIdFor('release-bot', 'refused')))?.state).toBe('revoking');
  });

  it('counts a grant it could not settle as an error and leaves it due: the next reader expires it', async () => {
    const engine = await engineWithGrants({ unsettled: 60 });
    engine.clock.advance(61_000);
    const shard = shardOfTask('unsettled');
    const update = engine.store.update.bind(engine.store);
    let failures = 1;
    engine.store.update = async (previous, next) =>
      failures-- > 0 ? Promise.reject(new Error('ProvisionedThroughputExceededException')) : update(previous, next);
    expect(await expireDueShard(engine, shard)).toMatchObject({ expired: 0, errors: 1 });
    expect(await expireDueShard(engine, shard)).toMatchObject({ expired: 1, errors: 0 });
    expect((await engine.store.get(grantIdFor('release-bot', 'unsettled')))?.revocation?.trigger).toBe('expired');
  });

  it('refuses a shard the index does not have', async () => {
    const engine = await engineWithGrants({});
    await expect(expireDueShard(engine, SHARDS)).rejects.toThrow(RangeError);
  });
});
