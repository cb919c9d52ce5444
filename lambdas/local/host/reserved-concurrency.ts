// Local engine, host: Lambda's reserved concurrency for the local engine's functions. Each
// function runs at most its reservation of invocations at once; the rest wait in a FIFO queue of
// their own, as asynchronous invocations wait in Lambda's queue rather than in flight. Queues are
// per function, so a revoking function never waits behind an issuing one's backlog.

/** One function's load: now, and the most seen since the engine started. */
export interface FunctionLoad {
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly peakInFlight: number;
  readonly peakQueued: number;
  readonly invocations: number;
}

/** A FIFO of waiting invocations; a head index instead of `shift()`, which copies a long array. */
class WaitQueue {
  private items: Array<() => void> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(wake: () => void): void {
    this.items.push(wake);
  }

  shift(): (() => void) | undefined {
    if (this.head >= this.items.length) return undefined;
    const wake = this.items[this.head++];
    // Compact once the consumed prefix is most of the array, so memory follows the backlog.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return wake;
  }
}

/** One function's slots: `limit` invocations at once, the rest served in arrival order. */
class FunctionSlots {
  private readonly waiting = new WaitQueue();
  private inFlight = 0;
  private peakInFlight = 0;
  private peakQueued = 0;
  private invocations = 0;

  constructor(private readonly limit: number) {}

  async run<T>(invocation: () => Promise<T>): Promise<T> {
    this.invocations += 1;
    if (this.inFlight >= this.limit) {
      // The slot is handed over by `release`, so no later arrival can take it first.
      await new Promise<void>((wake) => {
        this.waiting.push(wake);
        this.peakQueued = Math.max(this.peakQueued, this.waiting.length);
      });
    } else {
      this.inFlight += 1;
    }
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      return await invocation();
    } finally {
      this.release();
    }
  }

  load(): FunctionLoad {
    return {
      limit: this.limit,
      inFlight: this.inFlight,
      queued: this.waiting.length,
      peakInFlight: this.peakInFlight,
      peakQueued: this.peakQueued,
      invocations: this.invocations,
    };
  }

  private release(): void {
    const next = this.waiting.shift();
    // The next waiter inherits the slot (inFlight unchanged); with none waiting, the slot frees.
    if (next) next();
    else this.inFlight -= 1;
  }
}

/**
 * Per-function concurrency limits. A function without a limit runs every invocation at once (on
 * AWS: it draws on the account's unreserved concurrency, far above a local engine's load).
 */
export class ReservedConcurrency {
  private readonly slots = new Map<string, FunctionSlots>();

  /** @param limits reservations per function name, each a positive integer. */
  constructor(limits: Readonly<Record<string, number | undefined>>) {
    for (const [name, limit] of Object.entries(limits)) {
      if (limit === undefined) continue;
      if (!Number.isInteger(limit) || limit < 1)
        throw new Error(`reserved concurrency of ${name} must be a positive integer, not ${limit}`);
      this.slots.set(name, new FunctionSlots(limit));
    }
  }

  /** Runs `invocation` as one invocation of `name`: at once when a slot is free, else after those queued before it. */
  run<T>(name: string, invocation: () => Promise<T>): Promise<T> {
    const slots = this.slots.get(name);
    return slots ? slots.run(invocation) : invocation();
  }

  /** The load of every limited function, by name. */
  load(): Readonly<Record<string, FunctionLoad>> {
    return Object.fromEntries([...this.slots].map(([name, slots]) => [name, slots.load()]));
  }
}
