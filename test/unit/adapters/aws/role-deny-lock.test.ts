// The role deny lock against the embedded store (dynalite, which speaks the DynamoDB API): two
// "containers" (two locks on one table) never hold one role's lease at once, a dead holder's lease
// is taken over once it runs out, and a lease held too long fails the revocation with its reason.
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { RoleDenyLock } from '../../../../lambdas/adapters/aws/role-deny-lock';
import { ensureGrantTable } from '../../../../lambdas/adapters/aws/grant-table-definition';
import { roleDenyLockKey } from '../../../../lambdas/adapters/aws/grant-table';
import { TaskboundError } from '../../../../lambdas/domain/errors';
import { useEmbeddedStore } from '../../../helpers/embedded-store-fixture';
import { FakeClock } from '../../../helpers/fake-ports';

const embedded = useEmbeddedStore();
let client: DynamoDBClient;
let tableName: string;

beforeEach(async () => {
  client = embedded.client;
  tableName = embedded.freshTableName();
  await ensureGrantTable(client, tableName);
});

const realClock = { now: () => new Date() };
const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));
const lockItem = async () =>
  (
    await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: roleDenyLockKey('release-bot', '111122223333').pk }, sk: { S: roleDenyLockKey('release-bot', '111122223333').sk } },
        ConsistentRead: true,
      }),
    )
  ).Item;

describe('RoleDenyLock', () => {
  it('lets one revoker at a time into a role, across two containers and within each', async () => {
    const containers = [
      new RoleDenyLock({ client, tableName, clock: realClock }),
      new RoleDenyLock({ client, tableName, clock: realClock }),
    ];
    let inside = 0;
    let most = 0;
    const entered: string[] = [];
    const work = (name: string) => async () => {
      inside++;
      most = Math.max(most, inside);
      entered.push(name);
      await pause(5);
      inside--;
      return name;
    };

    const held = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((index) => containers[index % 2]!.hold('release-bot', '111122223333', work(`r${index}`))),
    );

    expect(held).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(most).toBe(1);
    expect(entered.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    // Every lease was given back.
    expect(await lockItem()).toBeUndefined();
  });

  it('keeps roles apart: another agent, or the same agent in another account, does not wait', async () => {
    const lock = new RoleDenyLock({ client, tableName, clock: realClock });
    let release!: () => void;
    const holding = lock.hold('release-bot', '111122223333', () => new Promise<void>((done) => (release = done)));
    await pause(20);

    await expect(lock.hold('deploy-bot', '111122223333', async () => 'other agent')).resolves.toBe('other agent');
    await expect(lock.hold('release-bot', '444455556666', async () => 'other account')).resolves.toBe('other account');
    release();
    await holding;
  });

  it('takes over a lease whose holder died once it has run out, and fails with its reason while it holds', async () => {
    const clock = new FakeClock(new Date('2026-12-01T00:00:00.000Z'));
    const key = roleDenyLockKey('release-bot', '111122223333');
    // A container that died holding the lease (a Lambda timeout): its item stays until the lease ends.
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: key.pk },
          sk: { S: key.sk },
          holder: { S: 'dead-container' },
          leaseEndsMs: { N: String(clock.now().getTime() + 10_000) },
        },
      }),
    );
    const lock = new RoleDenyLock({ client, tableName, clock, waitMs: 2_000, sleep: async (ms) => clock.advance(ms) });
    let ran = false;

    const refused = lock.hold('release-bot', '111122223333', async () => (ran = true));
    await expect(refused).rejects.toThrow(TaskboundError);
    await expect(refused).rejects.toThrow(/held the deny of agent release-bot's role for over 2 s/);
    expect(ran).toBe(false);

    clock.advance(10_000);
    await expect(lock.hold('release-bot', '111122223333', async () => 'taken over')).resolves.toBe('taken over');
    expect(await lockItem()).toBeUndefined();
  });

  it("gives back only its own lease: a holder whose lease ran out does not delete the next holder's", async () => {
    const clock = new FakeClock(new Date('2026-12-01T00:00:00.000Z'));
    const slow = new RoleDenyLock({ client, tableName, clock, leaseMs: 1_000 });
    const next = new RoleDenyLock({ client, tableName, clock, leaseMs: 1_000 });
    let nextHolds!: Promise<string>;
    let releaseNext!: () => void;

    await slow.hold('release-bot', '111122223333', async () => {
      clock.advance(1_001);
      nextHolds = next.hold('release-bot', '111122223333', () => new Promise<string>((done) => (releaseNext = () => done('next'))));
      await pause(50);
    });

    expect((await lockItem())?.holder?.S).toBeDefined();
    releaseNext();
    await expect(nextHolds).resolves.toBe('next');
    expect(await lockItem()).toBeUndefined();
  });
});
