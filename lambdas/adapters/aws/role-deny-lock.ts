// Adapter (DynamoDB): one revoker at a time on an agent role's deny. IAM has no conditional write,
// so two revocations read-modify-writing one role's revoked-sessions deny at once can each drop the
// other's entry (sts-session-issuer.ts). A lease item on the grant table, taken by a conditional put
// and given back by a conditional delete, serialises them across containers; within one container
// they queue in memory first, so only the head of the queue asks DynamoDB.
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TaskboundError } from '../../domain/errors';
import type { Clock } from '../../ports';
import { realSleep } from '../sleep';
import { GRANT_TABLE, roleDenyLockKey } from './grant-table';

export interface RoleDenyLockOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  /**
   * How long a lease holds without its holder: one read-modify-write of the deny with its retries
   * takes a second or two; a holder that dies (a Lambda timeout) blocks the role's revocations this long at most.
   */
  readonly leaseMs?: number;
  /** How long a revocation waits for the lease before it fails (and is retried by the sweep, `Revocation Failed`). */
  readonly waitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of a lease it could not give back (it ends by itself). */
  readonly logger?: { warn(message: string, extra: Record<string, unknown>): void };
}

const DEFAULT_LEASE_MS = 10_000;
const DEFAULT_WAIT_MS = 10_000;
/** Between tries at a lease another container holds: its section is a few IAM calls. */
const RETRY_MIN_MS = 25;
const RETRY_MAX_MS = 150;
/** The item outlives any lease; the table's TTL removes it a day on. */
const ITEM_TTL_SECONDS = 86_400;

export class RoleDenyLock {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: RoleDenyLockOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Runs `work` holding the lease of the agent's role in `account`; after the revocations of it queued before. */
  async hold<T>(agentId: string, account: string, work: () => Promise<T>): Promise<T> {
    const queueKey = `${agentId} ${account}`;
    const before = this.queues.get(queueKey) ?? Promise.resolve();
    const turn = before.catch(() => undefined).then(() => this.leased(agentId, account, work));
    this.queues.set(queueKey, turn);
    try {
      return await turn;
    } finally {
      if (this.queues.get(queueKey) === turn) this.queues.delete(queueKey);
    }
  }

  private async leased<T>(agentId: string, account: string, work: () => Promise<T>): Promise<T> {
    const key = roleDenyLockKey(agentId, account);
    const holder = randomUUID();
    await this.acquire(key, holder, agentId);
    try {
      return await work();
    } finally {
      await this.release(key, holder);
    }
  }

  private async acquire(key: { pk: string; sk: string }, holder: string, agentId: string): Promise<void> {
    const deadline = this.options.clock.now().getTime() + this.waitMs;
    for (;;) {
      const now = this.options.clock.now().getTime();
      try {
        await this.options.client.send(
          new PutItemCommand({
            TableName: this.options.tableName,
            Item: {
              [GRANT_TABLE.partitionKey]: { S: key.pk },
              [GRANT_TABLE.sortKey]: { S: key.sk },
              holder: { S: holder },
              leaseEndsMs: { N: String(now + this.leaseMs) },
              [GRANT_TABLE.ttlAttribute]: { N: String(Math.floor(now / 1000) + ITEM_TTL_SECONDS) },
            },
            ConditionExpression: `attribute_not_exists(${GRANT_TABLE.partitionKey}) OR leaseEndsMs < :now`,
            ExpressionAttributeValues: { ':now': { N: String(now) } },
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      if (now >= deadline)
        throw new TaskboundError(
          `another revocation held the deny of agent ${agentId}'s role for over ${this.waitMs / 1000} s; the sweep retries`,
        );
      await this.sleep(RETRY_MIN_MS + Math.random() * (RETRY_MAX_MS - RETRY_MIN_MS));
    }
  }

  /**
   * Gives the lease back if it is still this holder's. A release that fails is not retried: the
   * lease ends by itself, and the role's next revocation waits for that at most.
   */
  private async release(key: { pk: string; sk: string }, holder: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: { [GRANT_TABLE.partitionKey]: { S: key.pk }, [GRANT_TABLE.sortKey]: { S: key.sk } },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': { S: holder } },
        }),
      );
    } catch (error) {
      // Taken over after the lease ran out: nothing to give back. Any other failure: the lease ends by itself.
      if (error instanceof ConditionalCheckFailedException) return;
      this.options.logger?.warn('could not give back a role deny lease; it ends by itself', {
        lock: key.sk,
        error: error instanceof Error ? error.name : 'unknown',
      });
    }
  }
}
