// Adapter (AWS DynamoDB): the GrantStore over the single table of grant-table.ts. It only
// translates to SDK commands: every change is a conditional write, and the index attributes
// are derived from the grant on each write (when it is due is the domain's `dueAtOf`).
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type CancellationReason,
  type ConditionalCheckFailedException,
  type DynamoDBClient,
  type QueryCommandInput,
  type ScanCommandInput,
  type TransactionCanceledException,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { dueAtOf, DEFAULT_DUE_TIMING, type DueTiming } from '../../domain/due';
import { ConcurrentUpdateError } from '../../domain/errors';
import { FINAL_STATES, LIVE_STATES, type Grant, type GrantState } from '../../domain/grant';
import { shardOf } from '../../domain/ids';
import { notYet, retry, settled, type Backoff, type Waiting } from '../retry';
import type { Suspension } from '../../domain/report';
import type {
  AgentRecord,
  DueGrantsPage,
  GrantStore,
  GrantWrite,
  RejectedEvent,
  SlotHolder,
  SlotOpening,
  SuspensionRecorded,
  WriteOutcome,
} from '../../ports';
import { packTransactions, type Packable } from './transaction-packing';
import {
  AGENT_INDEX,
  agentKey,
  CREDENTIAL_INDEX,
  DUE_INDEX,
  DUE_SHARDS,
  GRANT_TABLE,
  grantKey,
  SLOT_PREFIX,
  slotKey,
  STANDING_SHARDS,
  standingCopyKey,
} from './grant-table';

type Item = Record<string, NativeAttributeValue>;
type Attributes = Record<string, AttributeValue>;

export interface DynamoDbGrantStoreOptions {
  /**
   * DynamoDB's own client: the store converts items itself (@aws-sdk/util-dynamodb, as the document
   * client would), so the client can be built with `cacheMiddleware: true`, which the document client
   * refuses: each command's middleware chain is then resolved once, not on every call.
   */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Shards of the due index; every writer and reader of one table must agree. */
  readonly dueShards?: number;
  /** How long a finished grant is kept after its last change (default 400 days). */
  readonly retentionDays?: number;
  readonly dueTiming?: DueTiming;
  /** How a transaction waits before it is tried again after a conflict (tests pin it). */
  readonly waiting?: Waiting;
}

const DAY_SECONDS = 86_400;
const DEFAULT_RETENTION_DAYS = 400;
/** Denied requests and refused events hold little worth keeping past a month. */
const SHORT_RETENTION_DAYS = 30;
const DEFAULT_DUE_LIMIT = 100;
const GRANT_SORT_KEY = grantKey('').sk;
/** The standing of an agent never suspended nor resumed: older than any decision. */
const NEVER = new Date(0).toISOString();

/** Attributes the store adds to a grant's fields; stripped again on read. */
const STORE_ATTRIBUTES = [
  GRANT_TABLE.partitionKey,
  GRANT_TABLE.sortKey,
  GRANT_TABLE.ttlAttribute,
  DUE_INDEX.partitionKey,
  DUE_INDEX.sortKey,
  CREDENTIAL_INDEX.partitionKey,
  AGENT_INDEX.partitionKey,
];

const dueShardOf = (shard: number) => `DUE#${shard}`;
const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Grants and records are plain JSON data; the round trip drops undefined fields, which the marshaller refuses. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Native values as DynamoDB attributes, converted as the engine's document clients did (undefined fields dropped). */
const toAttributes = (values: Item): Attributes => marshall(values, { removeUndefinedValues: true });
/** Attributes as native values; numbers as JavaScript numbers (the document client's default). */
const fromAttributes = (attributes: Attributes): Item => unmarshall(attributes);

/** Listings read newest first. */
const newestFirst = (a: Grant, b: Grant) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);

/** A condition's names and values, in DynamoDB's wire form. */
interface Condition {
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
  readonly ReturnValuesOnConditionCheckFailure?: 'ALL_OLD';
}
const onWire = ({ ExpressionAttributeValues, ...condition }: Condition) => ({
  ...condition,
  ...(ExpressionAttributeValues ? { ExpressionAttributeValues: toAttributes(ExpressionAttributeValues) } : {}),
});

function withoutStoreAttributes(item: Item): Item {
  const fields = { ...item };
  for (const name of STORE_ATTRIBUTES) delete fields[name];
  return fields;
}

/** A Query's input as the store writes it: native values, the table added when it is sent. */
type Query = Omit<QueryCommandInput, 'TableName' | 'ExpressionAttributeValues'> & { readonly ExpressionAttributeValues?: Item };

/** Tries at opening a grant with a slot beyond the `max` lost races that fill the slots: margin. */
const EXTRA_SLOT_ATTEMPTS = 3;

const isConditionalCheckFailed = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';
const isTransactionCanceled = (error: unknown): error is TransactionCanceledException =>
  error instanceof Error && error.name === 'TransactionCanceledException';
const failedCondition = (reason: CancellationReason | undefined) => reason?.Code === 'ConditionalCheckFailed';

type TransactItems = TransactWriteItem[];

/** One write of `updateAll`, ready for a transaction: its place in the call, its item, its actions and what packing weighs. */
interface Packed extends GrantWrite, Packable {
  readonly index: number;
  readonly item: Item;
  readonly transactItems: TransactItems;
}

/**
 * On AWS, a transaction that meets another one (or a single write) on one of its items is
 * cancelled with `TransactionConflict`: concurrent starts of one agent all check its standing
 * item. Tried again after a short random wait; the SDK does not retry a cancelled transaction.
 */
const CONFLICT_BACKOFF: Backoff = { attempts: 5, baseDelayMs: 20, maxDelayMs: 200, jitter: 'full' };
/**
 * A suspension (or resumption) meets every start in flight on any of the 16 copies, so under a storm
 * of one agent's starts five tries can all lose. A kill switch must not give up that soon: up to
 * twelve, waiting up to a second between them (about 6 s at worst), while the starts it races are
 * found by the listing that follows it.
 */
const STANDING_CONFLICT_BACKOFF: Backoff = { attempts: 12, baseDelayMs: 20, maxDelayMs: 1000, jitter: 'full' };
/**
 * Tries at recording a kill switch: a fresh suspension, else a repeat of the one in force. Each lost
 * try means a resume (or another suspension) landed between the two; more than a few is a storm of them.
 */
const SUSPENSION_ATTEMPTS = 5;
/**
 * A single write (PutItem, UpdateItem, DeleteItem) of an item that an in-flight transaction holds is
 * refused with `TransactionConflictException` (HTTP 400), which the SDK does not retry: a suspension's
 * write of the agent's standing meets every start that checks it. Tried again as a transaction is.
 */
const isTransactionConflict = (error: unknown) => error instanceof Error && error.name === 'TransactionConflictException';
const cancelledByConflictOnly = (reasons: readonly CancellationReason[]) =>
  reasons.some((reason) => reason.Code === 'TransactionConflict') &&
  reasons.every((reason) => reason.Code === 'None' || reason.Code === 'TransactionConflict');

/** The grant store on DynamoDB (and on the local engine's dynalite, which speaks the same API). */
export class DynamoDbGrantStore implements GrantStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  readonly dueShards: number;
  private readonly retentionSeconds: number;
  private readonly dueTiming: DueTiming;
  private readonly waiting: Waiting;

  constructor(options: DynamoDbGrantStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.dueShards = options.dueShards ?? DUE_SHARDS;
    this.retentionSeconds = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_SECONDS;
    this.dueTiming = options.dueTiming ?? DEFAULT_DUE_TIMING;
    this.waiting = options.waiting ?? {};
  }

  /** One strongly consistent GetItem: a stale read would only cost a failed conditional write later. */
  async get(grantId: string): Promise<Grant | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: toAttributes(grantKey(grantId)), ConsistentRead: true }),
    );
    return Item && (withoutStoreAttributes(fromAttributes(Item)) as Grant);
  }

  /** One PutItem; a duplicate gets the stored grant back from the failed condition itself. */
  async create(
    grant: Grant,
  ): Promise<{ readonly created: true; readonly grant: Grant } | { readonly created: false; readonly existing: Grant }> {
    const item = this.grantItem(grant);
    try {
      await this.write(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: toAttributes(item),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { created: true, grant: withoutStoreAttributes(item) as Grant };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.storedAfterConflict(error, grant.grantId);
      // Only a retention TTL delete between the write and the read can get here.
      if (!existing) throw new ConcurrentUpdateError(`grant ${grant.grantId} vanished while being created`);
      return { created: false, existing };
    }
  }

  /**
   * One PutItem of the whole grant, so index attributes it no longer has are removed with it. A
   * grant leaving the live states gives its slot back in the same transaction (closeFreeingSlot).
   */
  async update(previous: Grant, next: Grant): Promise<WriteOutcome> {
    if (next.grantId !== previous.grantId) throw new Error(`update must not change the grant id (${previous.grantId} → ${next.grantId})`);
    const item = this.grantItem(next);
    const leavesLive = LIVE_STATES.includes(previous.state) && !LIVE_STATES.includes(next.state);
    if (leavesLive && next.concurrencySlot !== undefined) return this.closeFreeingSlot(previous, next, item);
    const written = await this.putAtVersion(previous, item);
    // A grant that recorded no slot number (one opened before slots were numbered on the grant):
    // the slot is found by a Query. The grant's write is what counts: if the release fails (or
    // the process dies here), the sweep frees the slot of a holder that is no longer live.
    if (written.ok && leavesLive) await this.releaseSlot(next.agentId, next.grantId).catch(() => undefined);
    return written;
  }

  /** One PutItem conditioned on the stored version; a lost race hands back the stored grant. */
  private async putAtVersion(previous: Grant, item: Item): Promise<WriteOutcome> {
    try {
      await this.write(() => this.client.send(new PutItemCommand(this.versionedPut(previous, item))));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const current = await this.storedAfterConflict(error, previous.grantId);
      return current ? { ok: false, current } : { ok: false };
    }
    return { ok: true, grant: withoutStoreAttributes(item) as Grant };
  }

  /** The whole item, put only if the stored grant is still at `previous.version` (a PutItem, or a transaction's Put). */
  private versionedPut(previous: Grant, item: Item) {
    return { TableName: this.tableName, Item: toAttributes(item), ...onWire(this.atVersion(previous)) };
  }

  private atVersion(previous: Grant): Condition {
    return {
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expected': previous.version },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  /**
   * One TransactWriteItems: the grant's write (at its version) and its slot's release, so no crash
   * leaves a finished grant holding a slot. The slot is deleted only if it is this grant's or gone
   * already; a slot since taken by another grant is left alone, and the grant written by itself.
   */
  private async closeFreeingSlot(previous: Grant, next: Grant, item: Item): Promise<WriteOutcome> {
    const reasons = await this.transact(this.closingActions(previous, next, item));
    if (!reasons) return { ok: true, grant: withoutStoreAttributes(item) as Grant };
    const [grantReason, slotReason] = reasons;
    if (failedCondition(grantReason)) {
      const current = await this.storedAfterCancellation(grantReason, previous.grantId);
      return current ? { ok: false, current } : { ok: false };
    }
    if (failedCondition(slotReason)) return this.putAtVersion(previous, item);
    throw new ConcurrentUpdateError(`grant ${next.grantId}: its closing write kept conflicting with other writes; the event is retried`);
  }

  /** A closing write's actions: the grant at its version, and its slot deleted if still its own (or gone). */
  private closingActions(previous: Grant, next: Grant, item: Item): TransactItems {
    return [
      { Put: this.versionedPut(previous, item) },
      {
        Delete: {
          TableName: this.tableName,
          Key: toAttributes(slotKey(next.agentId, next.concurrencySlot as number)),
          ...onWire({
            ConditionExpression: 'attribute_not_exists(#pk) OR #holder = :grantId',
            ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey, '#holder': 'holder' },
            ExpressionAttributeValues: { ':grantId': next.grantId },
          }),
        },
      },
    ];
  }

  /**
   * The writes in as few TransactWriteItems as DynamoDB's limits allow (transaction-packing.ts): a
   * transaction costs the same capacity as the writes alone, in one call instead of one each. A
   * cancelled transaction writes nothing: a write whose own condition failed gets the grant it ran
   * into, and the others are made one by one, as `update` makes them. So are writes `update` makes
   * otherwise (a grant without a slot number leaving the live states), and a group of one.
   */
  async updateAll(writes: readonly GrantWrite[]): Promise<readonly PromiseSettledResult<WriteOutcome>[]> {
    const outcomes: Promise<WriteOutcome>[] = [];
    const alone = ({ previous, next }: GrantWrite) => this.update(previous, next);
    const packable: Packed[] = [];
    writes.forEach((write, index) => {
      const packed = this.packed(write, index);
      if (packed) packable.push(packed);
      else outcomes[index] = alone(write);
    });
    for (const group of packTransactions(packable)) {
      const written = group.length === 1 ? Promise.resolve([undefined]) : this.transactGroup(group);
      group.forEach((write, position) => (outcomes[write.index] = written.then((settled) => settled[position] ?? alone(write))));
    }
    return Promise.allSettled(outcomes);
  }

  /** A write as a transaction takes it, or undefined for one only `update` makes (a new grant id, a slot found by a Query). */
  private packed(write: GrantWrite, index: number): Packed | undefined {
    const { previous, next } = write;
    const closes = LIVE_STATES.includes(previous.state) && !LIVE_STATES.includes(next.state);
    if (next.grantId !== previous.grantId || (closes && next.concurrencySlot === undefined)) return undefined;
    const item = this.grantItem(next);
    const transactItems = closes ? this.closingActions(previous, next, item) : [{ Put: this.versionedPut(previous, item) }];
    const keyOf = ({ pk, sk }: { pk: string; sk: string }) => `${pk}\u0000${sk}`;
    return {
      ...write,
      index,
      item,
      transactItems,
      actions: transactItems.length,
      items: [keyOf(grantKey(next.grantId)), ...(closes ? [keyOf(slotKey(next.agentId, next.concurrencySlot as number))] : [])],
      bytes: JSON.stringify(transactItems).length,
    };
  }

  /**
   * One transaction of the group's writes, retried while only conflicts cancel it. The outcome of
   * each write it settled: all of them when it went through; when cancelled, only those whose grant
   * had moved on (the rest are left undefined, to be made alone).
   */
  private async transactGroup(group: readonly Packed[]): Promise<(WriteOutcome | undefined)[]> {
    let reasons: readonly CancellationReason[] | undefined;
    try {
      reasons = await this.transact(group.flatMap((write) => write.transactItems));
    } catch {
      // Refused as a whole (a limit the estimate missed, throttling past the SDK's retries): each
      // write is made alone, where its own error reaches its own caller.
      return group.map(() => undefined);
    }
    if (!reasons) return group.map((write) => ({ ok: true, grant: withoutStoreAttributes(write.item) as Grant }));
    let offset = 0;
    return Promise.all(
      group.map(async (write) => {
        const grantReason = reasons[offset];
        offset += write.actions;
        if (!failedCondition(grantReason)) return undefined;
        const current = await this.storedAfterCancellation(grantReason, write.previous.grantId);
        return current ? { ok: false, current } : { ok: false };
      }),
    );
  }

  /**
   * One TransactWriteItems: the agent's standing (its copy on the slot's shard: not suspended), a
   * slot (free, or this grant's already) and the grant (new). The first try takes a random slot
   * number without reading the agent's slots; only a slot lost to another grant costs a consistent
   * Query of the taken ones, and a free one is tried next. Each loss means another grant took a
   * slot, so with `max` slots at most `max` losses happen before the slots are seen full. A copy
   * that refuses is judged by the agent item: an agent's first start writes its copies.
   */
  async openHoldingSlot(agentId: string, max: number, open: (slot: number) => Grant, at: string): Promise<SlotOpening> {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`an agent's concurrency cap is a positive integer, not ${max}`);
    // The free slots, once read; before that, any of the `max`.
    let candidates: readonly number[] | undefined;
    for (let attempt = 0; attempt < max + EXTRA_SLOT_ATTEMPTS; attempt++) {
      // A random candidate, so concurrent starts mostly pick different ones.
      const slot = candidates ? (candidates[Math.floor(Math.random() * candidates.length)] as number) : Math.floor(Math.random() * max);
      const grant = open(slot);
      const item = this.grantItem(grant);
      const reasons = await this.transact([
        {
          ConditionCheck: {
            TableName: this.tableName,
            // Absent (never written) refuses too: only the agent item may say an agent is not suspended.
            Key: toAttributes(standingCopyKey(agentId, slot % STANDING_SHARDS)),
            ...onWire({
              ConditionExpression: '#suspended = :false',
              ExpressionAttributeNames: { '#suspended': 'suspended' },
              ExpressionAttributeValues: { ':false': false },
            }),
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: toAttributes({ ...slotKey(agentId, slot), holder: grant.grantId, reservedAt: at }),
            ...onWire({
              ConditionExpression: 'attribute_not_exists(#pk) OR #holder = :grantId',
              ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey, '#holder': 'holder' },
              ExpressionAttributeValues: { ':grantId': grant.grantId },
            }),
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: toAttributes(item),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]);
      if (!reasons) return { outcome: 'opened', grant: withoutStoreAttributes(item) as Grant };
      const [standingReason, slotReason, grantReason] = reasons;
      if (failedCondition(grantReason)) {
        const existing = await this.storedAfterCancellation(grantReason, grant.grantId);
        // Only a retention TTL delete between the write and the read can get here.
        if (!existing) throw new ConcurrentUpdateError(`grant ${grant.grantId} vanished while being created`);
        return { outcome: 'exists', existing };
      }
      if (failedCondition(standingReason)) {
        const agent = await this.getAgent(agentId);
        if (agent.suspended) return { outcome: 'suspended' };
        await this.writeStandingCopies(agent);
        continue;
      }
      if (!failedCondition(slotReason))
        throw new ConcurrentUpdateError(`grant ${grant.grantId}: its opening kept conflicting with other writes; the event is retried`);
      const holders = await this.slotHolders(agentId);
      const own = holders.find((holder) => holder.grantId === grant.grantId);
      const taken = new Set(holders.map((holder) => holder.slot));
      candidates = own ? [own.slot] : Array.from({ length: max }, (_, number) => number).filter((number) => !taken.has(number));
      if (candidates.length === 0) return { outcome: 'full', held: holders.length };
    }
    throw new ConcurrentUpdateError(`agent ${agentId}: lost every race for a concurrency slot; the event is retried`);
  }

  /**
   * One TransactWriteItems (again, after a wait, while only conflicts with other writes cancel it);
   * its cancellation reasons, in item order, when it was cancelled.
   */
  private async transact(items: TransactItems, backoff: Backoff = CONFLICT_BACKOFF): Promise<readonly CancellationReason[] | undefined> {
    const outcome = await retry(
      backoff,
      async () => {
        const reasons = await this.transactOnce(items);
        return reasons && cancelledByConflictOnly(reasons) ? notYet(reasons) : settled(reasons);
      },
      this.waiting,
    );
    return outcome.settled ? outcome.value : outcome.last;
  }

  /** One single-item write (`send` makes it), sent again while an in-flight transaction on its item refuses it (isTransactionConflict). */
  private async write(send: () => Promise<unknown>): Promise<void> {
    const outcome = await retry(
      CONFLICT_BACKOFF,
      async () => {
        try {
          await send();
          return settled(undefined);
        } catch (error) {
          if (!isTransactionConflict(error)) throw error;
          return notYet(error);
        }
      },
      this.waiting,
    );
    if (!outcome.settled) throw outcome.last;
  }

  private async transactOnce(items: TransactItems): Promise<readonly CancellationReason[] | undefined> {
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return undefined;
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      return error.CancellationReasons ?? [];
    }
  }

  /** One conditional DeleteItem when the slot is known, else a Query first. */
  async releaseSlot(agentId: string, grantId: string, slot?: number): Promise<void> {
    const slots =
      slot !== undefined
        ? [slot]
        : (await this.slotHolders(agentId)).filter((holder) => holder.grantId === grantId).map((holder) => holder.slot);
    for (const number of slots) {
      try {
        await this.write(() =>
          this.client.send(
            new DeleteItemCommand({
              TableName: this.tableName,
              Key: toAttributes(slotKey(agentId, number)),
              ...onWire({
                ConditionExpression: '#holder = :grantId',
                ExpressionAttributeNames: { '#holder': 'holder' },
                ExpressionAttributeValues: { ':grantId': grantId },
              }),
            }),
          ),
        );
      } catch (error) {
        // Freed already, or since taken by another grant: not ours to delete.
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
  }

  /** One strongly consistent Query of the agent's slot items. */
  async slotHolders(agentId: string): Promise<readonly SlotHolder[]> {
    const { items } = await this.query({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :slot)',
      ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey, '#sk': GRANT_TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': agentKey(agentId).pk, ':slot': SLOT_PREFIX },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      slot: Number(String(item[GRANT_TABLE.sortKey]).slice(SLOT_PREFIX.length)),
      grantId: String(item.holder),
      reservedAt: String(item.reservedAt),
    }));
  }

  /**
   * One Query per shard of the sparse due index, all in parallel: `dueShards` round trips
   * however large the table, each reading only items already due (at most `limit` per shard).
   * Index reads are eventually consistent: a grant just moved on may show its previous state,
   * which the sweep's version-conditioned write then refuses.
   */
  async dueGrants(now: Date, limit = DEFAULT_DUE_LIMIT, options: { readonly shard?: number } = {}): Promise<DueGrantsPage> {
    const only = options.shard;
    if (only !== undefined && (!Number.isInteger(only) || only < 0 || only >= this.dueShards)) {
      throw new RangeError(`due shard ${only} is not one of the ${this.dueShards} shards`);
    }
    const shards = only !== undefined ? [only] : Array.from({ length: this.dueShards }, (_, shard) => shard);
    const pages = await Promise.all(
      shards.map((shard) =>
        this.query(
          {
            IndexName: DUE_INDEX.name,
            KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
            ExpressionAttributeNames: { '#shard': DUE_INDEX.partitionKey, '#dueAt': DUE_INDEX.sortKey },
            ExpressionAttributeValues: { ':shard': dueShardOf(shard), ':now': now.toISOString() },
          },
          limit,
        ),
      ),
    );
    const earliestFirst = pages
      .flatMap((page) => page.items)
      .sort((a, b) => (a[DUE_INDEX.sortKey] < b[DUE_INDEX.sortKey] ? -1 : a[DUE_INDEX.sortKey] > b[DUE_INDEX.sortKey] ? 1 : 0));
    return {
      grants: earliestFirst.slice(0, limit).map((item) => withoutStoreAttributes(item) as Grant),
      itemsRead: pages.reduce((sum, page) => sum + page.scanned, 0),
    };
  }

  /**
   * Live grants: one Query of the sparse live-agent index. All grants: a filtered Scan,
   * for the CLI only (an agent's history is not on any engine path).
   */
  async grantsOfAgent(agentId: string, options: { readonly liveOnly?: boolean } = {}): Promise<readonly Grant[]> {
    if (!options.liveOnly) return (await this.scanGrants({ agentId })).sort(newestFirst);
    const { items } = await this.query({ ...this.agentQuery(agentId), ScanIndexForward: false });
    return items.map((item) => withoutStoreAttributes(item) as Grant);
  }

  /** One COUNT Query of the sparse live-agent index: reads only the agent's live grants. */
  async countLiveGrants(agentId: string): Promise<number> {
    const { count } = await this.query({ ...this.agentQuery(agentId), Select: 'COUNT' });
    return count;
  }

  /**
   * A filtered Scan of the whole table: for the CLI and reports, never on the engine's path.
   * A Scan's Limit counts items before the filter, so the limit is applied after sorting.
   */
  async listGrants(
    options: { readonly state?: GrantState; readonly since?: Date; readonly limit?: number } = {},
  ): Promise<readonly Grant[]> {
    const grants = await this.scanGrants(options);
    grants.sort(newestFirst);
    return options.limit === undefined ? grants : grants.slice(0, options.limit);
  }

  private async scanGrants(filters: { readonly state?: GrantState; readonly since?: Date; readonly agentId?: string }): Promise<Grant[]> {
    const conditions = ['#sk = :grantSk'];
    const names: Record<string, string> = { '#sk': GRANT_TABLE.sortKey };
    const values: Item = { ':grantSk': GRANT_SORT_KEY };
    const filter = (attribute: string, operator: string, value: string) => {
      conditions.push(`#${attribute} ${operator} :${attribute}`);
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
    };
    if (filters.state) filter('state', '=', filters.state);
    if (filters.since) filter('createdAt', '>=', filters.since.toISOString());
    if (filters.agentId) filter('agentId', '=', filters.agentId);
    return this.scan({
      TableName: this.tableName,
      FilterExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: toAttributes(values),
    });
  }

  /** Every grant a Scan reads, page by page. */
  private async scan(input: ScanCommandInput): Promise<Grant[]> {
    const grants: Grant[] = [];
    let startKey: Attributes | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
      for (const item of page.Items ?? []) grants.push(withoutStoreAttributes(fromAttributes(item)) as Grant);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return grants;
  }

  /** A Scan of the sparse live-agent index: it holds only live grants, so it reads nothing else. */
  async liveGrants(): Promise<readonly Grant[]> {
    return (await this.scan({ TableName: this.tableName, IndexName: AGENT_INDEX.name })).sort(newestFirst);
  }

  /** Two round trips: the keys-only credential index, then the grant itself. */
  async findByCredentialId(credentialId: string): Promise<Grant | undefined> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: CREDENTIAL_INDEX.name,
        KeyConditionExpression: '#credentialId = :credentialId',
        ExpressionAttributeNames: { '#credentialId': CREDENTIAL_INDEX.partitionKey },
        ExpressionAttributeValues: toAttributes({ ':credentialId': credentialId }),
        Limit: 1,
      }),
    );
    const keys = Items?.[0];
    if (!keys) return undefined;
    const partition = keys[GRANT_TABLE.partitionKey];
    const sort = keys[GRANT_TABLE.sortKey];
    if (!partition || !sort) return undefined;
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [GRANT_TABLE.partitionKey]: partition, [GRANT_TABLE.sortKey]: sort },
        ConsistentRead: true,
      }),
    );
    return Item && (withoutStoreAttributes(fromAttributes(Item)) as Grant);
  }

  /** Strongly consistent: a suspension just written must stop the very next issue. */
  async getAgent(agentId: string): Promise<AgentRecord> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: toAttributes(agentKey(agentId)), ConsistentRead: true }),
    );
    return Item ? (withoutStoreAttributes(fromAttributes(Item)) as AgentRecord) : { agentId, suspended: false };
  }

  /**
   * The agent item and its standing copies, in one transaction: a start sees the suspension on
   * whichever copy it checks, or is found by the listing that follows, and two changes racing (a
   * suspension, a resumption) leave every item as the one written last, never a mix.
   */
  async putAgent(agent: AgentRecord): Promise<void> {
    await this.writeAgent(agent);
  }

  /**
   * A suspension, when the agent is not suspended: the agent item and its copies, as putAgent. When
   * it is (the refusal hands back the item), a repeat instead: the item keeps the suspension in
   * force and takes this one as its latest repeat, conditioned on that suspension still being in
   * force. Each refusal means a resume or a suspension landed in between, so the other is tried next.
   */
  async recordSuspension(suspension: Suspension): Promise<SuspensionRecorded> {
    for (let attempt = 0; attempt < SUSPENSION_ATTEMPTS; attempt++) {
      const refused = await this.writeStanding(
        {
          Put: {
            TableName: this.tableName,
            Item: toAttributes({ ...plain(suspension), suspended: true, ...agentKey(suspension.agentId) }),
            ...onWire({
              ConditionExpression: 'attribute_not_exists(#pk) OR #suspended = :false',
              ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey, '#suspended': 'suspended' },
              ExpressionAttributeValues: { ':false': false },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          },
        },
        suspension.agentId,
        true,
        suspension.at,
      );
      if (!refused) return { outcome: 'suspended' };
      const inForce = refused.Item
        ? (withoutStoreAttributes(fromAttributes(refused.Item)) as AgentRecord)
        : await this.getAgent(suspension.agentId);
      if (!inForce.suspended) continue;
      if (!(await this.writeStanding(this.repeatOf(suspension, inForce.at), suspension.agentId, true, inForce.at ?? NEVER)))
        return { outcome: 'repeated', ...(inForce.at ? { inForceSince: inForce.at } : {}) };
    }
    throw new ConcurrentUpdateError(`agent ${suspension.agentId}: its suspension kept racing resumes; the change is retried`);
  }

  /** The agent item's update that records `suspension` as the latest repeat of the one made at `inForceAt`, if still in force. */
  private repeatOf(suspension: Suspension, inForceAt: string | undefined): TransactWriteItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: toAttributes(agentKey(suspension.agentId)),
        UpdateExpression: 'SET #lastBy = :by, #lastReason = :reason, #lastAt = :at ADD #count :one',
        ...onWire({
          ConditionExpression: `#suspended = :true AND ${inForceAt === undefined ? 'attribute_not_exists(#inForceAt)' : '#inForceAt = :inForceAt'}`,
          ExpressionAttributeNames: {
            '#suspended': 'suspended',
            '#inForceAt': 'at',
            '#lastBy': 'lastRepeatedBy',
            '#lastReason': 'lastRepeatedReason',
            '#lastAt': 'lastRepeatedAt',
            '#count': 'repeatCount',
          },
          ExpressionAttributeValues: {
            ':true': true,
            ':by': suspension.by,
            ':reason': suspension.reason,
            ':at': suspension.at,
            ':one': 1,
            ...(inForceAt === undefined ? {} : { ':inForceAt': inForceAt }),
          },
        }),
      },
    };
  }

  /**
   * As putAgent, only while the agent item still records the suspension made at `suspendedAt`,
   * repeated `repeatsSeen` times (a repeat since is a kill switch thrown after the resume was decided).
   */
  liftSuspension(agent: AgentRecord, suspendedAt: string, repeatsSeen = 0): Promise<boolean> {
    return this.writeAgent(
      agent,
      onWire({
        ConditionExpression: `#suspended = :true AND #at = :at AND ${repeatsSeen === 0 ? 'attribute_not_exists(#count)' : '#count = :count'}`,
        ExpressionAttributeNames: { '#suspended': 'suspended', '#at': 'at', '#count': 'repeatCount' },
        ExpressionAttributeValues: { ':true': true, ':at': suspendedAt, ...(repeatsSeen === 0 ? {} : { ':count': repeatsSeen }) },
      }),
    );
  }

  /** The agent item (under `condition`, if any) and its copies; false when the condition refused it. */
  private async writeAgent(agent: AgentRecord, condition?: ReturnType<typeof onWire>): Promise<boolean> {
    const item = {
      Put: { TableName: this.tableName, Item: toAttributes({ ...plain(agent), ...agentKey(agent.agentId) }), ...(condition ?? {}) },
    };
    return (await this.writeStanding(item, agent.agentId, agent.suspended, agent.at ?? NEVER)) === undefined;
  }

  /**
   * One write of the agent item and, in the same transaction, its copies as `suspended` at `at`;
   * the agent item's cancellation reason when its condition refused the write.
   */
  private async writeStanding(
    agentItem: TransactWriteItem,
    agentId: string,
    suspended: boolean,
    at: string,
  ): Promise<CancellationReason | undefined> {
    const reasons = await this.transact([agentItem, ...this.standingCopies(agentId, suspended, at)], STANDING_CONFLICT_BACKOFF);
    if (!reasons) return undefined;
    const [agentReason] = reasons;
    if (agentReason && failedCondition(agentReason)) return agentReason;
    throw new ConcurrentUpdateError(`agent ${agentId}: its standing kept conflicting with starts; the change is retried`);
  }

  /**
   * An agent's first start (or one after an upgrade from a single standing item): the copies are
   * written from the agent item, only where absent, so a suspension written meanwhile is never undone.
   */
  private async writeStandingCopies(agent: AgentRecord): Promise<void> {
    await this.transact(
      this.standingCopies(
        agent.agentId,
        agent.suspended,
        agent.at ?? NEVER,
        onWire({ ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey } }),
      ),
    );
  }

  private standingCopies(agentId: string, suspended: boolean, at: string, condition?: ReturnType<typeof onWire>): TransactItems {
    return Array.from({ length: STANDING_SHARDS }, (_, shard) => ({
      Put: {
        TableName: this.tableName,
        Item: toAttributes({ ...standingCopyKey(agentId, shard), suspended, at }),
        ...(condition ?? {}),
      },
    }));
  }

  /** Unconditional: a redelivered event with the same id overwrites its own entry. */
  async recordRejectedEvent(entry: RejectedEvent): Promise<void> {
    const item: Item = {
      ...plain(entry),
      [GRANT_TABLE.partitionKey]: `REJECTED#${entry.at.slice(0, 10)}`,
      [GRANT_TABLE.sortKey]: `${entry.at}#${entry.eventId ?? randomUUID()}`,
      [GRANT_TABLE.ttlAttribute]: epochSeconds(entry.at) + SHORT_RETENTION_DAYS * DAY_SECONDS,
    };
    await this.write(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toAttributes(item) })));
  }

  /** The grant's fields as attributes, plus its keys and the index attributes derived from it. */
  private grantItem(grant: Grant): Item {
    const dueAt = dueAtOf(grant, this.dueTiming);
    const ttl = this.expiryOf(grant);
    return {
      ...plain(grant),
      ...grantKey(grant.grantId),
      // Absent when nothing is left to do, so the due index holds only grants that will be due.
      ...(dueAt !== undefined
        ? { [DUE_INDEX.partitionKey]: dueShardOf(shardOf(grant.grantId, this.dueShards)), [DUE_INDEX.sortKey]: dueAt }
        : {}),
      ...(grant.credential ? { [CREDENTIAL_INDEX.partitionKey]: grant.credential.accessKeyId } : {}),
      // Only live grants are in the agent index: what suspension revokes and the concurrency cap counts.
      ...(LIVE_STATES.includes(grant.state) ? { [AGENT_INDEX.partitionKey]: grant.agentId } : {}),
      ...(ttl !== undefined ? { [GRANT_TABLE.ttlAttribute]: ttl } : {}),
    };
  }

  /**
   * Retention applies to finished grants only: a live grant is the one record of a credential
   * that must still be revoked, so TTL must never delete it however long it waits.
   */
  private expiryOf(grant: Grant): number | undefined {
    if (!FINAL_STATES.includes(grant.state)) return undefined;
    const retention = grant.state === 'denied' ? SHORT_RETENTION_DAYS * DAY_SECONDS : this.retentionSeconds;
    return epochSeconds(grant.updatedAt) + retention;
  }

  /**
   * The stored grant a failed condition ran into. DynamoDB returns it with the failure
   * (ALL_OLD), so no second call; engines that do not (dynalite) cost one GetItem more.
   */
  private async storedAfterConflict(error: ConditionalCheckFailedException, grantId: string): Promise<Grant | undefined> {
    return error.Item ? (withoutStoreAttributes(fromAttributes(error.Item)) as Grant) : this.get(grantId);
  }

  /** The same for a transaction: the item comes with the cancellation reason when asked for (ALL_OLD). */
  private async storedAfterCancellation(reason: CancellationReason | undefined, grantId: string): Promise<Grant | undefined> {
    return reason?.Item ? (withoutStoreAttributes(fromAttributes(reason.Item)) as Grant) : this.get(grantId);
  }

  private agentQuery(agentId: string): Query {
    return {
      IndexName: AGENT_INDEX.name,
      KeyConditionExpression: '#agentId = :agentId',
      ExpressionAttributeNames: { '#agentId': AGENT_INDEX.partitionKey },
      ExpressionAttributeValues: { ':agentId': agentId },
    };
  }

  /** Pages through a Query until done or `max` items are in hand (each page asks for at most `max`). */
  private async query({ ExpressionAttributeValues, ...input }: Query, max = Number.POSITIVE_INFINITY) {
    const items: Item[] = [];
    let count = 0;
    let scanned = 0;
    const request: QueryCommandInput = {
      ...input,
      TableName: this.tableName,
      ...(ExpressionAttributeValues ? { ExpressionAttributeValues: toAttributes(ExpressionAttributeValues) } : {}),
      ...(Number.isFinite(max) ? { Limit: max } : {}),
    };
    let startKey: Attributes | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...request, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
      items.push(...(page.Items ?? []).map(fromAttributes));
      count += page.Count ?? 0;
      scanned += page.ScannedCount ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < max);
    return { items, count, scanned };
  }
}
