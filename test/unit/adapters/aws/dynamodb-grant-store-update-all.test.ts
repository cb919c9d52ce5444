// DynamoDbGrantStore.updateAll on the embedded store (the DynamoDB API, with transactions): how
// many calls many writes take, and what a cancelled transaction costs the writes it held.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbGrantStore } from '../../../../lambdas/adapters/aws/dynamodb-grant-store';
import { ensureGrantTable } from '../../../../lambdas/adapters/aws/grant-table-definition';
import { MAX_TRANSACT_ACTIONS } from '../../../../lambdas/adapters/aws/transaction-packing';
import type { Grant } from '../../../../lambdas/domain/grant';
import { startEmbeddedStore, type EmbeddedStore } from '../../../../lambdas/local/emulated-aws/embedded-store';
import { advance, requestedGrant } from '../../../helpers/grants';

let server: EmbeddedStore;
let client: DynamoDBClient;
let store: DynamoDbGrantStore;
let tables = 0;
/** Every command the store sent, by name, since the test began. */
let sent: string[] = [];

beforeAll(async () => {
  server = await startEmbeddedStore();
  client = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test' },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordSentCommands' },
  );
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

beforeEach(async () => {
  const tableName = `update-all-${++tables}`;
  await ensureGrantTable(client, tableName);
  store = new DynamoDbGrantStore({ client, tableName });
});

/** `count` grants of one agent, each opened holding a slot, as the engine opens them. */
async function openGrants(count: number): Promise<Grant[]> {
  const opened: Grant[] = [];
  for (let index = 0; index < count; index++) {
    const grant = requestedGrant({ taskId: `update-all-${index}` });
    const opening = await store.openHoldingSlot(grant.agentId, count, (slot) => ({ ...grant, concurrencySlot: slot }), grant.createdAt);
    if (opening.outcome !== 'opened') throw new Error(`not opened: ${opening.outcome}`);
    opened.push(opening.grant);
  }
  return opened;
}

const closing = (grants: readonly Grant[]) => grants.map((grant) => ({ previous: grant, next: advance(grant, 'denied') }));

describe('DynamoDbGrantStore.updateAll', () => {
  it('closes 60 grants and frees their slots in two calls: 50 writes of two actions fill one transaction', async () => {
    const writes = closing(await openGrants(60));
    sent = [];

    const outcomes = await store.updateAll(writes);

    expect(outcomes.every((outcome) => outcome.status === 'fulfilled' && outcome.value.ok)).toBe(true);
    expect(sent).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(2 * 50).toBe(MAX_TRANSACT_ACTIONS);
    expect(await store.slotHolders(writes[0]!.next.agentId)).toEqual([]);
    expect((await store.grantsOfAgent(writes[0]!.next.agentId, { liveOnly: true })).length).toBe(0);
  });

  it('answers a write whose grant moved on from the cancelled transaction itself, and makes the others one by one', async () => {
    const grants = await openGrants(10);
    const [moved] = grants as [Grant];
    const issuing = advance(moved, 'issuing');
    await store.update(moved, issuing);
    sent = [];

    const outcomes = await store.updateAll(closing(grants));

    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: { ok: false, current: issuing } });
    expect(outcomes.slice(1).every((outcome) => outcome.status === 'fulfilled' && outcome.value.ok)).toBe(true);
    // The cancelled transaction, then nine alone; the moved grant is not read again (its item came with the cancellation).
    expect(sent).toEqual(Array.from({ length: 10 }, () => 'TransactWriteItemsCommand'));
    expect((await store.slotHolders(moved.agentId)).map((holder) => holder.grantId)).toEqual([moved.grantId]);
  });

  it('makes each write alone when the transaction is refused as a whole, so each caller sees its own error or outcome', async () => {
    const grants = await openGrants(3);
    // A grant item over DynamoDB's 400 KB refuses the transaction that holds it with a ValidationException.
    const huge = { ...advance(grants[0]!, 'denied'), reason: 'x'.repeat(450_000) };
    sent = [];

    const [tooBig, ...fitting] = await store.updateAll([{ previous: grants[0]!, next: huge }, ...closing(grants.slice(1))]);

    expect(tooBig).toMatchObject({ status: 'rejected', reason: { name: 'ValidationException', message: expect.stringMatching(/size/i) } });
    expect(fitting.map((outcome) => outcome.status === 'fulfilled' && outcome.value.ok)).toEqual([true, true]);
    // One refused transaction, then each write alone: the two that fit went through.
    expect(sent.filter((name) => name === 'TransactWriteItemsCommand')).toHaveLength(4);
    expect((await store.get(grants[1]!.grantId))?.state).toBe('denied');
    expect((await store.get(grants[2]!.grantId))?.state).toBe('denied');
    expect((await store.get(grants[0]!.grantId))?.state).toBe('requested');
  });

  it('makes a lone write as update makes it: one call, no transaction of one', async () => {
    const [grant] = (await openGrants(1)) as [Grant];
    const issuing = advance(grant, 'issuing');
    sent = [];

    expect(await store.updateAll([{ previous: grant, next: issuing }])).toEqual([
      { status: 'fulfilled', value: { ok: true, grant: issuing } },
    ]);
    expect(sent).toEqual(['PutItemCommand']);
  });
});
