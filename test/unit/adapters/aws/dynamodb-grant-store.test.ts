import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  TransactionCanceledException,
  TransactionConflictException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbGrantStore } from '../../../../lambdas/adapters/aws/dynamodb-grant-store';
import { ConcurrentUpdateError } from '../../../../lambdas/domain/errors';
import { startEmbeddedStore, type EmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { DUE_INDEX, DUE_SHARDS, grantKey, STANDING_SHARDS } from '../../../../lambdas/adapters/aws/grant-table';
import { ensureGrantTable } from '../../../../lambdas/adapters/aws/grant-table-definition';
import { verifyChain } from '../../../../lambdas/domain/audit';
import { dueAtOf } from '../../../../lambdas/domain/due';
import { note, type Grant } from '../../../../lambdas/domain/grant';
import { shardOf } from '../../../../lambdas/domain/ids';
import { activeGrant, advance, after, deniedGrant, FIXTURE_TIME, requestedGrant, verifiedGrant } from '../../../helpers/grants';

const DAY = 86_400;

let server: EmbeddedStore;
let base: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let tableName: string;
let store: DynamoDbGrantStore;
let tables = 0;
/** Every command the clients sent, by name, since the test began. */
let sent: string[] = [];

beforeAll(async () => {
  server = await startEmbeddedStore();
  base = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test' },
  });
  documents = DynamoDBDocumentClient.from(base);
  // The document client shares the base client's stack: this sees the store's calls and the tests' own reads.
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordSentCommands' },
  );
});

afterAll(async () => {
  documents.destroy();
  await server.close();
});

beforeEach(async () => {
  tableName = `grants-${++tables}`;
  await ensureGrantTable(base, tableName);
  store = new DynamoDbGrantStore({ client: base, tableName });
  sent = [];
});

const rawItem = async (grantId: string) => (await documents.send(new GetCommand({ TableName: tableName, Key: grantKey(grantId) }))).Item;
/** The agent's standing copies as stored (suspended and at), in shard order. */
const standingCopies = async (agentId: string) =>
  (
    (
      await documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :copy)',
          ExpressionAttributeValues: { ':pk': `AGENT#${agentId}`, ':copy': 'STANDING#' },
          ConsistentRead: true,
        }),
      )
    ).Items ?? []
  )
    .sort((a, b) => Number(String(a.sk).split('#')[1]) - Number(String(b.sk).split('#')[1]))
    .map((item) => ({ suspended: item.suspended as boolean, at: item.at as string }));
/** Opens a new grant of the agent holding one of `max` slots. */
let openings = 0;
const openFor = (agentId: string, max: number) => {
  const grant = requestedGrant({ agentId, taskId: `opening-${++openings}` });
  return store.openHoldingSlot(agentId, max, (slot) => ({ ...grant, concurrencySlot: slot }), grant.createdAt);
};
const NEVER = new Date(0).toISOString();
const dueIndexItems = async () => (await documents.send(new ScanCommand({ TableName: tableName, IndexName: DUE_INDEX.name }))).Items ?? [];

async function createAll(grants: readonly Grant[]): Promise<void> {
  for (let start = 0; start < grants.length; start += 50) {
    await Promise.all(grants.slice(start, start + 50).map((grant) => store.create(grant)));
  }
}

describe('DynamoDbGrantStore.create', () => {
  it('stores a new grant and reads it back as it was', async () => {
    const grant = requestedGrant();
    expect(await store.create(grant)).toEqual({ created: true, grant });
    expect(await store.get(grant.grantId)).toEqual(grant);
  });

  it('returns the existing grant for a duplicate and writes nothing', async () => {
    const original = requestedGrant({ taskId: 'dup' });
    await store.create(original);
    const duplicate = { ...requestedGrant({ taskId: 'dup' }), purpose: 'something else' };

    const outcome = await store.create(duplicate);

    expect(outcome).toEqual({ created: false, existing: original });
    expect(await store.get(original.grantId)).toEqual(original);
  });

  it('takes the existing grant from the failed condition when DynamoDB returns it, without a second read', async () => {
    const existing = requestedGrant();
    const mocked = mockClient(DynamoDBClient);
    mocked.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall({ ...existing, ...grantKey(existing.grantId) }),
      }),
    );
    try {
      const mockedStore = new DynamoDbGrantStore({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'grants' });
      expect(await mockedStore.create({ ...existing, purpose: 'other' })).toEqual({ created: false, existing });
      expect(mocked.commandCalls(GetItemCommand)).toHaveLength(0);
      expect(mocked.commandCalls(PutItemCommand)[0]?.args[0].input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    } finally {
      mocked.restore();
    }
  });

  it('rethrows errors other than a failed condition', async () => {
    const missingTable = new DynamoDbGrantStore({ client: base, tableName: 'no-such-table' });
    await expect(missingTable.create(requestedGrant())).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('DynamoDbGrantStore over a client that caches its middleware chains (as the engines build it)', () => {
  it('stores and reads back many grants at once as the document client did: numbers as numbers, records nested, nothing mixed up', async () => {
    const cached = new DynamoDBClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test' },
      cacheMiddleware: true,
    });
    const cachedStore = new DynamoDbGrantStore({ client: cached, tableName });
    const grants = Array.from({ length: 40 }, (_, index) =>
      index % 2 ? activeGrant({ taskId: `cached-${index}`, agentId: `bot-${index % 3}` }) : requestedGrant({ taskId: `cached-${index}` }),
    );

    const created = await Promise.all(grants.map((grant) => cachedStore.create(grant)));
    const read = await Promise.all(grants.map((grant) => cachedStore.get(grant.grantId)));

    expect(created).toEqual(grants.map((grant) => ({ created: true, grant })));
    expect(read).toEqual(grants);
    const raw = await rawItem(grants[1]!.grantId);
    expect(typeof raw?.version).toBe('number');
    expect(raw?.credential).toEqual(grants[1]!.credential);
    expect((await cachedStore.grantsOfAgent('bot-1', { liveOnly: true })).map((grant) => grant.grantId).sort()).toEqual(
      grants
        .filter((grant) => grant.agentId === 'bot-1' && grant.state === 'active')
        .map((grant) => grant.grantId)
        .sort(),
    );
    cached.destroy();
  });
});

describe('DynamoDbGrantStore.update', () => {
  it('replaces the grant when it is still at the previous version', async () => {
    const grant = requestedGrant();
    await store.create(grant);
    const issuing = advance(grant, 'issuing');

    expect(await store.update(grant, issuing)).toEqual({ ok: true, grant: issuing });
    expect(await store.get(grant.grantId)).toEqual(issuing);
  });

  it('refuses a stale update and returns the current grant', async () => {
    const grant = requestedGrant();
    await store.create(grant);
    const issuing = advance(grant, 'issuing');
    await store.update(grant, issuing);

    const outcome = await store.update(grant, advance(grant, 'denied'));

    expect(outcome).toEqual({ ok: false, current: issuing });
    expect(await store.get(grant.grantId)).toEqual(issuing);
  });

  it('refuses an update of a grant that was never created', async () => {
    const grant = requestedGrant();
    expect(await store.update(grant, advance(grant, 'issuing'))).toEqual({ ok: false });
  });

  it('lets exactly one of two concurrent updates from the same version win', async () => {
    const grant = requestedGrant();
    await store.create(grant);
    const contenders = [advance(grant, 'issuing'), advance(grant, 'denied')];

    const outcomes = await Promise.all(contenders.map((next) => store.update(grant, next)));

    const winners = outcomes.filter((outcome) => outcome.ok);
    expect(winners).toHaveLength(1);
    const stored = await store.get(grant.grantId);
    expect(winners[0]).toEqual({ ok: true, grant: stored });
    expect(outcomes.find((outcome) => !outcome.ok)).toEqual({ ok: false, current: stored });
  });

  it('refuses to move a record to another grant id', async () => {
    const grant = requestedGrant();
    await expect(store.update(grant, requestedGrant())).rejects.toThrow(/grant id/);
  });
});

describe('DynamoDbGrantStore due index', () => {
  it('holds only grants that will be due, and a grant leaves it once verified', async () => {
    const requested = requestedGrant();
    const verified = verifiedGrant();
    await createAll([requested, verified]);
    expect((await dueIndexItems()).map((item) => item.grantId)).toEqual([requested.grantId]);

    const denied = advance(requested, 'denied');
    await store.update(requested, denied);

    expect(await dueIndexItems()).toEqual([]);
    expect(await rawItem(requested.grantId)).not.toHaveProperty(DUE_INDEX.sortKey);
    expect(await rawItem(requested.grantId)).not.toHaveProperty(DUE_INDEX.partitionKey);
  });

  it('indexes a grant at its shard and its due time', async () => {
    const grant = activeGrant();
    await store.create(grant);
    expect(await rawItem(grant.grantId)).toMatchObject({
      dueShard: `DUE#${shardOf(grant.grantId, DUE_SHARDS)}`,
      dueAt: dueAtOf(grant),
    });
  });

  it('spreads grants over every shard', async () => {
    await createAll(Array.from({ length: 96 }, () => activeGrant()));
    const perShard = new Map<string, number>();
    for (const item of await dueIndexItems()) perShard.set(item.dueShard, (perShard.get(item.dueShard) ?? 0) + 1);
    expect([...perShard.keys()].sort()).toEqual(Array.from({ length: 16 }, (_, shard) => `DUE#${shard}`).sort());
    expect(Math.max(...perShard.values())).toBeLessThanOrEqual(16);
  });

  it('finds the due grants among many that are not, reading little more than the due ones', async () => {
    const due = Array.from({ length: 10 }, (_, index) => activeGrant({ at: after(FIXTURE_TIME, index), ttlSeconds: 60 }));
    const notYetDue = Array.from({ length: 250 }, () => activeGrant({ ttlSeconds: 7200 }));
    const finished = Array.from({ length: 250 }, () => verifiedGrant());
    await createAll([...notYetDue, ...due, ...finished]);

    const page = await store.dueGrants(new Date(after(FIXTURE_TIME, 3600)));

    expect(page.grants.map((grant) => grant.grantId)).toEqual(due.map((grant) => grant.grantId));
    expect(page.grants[0]).toEqual(due[0]);
    expect(page.itemsRead).toBeLessThanOrEqual(2 * due.length);
    expect(sent.filter((name) => name === 'QueryCommand')).toHaveLength(16);
  });

  it('returns at most the limit, earliest due first', async () => {
    const due = Array.from({ length: 6 }, (_, index) => activeGrant({ at: after(FIXTURE_TIME, 10 - index), ttlSeconds: 60 }));
    await createAll(due);

    const page = await store.dueGrants(new Date(after(FIXTURE_TIME, 3600)), 3);

    const earliest = [...due].sort((a, b) => (a.expiresAt! < b.expiresAt! ? -1 : 1)).slice(0, 3);
    expect(page.grants.map((grant) => grant.grantId)).toEqual(earliest.map((grant) => grant.grantId));
  });

  it('uses the configured timing to decide when a grant is due', async () => {
    const patient = new DynamoDbGrantStore({
      client: base,
      tableName,
      dueTiming: { stuckAfterMs: 3_600_000, retryAfterMs: 60_000, deniedRetentionMs: 0 },
    });
    await patient.create(requestedGrant());
    expect((await patient.dueGrants(new Date(after(FIXTURE_TIME, 600)))).grants).toEqual([]);
    expect((await patient.dueGrants(new Date(after(FIXTURE_TIME, 3600)))).grants).toHaveLength(1);
  });
});

describe('DynamoDbGrantStore agent index', () => {
  it('lists an agent’s grants newest first, live ones only when asked, and counts the live ones', async () => {
    const oldest = requestedGrant({ agentId: 'bot-a', at: FIXTURE_TIME });
    const middle = activeGrant({ agentId: 'bot-a', at: after(FIXTURE_TIME, 60) });
    const newest = verifiedGrant({ agentId: 'bot-a', at: after(FIXTURE_TIME, 120) });
    const otherAgent = activeGrant({ agentId: 'bot-b' });
    await createAll([middle, otherAgent, newest, oldest]);

    expect((await store.grantsOfAgent('bot-a')).map((grant) => grant.grantId)).toEqual(
      [newest, middle, oldest].map((grant) => grant.grantId),
    );
    expect(await store.grantsOfAgent('bot-a', { liveOnly: true })).toEqual([middle, oldest]);
    expect(await store.countLiveGrants('bot-a')).toBe(2);
    expect(await store.countLiveGrants('bot-c')).toBe(0);
  });

  it('does not count agent records or refused events as grants', async () => {
    await store.putAgent({ agentId: 'bot-a', suspended: true, by: 'sre@example.com', reason: 'incident', at: FIXTURE_TIME });
    expect(await store.grantsOfAgent('bot-a')).toEqual([]);
  });
});

describe('DynamoDbGrantStore.findByCredentialId', () => {
  it('finds the grant holding an access key, and nothing for an unknown key', async () => {
    const grant = activeGrant({ accessKeyId: 'ASIAEXAMPLEKEY000001' });
    await createAll([grant, requestedGrant(), activeGrant()]);

    expect(await store.findByCredentialId('ASIAEXAMPLEKEY000001')).toEqual(grant);
    expect(await store.findByCredentialId('ASIAUNKNOWNKEY000000')).toBeUndefined();
  });
});

describe('DynamoDbGrantStore.listGrants', () => {
  it('lists grants newest first, by state and since a time, up to a limit, and nothing else', async () => {
    const old = verifiedGrant({ at: FIXTURE_TIME });
    const recent = activeGrant({ at: after(FIXTURE_TIME, 600) });
    const latest = activeGrant({ at: after(FIXTURE_TIME, 1200) });
    await createAll([old, recent, latest]);
    await store.putAgent({ agentId: 'release-bot', suspended: false });
    await store.recordRejectedEvent({ at: FIXTURE_TIME, detailType: 'Task Started', source: 'x', reason: 'bad', excerpt: '{}' });

    expect(await store.listGrants()).toEqual([latest, recent, old]);
    expect(await store.listGrants({ state: 'verified' })).toEqual([old]);
    expect(await store.listGrants({ since: new Date(after(FIXTURE_TIME, 300)) })).toEqual([latest, recent]);
    expect(await store.listGrants({ limit: 1 })).toEqual([latest]);
  });
});

describe('DynamoDbGrantStore agents', () => {
  it('reads an unknown agent as not suspended, then round-trips suspension and resumption', async () => {
    expect(await store.getAgent('bot-a')).toEqual({ agentId: 'bot-a', suspended: false });

    const suspended = { agentId: 'bot-a', suspended: true, by: 'sre@example.com', reason: 'incident', at: FIXTURE_TIME };
    await store.putAgent(suspended);
    expect(await store.getAgent('bot-a')).toEqual(suspended);

    await store.putAgent({ agentId: 'bot-a', suspended: false, by: 'sre@example.com', at: after(FIXTURE_TIME, 60) });
    expect(await store.getAgent('bot-a')).toEqual({
      agentId: 'bot-a',
      suspended: false,
      by: 'sre@example.com',
      at: after(FIXTURE_TIME, 60),
    });
  });

  it('leaves the agent and every copy as the last change wrote them, whatever the times it carries', async () => {
    await store.putAgent({ agentId: 'bot-b', suspended: true, by: 'sre@example.com', reason: 'incident', at: after(FIXTURE_TIME, 60) });
    // A clock a minute behind must not lose a later change: a resumption here, a suspension just as well.
    const resumed = { agentId: 'bot-b', suspended: false, by: 'dev@example.com', at: FIXTURE_TIME };
    await store.putAgent(resumed);

    expect(await store.getAgent('bot-b')).toEqual(resumed);
    expect(await standingCopies('bot-b')).toEqual(Array.from({ length: STANDING_SHARDS }, () => ({ suspended: false, at: FIXTURE_TIME })));
  });

  it('writes a suspension to every copy a start may check, so no start opens whichever slot it draws', async () => {
    await store.putAgent({ agentId: 'bot-c', suspended: true, by: 'sre@example.com', reason: 'drill', at: FIXTURE_TIME });

    const openings = await Promise.all(Array.from({ length: 40 }, () => openFor('bot-c', 1000)));

    expect(new Set(openings.map((opening) => opening.outcome))).toEqual(new Set(['suspended']));
    expect((await standingCopies('bot-c')).every((copy) => copy.suspended)).toBe(true);
    expect(await store.slotHolders('bot-c')).toEqual([]);
  });

  it("writes the copies at an agent's first start (three calls more, once), then opens in one transaction", async () => {
    const first = await openFor('bot-d', 1000);
    const firstCalls = [...sent];
    sent = [];
    const second = await openFor('bot-d', 1000);

    expect([first.outcome, second.outcome]).toEqual(['opened', 'opened']);
    expect(firstCalls).toEqual(['TransactWriteItemsCommand', 'GetItemCommand', 'TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(sent).toEqual(['TransactWriteItemsCommand']);
    expect(await standingCopies('bot-d')).toEqual(Array.from({ length: STANDING_SHARDS }, () => ({ suspended: false, at: NEVER })));
  });

  it('refuses a start of an agent suspended before its standing had copies (a table from before them), and writes none', async () => {
    await documents.send(
      new PutCommand({ TableName: tableName, Item: { pk: 'AGENT#bot-e', sk: 'AGENT', agentId: 'bot-e', suspended: true } }),
    );

    expect(await openFor('bot-e', 5)).toEqual({ outcome: 'suspended' });
    expect(await standingCopies('bot-e')).toEqual([]);
  });

  it('never lets a start slip past a suspension racing it: each start is refused, or its slot is there for the listing after it', async () => {
    for (let round = 0; round < 5; round++) {
      const agentId = `bot-race-${round}`;
      // Half the rounds race the agent's first starts (no copies yet), half an agent already started.
      if (round % 2 === 1) await openFor(agentId, 1000);
      const starts = Array.from({ length: 40 }, (_, index) =>
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, index % 10));
          const grant = requestedGrant({ agentId, taskId: `race-${round}-${index}` });
          try {
            return {
              grantId: grant.grantId,
              opening: await store.openHoldingSlot(agentId, 1000, (slot) => ({ ...grant, concurrencySlot: slot }), grant.createdAt),
            };
          } catch (error) {
            if (!(error instanceof ConcurrentUpdateError)) throw error;
            return { grantId: grant.grantId, opening: undefined };
          }
        })(),
      );
      await new Promise((resolve) => setTimeout(resolve, 4));
      await store.putAgent({ agentId, suspended: true, by: 'sre@example.com', reason: 'race', at: FIXTURE_TIME });
      const listed = new Set((await store.slotHolders(agentId)).map((holder) => holder.grantId));
      const settled = await Promise.all(starts);

      for (const { grantId, opening } of settled) {
        if (opening?.outcome === 'opened') expect(listed.has(grantId)).toBe(true);
        else if (opening === undefined) expect(await store.get(grantId)).toBeUndefined();
        else expect(opening.outcome).toBe('suspended');
      }
      expect(await openFor(agentId, 1000)).toEqual({ outcome: 'suspended' });
    }
  });

  it('records a kill switch thrown again as a repeat of the one in force, in the agent item and every copy alike', async () => {
    const first = { agentId: 'bot-g', by: 'sre@example.com', reason: 'incident', at: FIXTURE_TIME };
    await store.recordSuspension(first);
    sent = [];

    const again = await store.recordSuspension({
      agentId: 'bot-g',
      by: 'oncall@example.com',
      reason: 'still odd',
      at: after(FIXTURE_TIME, 30),
    });

    expect(again).toEqual({ outcome: 'repeated', inForceSince: FIXTURE_TIME });
    // The refused suspension hands back the agent item: no read between it and the conditional repeat.
    expect(sent).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(await store.getAgent('bot-g')).toEqual({
      ...first,
      suspended: true,
      repeatCount: 1,
      lastRepeatedBy: 'oncall@example.com',
      lastRepeatedReason: 'still odd',
      lastRepeatedAt: after(FIXTURE_TIME, 30),
    });
    expect(await standingCopies('bot-g')).toEqual(Array.from({ length: STANDING_SHARDS }, () => ({ suspended: true, at: FIXTURE_TIME })));
  });

  it('suspends afresh when a resume lands between the refused suspension and its repeat, never leaving the agent resumed', async () => {
    const first = { agentId: 'bot-h', by: 'sre@example.com', reason: 'incident', at: FIXTURE_TIME };
    const second = { agentId: 'bot-h', by: 'oncall@example.com', reason: 'again', at: after(FIXTURE_TIME, 30) };
    await store.recordSuspension(first);
    let resumed = false;
    /** The real client, but the resume lands right after the kill switch's first write was refused. */
    const racing = {
      send: async (command: unknown) => {
        try {
          return await base.send(command as never);
        } catch (error) {
          if (!resumed && command instanceof TransactWriteItemsCommand) {
            resumed = await store.liftSuspension(
              { agentId: 'bot-h', suspended: false, by: 'cfo@example.com', at: after(FIXTURE_TIME, 20) },
              FIXTURE_TIME,
            );
          }
          throw error;
        }
      },
    } as unknown as DynamoDBClient;

    const outcome = await new DynamoDbGrantStore({ client: racing, tableName }).recordSuspension(second);

    expect(resumed).toBe(true);
    expect(outcome).toEqual({ outcome: 'suspended' });
    expect(await store.getAgent('bot-h')).toEqual({ ...second, suspended: true });
    expect(await standingCopies('bot-h')).toEqual(Array.from({ length: STANDING_SHARDS }, () => ({ suspended: true, at: second.at })));
  });

  it("never undoes a suspension written between a start's read of the agent and its writing of the copies", async () => {
    const suspension = { agentId: 'bot-f', suspended: true, by: 'sre@example.com', reason: 'race', at: FIXTURE_TIME };
    /** The real client, but the suspension lands right after the start has read the agent as not suspended. */
    const racing = {
      send: async (command: unknown) => {
        const answer = await base.send(command as never);
        if (command instanceof GetItemCommand && (await standingCopies('bot-f')).length === 0) await store.putAgent(suspension);
        return answer;
      },
    } as unknown as DynamoDBClient;

    const opening = await new DynamoDbGrantStore({ client: racing, tableName }).openHoldingSlot(
      'bot-f',
      5,
      (slot) => ({ ...requestedGrant({ agentId: 'bot-f', taskId: 'raced' }), concurrencySlot: slot }),
      FIXTURE_TIME,
    );

    expect(opening).toEqual({ outcome: 'suspended' });
    expect(await store.getAgent('bot-f')).toEqual(suspension);
    expect((await standingCopies('bot-f')).every((copy) => copy.suspended)).toBe(true);
  });
});

describe('DynamoDbGrantStore.recordRejectedEvent', () => {
  it('keeps each refused event for 30 days under its day', async () => {
    const at = '2026-11-28T12:34:56.000Z';
    await store.recordRejectedEvent({
      at,
      detailType: 'Task Started',
      source: 'ci',
      reason: 'taskId: invalid',
      eventId: 'ev-1',
      excerpt: '{"taskId":""}',
    });
    await store.recordRejectedEvent({ at, detailType: 'Task Ended', source: 'ci', reason: 'agentId: missing', excerpt: '{}' });
    await store.recordRejectedEvent({ at, detailType: 'Task Ended', source: 'ci', reason: 'agentId: missing', excerpt: '{}' });

    const { Items = [] } = await documents.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :day',
        ExpressionAttributeValues: { ':day': 'REJECTED#2026-11-28' },
      }),
    );
    expect(Items).toHaveLength(3);
    expect(Items.find((item) => item.eventId === 'ev-1')).toEqual({
      pk: 'REJECTED#2026-11-28',
      sk: `${at}#ev-1`,
      at,
      detailType: 'Task Started',
      source: 'ci',
      reason: 'taskId: invalid',
      eventId: 'ev-1',
      excerpt: '{"taskId":""}',
      ttl: Date.parse(at) / 1000 + 30 * DAY,
    });
  });
});

describe('DynamoDbGrantStore retention', () => {
  it('sets a ttl on finished grants only: 400 days after the last change, 30 for denied requests', async () => {
    const verified = verifiedGrant();
    const denied = deniedGrant();
    const active = activeGrant();
    await createAll([verified, denied, active]);

    expect((await rawItem(verified.grantId))?.ttl).toBe(Date.parse(verified.updatedAt) / 1000 + 400 * DAY);
    expect((await rawItem(denied.grantId))?.ttl).toBe(Date.parse(denied.updatedAt) / 1000 + 30 * DAY);
    expect(await rawItem(active.grantId)).not.toHaveProperty('ttl');
  });

  it('takes the retention from its options', async () => {
    const shortLived = new DynamoDbGrantStore({ client: base, tableName, retentionDays: 7 });
    const verified = verifiedGrant();
    await shortLived.create(verified);
    expect((await rawItem(verified.grantId))?.ttl).toBe(Date.parse(verified.updatedAt) / 1000 + 7 * DAY);
  });
});

describe('DynamoDbGrantStore under racing writers', () => {
  type Step = { readonly kind: 'read'; readonly writer: number } | { readonly kind: 'write'; readonly writers: readonly number[] };
  const WRITERS = 3;
  const writerIndex = fc.integer({ min: 0, max: WRITERS - 1 });
  const step: fc.Arbitrary<Step> = fc.oneof(
    writerIndex.map((writer) => ({ kind: 'read' as const, writer })),
    fc.uniqueArray(writerIndex, { minLength: 1, maxLength: WRITERS }).map((writers) => ({ kind: 'write' as const, writers })),
  );

  it('never loses an acknowledged write, and versions only grow', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const initial = requestedGrant();
        await store.create(initial);
        const snapshots: Grant[] = Array.from({ length: WRITERS }, () => initial);
        const acknowledged: Grant[] = [];
        let lastVersion = initial.version;
        let writes = 0;

        for (const current of steps) {
          if (current.kind === 'read') {
            snapshots[current.writer] = (await store.get(initial.grantId))!;
          } else {
            // Writers in one step race for real: their PutItems are in flight together.
            await Promise.all(
              current.writers.map(async (writer) => {
                const previous = snapshots[writer]!;
                const next = note(previous, { at: FIXTURE_TIME, actor: `writer-${writer}`, action: 'noted', detail: { write: ++writes } });
                const outcome = await store.update(previous, next);
                if (outcome.ok) acknowledged.push(next);
                snapshots[writer] = outcome.ok ? next : outcome.current!;
              }),
            );
          }
          const stored = (await store.get(initial.grantId))!;
          expect(stored.version).toBeGreaterThanOrEqual(lastVersion);
          lastVersion = stored.version;
        }

        const final = (await store.get(initial.grantId))!;
        expect(final.version).toBe(initial.version + acknowledged.length);
        const finalHashes = new Set(final.audit.map((entry) => entry.hash));
        for (const write of acknowledged) expect(finalHashes.has(write.audit.at(-1)!.hash)).toBe(true);
        expect(verifyChain(final.grantId, final.audit)).toEqual({ ok: true });
      }),
      { numRuns: 30 },
    );
  });
});

describe('DynamoDbGrantStore transactions, when another write conflicts (AWS cancels with TransactionConflict)', () => {
  const conflict = () =>
    new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict, None]',
      $metadata: {},
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
        { Code: 'None' },
      ],
    });
  /** The real client, but its first `conflicts` transactions are cancelled as AWS cancels a conflicting one. */
  const conflicting = (conflicts: number) =>
    ({
      send: (command: unknown) =>
        command instanceof TransactWriteItemsCommand && conflicts-- > 0 ? Promise.reject(conflict()) : base.send(command as never),
    }) as unknown as DynamoDBClient;
  const grant = () => requestedGrant({ agentId: 'release-bot', taskId: `conflict-${++tables}` });
  const waits: number[] = [];
  const waiting = { sleep: async (ms: number) => void waits.push(ms), random: () => 0.5 };

  beforeEach(() => {
    waits.length = 0;
  });

  it('tries an opening again after a short wait, and opens the grant once the conflict has passed', async () => {
    const conflicted = new DynamoDbGrantStore({ client: conflicting(2), tableName, waiting });
    const opened = grant();

    const opening = await conflicted.openHoldingSlot('release-bot', 3, (slot) => ({ ...opened, concurrencySlot: slot }), opened.createdAt);

    expect(opening).toMatchObject({ outcome: 'opened', grant: { grantId: opened.grantId } });
    expect(waits).toEqual([10, 20]);
    expect((await store.slotHolders('release-bot')).map((holder) => holder.grantId)).toEqual([opened.grantId]);
  });

  it('gives up after five tries, writing nothing, so the event is delivered again', async () => {
    const conflicted = new DynamoDbGrantStore({ client: conflicting(5), tableName, waiting });
    const opened = grant();

    const opening = conflicted.openHoldingSlot('release-bot', 3, (slot) => ({ ...opened, concurrencySlot: slot }), opened.createdAt);

    await expect(opening).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(waits).toHaveLength(4);
    expect(await store.get(opened.grantId)).toBeUndefined();
    expect(await store.slotHolders('release-bot')).toEqual([]);
  });

  it("writes a suspension again after a short wait, so the kill switch does not fail on a start's transaction", async () => {
    const conflicted = new DynamoDbGrantStore({ client: conflicting(2), tableName, waiting });
    const agentId = `conflict-agent-${++tables}`;

    await conflicted.putAgent({ agentId, suspended: true, by: 'sec@example.com', reason: 'drill', at: FIXTURE_TIME });

    expect(waits).toEqual([10, 20]);
    expect(await store.getAgent(agentId)).toMatchObject({ suspended: true, by: 'sec@example.com' });
  });

  it('keeps trying a suspension through eleven conflicts (a kill switch amid a storm of starts), and gives up at twelve, writing nothing', async () => {
    const agentId = `conflict-agent-${++tables}`;

    await new DynamoDbGrantStore({ client: conflicting(11), tableName, waiting }).putAgent({ agentId, suspended: true, at: FIXTURE_TIME });
    expect(waits).toEqual([10, 20, 40, 80, 160, 320, 500, 500, 500, 500, 500]);
    expect(await store.getAgent(agentId)).toMatchObject({ suspended: true });

    const other = `conflict-agent-${++tables}`;
    await expect(
      new DynamoDbGrantStore({ client: conflicting(12), tableName, waiting }).putAgent({
        agentId: other,
        suspended: true,
        at: FIXTURE_TIME,
      }),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(await store.getAgent(other)).toEqual({ agentId: other, suspended: false });
  });
});

describe('DynamoDbGrantStore single writes, while a transaction holds the item (AWS refuses with TransactionConflictException)', () => {
  const refusal = () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });
  /** The real client, but its first `conflicts` single-item writes are refused as AWS refuses one that meets a transaction. */
  const conflicting = (conflicts: number) =>
    ({
      send: (command: unknown) =>
        command instanceof PutItemCommand && conflicts-- > 0 ? Promise.reject(refusal()) : base.send(command as never),
    }) as unknown as DynamoDBClient;
  const waits: number[] = [];
  const waiting = { sleep: async (ms: number) => void waits.push(ms), random: () => 0.5 };

  beforeEach(() => {
    waits.length = 0;
  });

  it("writes a grant's next state again the same way, and gives up after five tries with AWS's error", async () => {
    const opened = requestedGrant({ agentId: 'release-bot', taskId: `conflict-${++tables}` });
    await store.create(opened);
    const next = note(opened, { at: after(FIXTURE_TIME, 1), actor: 'engine', action: 'noted' });
    const later = note(next, { at: after(FIXTURE_TIME, 2), actor: 'engine', action: 'noted' });

    expect(await new DynamoDbGrantStore({ client: conflicting(1), tableName, waiting }).update(opened, next)).toMatchObject({ ok: true });
    await expect(new DynamoDbGrantStore({ client: conflicting(5), tableName, waiting }).update(next, later)).rejects.toBeInstanceOf(
      TransactionConflictException,
    );
    expect(await store.get(opened.grantId)).toMatchObject({ version: next.version });
    expect(waits).toHaveLength(1 + 4);
  });
});
