// Adapter (AWS SDK middleware): backpressure at the account's documented quotas. Every SDK call
// waits for a concurrency slot of its service and a token of its operation's bucket before it is
// sent, so a flood of task starts queues here instead of failing at AWS. Revocations run in a
// priority lane: when both wait, a revocation is served first, so a flood of starts never delays a kill.
import { AsyncLocalStorage } from 'node:async_hooks';
import { AdaptiveRetryStrategy, StandardRetryStrategy } from '@smithy/core/retry';

type Next = (args: unknown) => Promise<unknown>;
interface HandlerContext {
  readonly commandName?: string;
}
interface WithMiddleware {
  readonly middlewareStack: {
    addRelativeTo(
      middleware: (next: Next, context: HandlerContext) => Next,
      options: { relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean },
    ): void;
  };
}

/** Requests per second per operation, keyed `service:Operation` (e.g. `secretsmanager:CreateSecret`). */
export type QuotaTable = Readonly<Record<string, number>>;

export type Lane = 'revocation' | 'issuance';

const lanes = new AsyncLocalStorage<Lane>();

/** Runs `work` (and every SDK call it makes) in the revocation lane: served before issuance. */
export function inRevocationLane<T>(work: () => Promise<T>): Promise<T> {
  return lanes.run('revocation', work);
}

/** The lane of the calling async context; issuance unless a revocation started it. */
export function currentLane(): Lane {
  return lanes.getStore() ?? 'issuance';
}

interface Waiter {
  readonly grant: () => void;
}

/** Two FIFO queues; the revocation queue always drains first. */
class PriorityQueue {
  private readonly revocations: Waiter[] = [];
  private readonly issuances: Waiter[] = [];

  get length(): number {
    return this.revocations.length + this.issuances.length;
  }

  push(lane: Lane, waiter: Waiter): void {
    (lane === 'revocation' ? this.revocations : this.issuances).push(waiter);
  }

  shift(): Waiter | undefined {
    return this.revocations.shift() ?? this.issuances.shift();
  }
}

/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most `burst` (one second's worth by
 * default, as AWS states its quotas per second). `take` waits for a token; `tryTake` never waits
 * (the emulated service's side: no token, throttled).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiting = new PriorityQueue();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly ratePerSecond: number,
    private readonly burst: number = Math.max(1, ratePerSecond),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be positive');
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Waiting callers, both lanes. */
  get queued(): number {
    return this.waiting.length;
  }

  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1 || this.waiting.length > 0) return false;
    this.tokens -= 1;
    return true;
  }

  take(lane: Lane = currentLane()): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(lane, { grant: resolve });
      this.pump();
    });
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  private pump(): void {
    this.refill();
    while (this.tokens >= 1 && this.waiting.length > 0) {
      this.tokens -= 1;
      this.waiting.shift()?.grant();
    }
    if (this.waiting.length > 0 && !this.timer) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, waitMs);
    }
  }
}

/** At most `limit` calls in flight; waiters are served revocations first. */
export class ConcurrencyLimit {
  private inFlight = 0;
  private readonly waiting = new PriorityQueue();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  async run<T>(lane: Lane, work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.waiting.push(lane, { grant: resolve }));
    else this.inFlight += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so no newcomer can jump the queue.
      if (next) next.grant();
      else this.inFlight -= 1;
    }
  }
}

export interface QuotaThrottleOptions {
  /** Requests per second per operation; an operation not listed is not paced. */
  readonly quotas: QuotaTable;
  /** Calls in flight per service (e.g. `{ secretsmanager: 20 }`); unbounded when absent. */
  readonly maxConcurrency?: Readonly<Record<string, number>>;
}

/**
 * One set of buckets per account and region, shared by every client attached to it. The local engine
 * attaches it at the quotas; on Lambda each container has its own, at quota ÷ QUOTA_SHARE
 * (composition/aws-engine.ts, docs/scale.md §4); the SDK's adaptive retry mode absorbs what pacing misses.
 */
export class QuotaThrottle {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly limits = new Map<string, ConcurrencyLimit>();

  constructor(private readonly options: QuotaThrottleOptions) {
    // Paced nearly evenly (a quarter second's burst, at least 2 so a late timer loses no tokens): the
    // service's own one-second burst stays free to absorb network jitter.
    for (const [operation, rate] of Object.entries(options.quotas))
      this.buckets.set(operation, new TokenBucket(rate, Math.max(2, rate / 4)));
    for (const [service, limit] of Object.entries(options.maxConcurrency ?? {})) this.limits.set(service, new ConcurrencyLimit(limit));
  }

  /** Waits for a token, then a slot, then runs `send`; the lane comes from the async context. */
  async call<T>(service: string, operation: string, send: () => Promise<T>): Promise<T> {
    const lane = currentLane();
    const bucket = this.buckets.get(`${service}:${operation}`);
    // The token first: a call waiting for its quota holds no slot another operation could use.
    if (bucket) await bucket.take(lane);
    const limit = this.limits.get(service);
    return limit ? limit.run(lane, send) : send();
  }

  /**
   * Adds the pacing to an SDK v3 client, after its retry middleware, so every attempt (a retry
   * included) spends a token. Returns the client.
   */
  attach<C>(client: C, service: string): C {
    (client as unknown as WithMiddleware).middlewareStack.addRelativeTo(
      (next: Next, context: HandlerContext) => async (args: unknown) =>
        this.call(service, (context.commandName ?? 'Unknown').replace(/Command$/, ''), () => next(args)),
      { relation: 'after', toMiddleware: 'retryMiddleware', name: 'taskboundQuotaThrottle', override: true },
    );
    return client;
  }
}

type RetryStrategy = Pick<AdaptiveRetryStrategy, 'acquireInitialRetryToken' | 'refreshRetryTokenForRetry' | 'recordSuccess'>;
type RetryToken = Awaited<ReturnType<RetryStrategy['acquireInitialRetryToken']>>;

/**
 * The SDK's `adaptive` retry mode for issuance, `standard` for revocation, in one client. Adaptive
 * mode slows the whole client after a throttle (one client-side rate limiter for every operation);
 * a revocation sharing it would wait behind issuance, so calls in the revocation lane bypass it.
 */
export function laneAwareRetryStrategy(maxAttempts: number): RetryStrategy {
  const issuance = new AdaptiveRetryStrategy(maxAttempts);
  const revocation = new StandardRetryStrategy(maxAttempts);
  const owners = new WeakMap<object, RetryStrategy>();
  const owned = (token: RetryToken, strategy: RetryStrategy) => {
    owners.set(token, strategy);
    return token;
  };
  return {
    async acquireInitialRetryToken(scope) {
      const strategy = currentLane() === 'revocation' ? revocation : issuance;
      return owned(await strategy.acquireInitialRetryToken(scope), strategy);
    },
    async refreshRetryTokenForRetry(token, errorInfo) {
      const strategy = owners.get(token) ?? issuance;
      return owned(await strategy.refreshRetryTokenForRetry(token, errorInfo), strategy);
    },
    recordSuccess(token) {
      (owners.get(token) ?? issuance).recordSuccess(token);
    },
  };
}
