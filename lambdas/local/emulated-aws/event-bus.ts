// Local engine, emulated AWS: the event bus. Accepted events are written to the embedded store
// (`taskbound-local-events`) before PutEvents answers, then delivered at least once to every rule
// whose pattern matches, with retries and a dead letter (`taskbound-local-dead-letters`), like
// EventBridge; events not yet delivered when the process died are delivered again at the next start.
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { EventPattern } from '../../routes';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import { notYet, retry, settled } from '../../adapters/retry';
import { BatchedWrites } from './batched-writes';
import { scanAll, type StateTable } from './state-tables';

/** An event as a publisher puts it (already validated). */
export interface BusEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
  readonly time?: Date;
}

/** What EventBridge hands a rule's target. */
export interface EventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export type RuleTarget = (envelope: EventEnvelope) => Promise<void>;

export interface RetryPolicy {
  /** Attempts per rule, the first included, before the event is dead-lettered. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export interface DeadLetter {
  readonly rule: string;
  readonly envelope: EventEnvelope;
  readonly attempts: number;
  /** The last failure's name and message, truncated. */
  readonly error: string;
}

export interface EventBusOptions {
  /** The bus PutEvents accepts; `taskbound` by default. */
  readonly name?: string;
  readonly region?: string;
  /** Where accepted events and dead letters are kept (state-tables.ts); in memory when absent. */
  readonly tables?: { readonly events: StateTable; readonly deadLetters: StateTable };
  readonly retry?: Partial<RetryPolicy>;
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void;
  /** For the backoff's jitter; tests pin it. */
  readonly random?: () => number;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 30_000 };
/**
 * How long a completed event's delete waits to ride with the next accepted event's put. A delete
 * lost to a crash in that time means the event is delivered once more after the restart.
 */
const COMPLETED_DELETE_WINDOW_MS = 100;

/**
 * Where the bus's state lives: an event's item (its envelope, and the rules done with it) from
 * acceptance until every matching rule has it or gave up; a dead letter for good.
 */
class BusTables {
  /**
   * Events accepted together (concurrent PutEvents calls) are stored in one request, and completed
   * events are forgotten in the same requests: a delete lost to a crash means one more delivery, never a lost event.
   */
  private readonly writes: BatchedWrites;

  constructor(private readonly tables: { readonly events: StateTable; readonly deadLetters: StateTable }) {
    this.writes = new BatchedWrites(tables.events, 'id', { deleteWindowMs: COMPLETED_DELETE_WINDOW_MS });
  }

  accepted(envelope: EventEnvelope): Promise<void> {
    return this.writes.put({ id: envelope.id, envelope: JSON.stringify(envelope) });
  }

  /** The rule is done with the event; a no-op once the event completed (its item is gone). */
  async done(id: string, rule: string): Promise<void> {
    const { client, tableName } = this.tables.events;
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: id } },
          UpdateExpression: 'ADD done :rule',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':rule': { SS: [rule] } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async deadLettered(deadLetter: DeadLetter): Promise<void> {
    const { client, tableName } = this.tables.deadLetters;
    const id = `${deadLetter.envelope.id}/${deadLetter.rule}`;
    await client.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: id }, deadLetter: { S: JSON.stringify(deadLetter) } } }));
    await this.done(deadLetter.envelope.id, deadLetter.rule);
  }

  completed(id: string): Promise<void> {
    return this.writes.delete(id);
  }

  async load(): Promise<{ pending: Map<string, PendingEvent>; deadLetters: DeadLetter[] }> {
    const pending = new Map<string, PendingEvent>();
    for (const item of await scanAll(this.tables.events)) {
      // A rule's `done` that landed after its event completed left an item without an envelope.
      if (typeof item.envelope !== 'string') continue;
      const envelope = JSON.parse(item.envelope) as EventEnvelope;
      const done = item.done instanceof Set ? [...(item.done as Set<string>)] : [];
      pending.set(envelope.id, { envelope, done: new Set(done), stored: true });
    }
    const deadLetters = (await scanAll(this.tables.deadLetters))
      .flatMap((item) => (typeof item.deadLetter === 'string' ? [JSON.parse(item.deadLetter) as DeadLetter] : []))
      .sort((a, b) => a.envelope.time.localeCompare(b.envelope.time));
    return { pending, deadLetters };
  }
}

/** The bus in memory only (tests): nothing survives the process. */
const NOT_KEPT = {
  accepted: async () => undefined,
  done: async () => undefined,
  deadLettered: async () => undefined,
  completed: async () => undefined,
};

type BusState = Pick<BusTables, 'accepted' | 'done' | 'deadLettered' | 'completed'>;

interface Rule {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly target: RuleTarget;
}

interface PendingEvent {
  readonly envelope: EventEnvelope;
  /** Rules that have the event, or gave up on it. */
  readonly done: Set<string>;
  /** Whether it has an item in the store (an event no rule wants, once started, needs none). */
  readonly stored: boolean;
}

/** Whether an event matches a pattern: every pattern field lists the values it accepts (exact match), nested for `detail`. */
export function matchesPattern(pattern: EventPattern, envelope: EventEnvelope): boolean {
  return matchesFields(pattern, envelope);
}

function matchesFields(pattern: object, value: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = isRecord(value) ? value[key] : undefined;
    if (Array.isArray(expected)) return (Array.isArray(actual) ? actual : [actual]).some((candidate) => expected.includes(candidate));
    return isRecord(expected) && matchesFields(expected, actual);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** EventBridge's time format: ISO 8601 to the second. */
function eventTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : 'non-error thrown';
  return text.slice(0, 512);
}

/** Opens the bus and loads what a previous run left. Add rules, then `start()` to deliver what was left over. */
export async function openEventBus(options: EventBusOptions = {}): Promise<EventBus> {
  if (!options.tables) return new EventBus(NOT_KEPT, new Map(), [], options);
  const tables = new BusTables(options.tables);
  const { pending, deadLetters } = await tables.load();
  return new EventBus(tables, pending, deadLetters, options);
}

export class EventBus {
  readonly name: string;
  readonly region: string;
  readonly arn: string;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly rules = new Map<string, Rule>();
  private readonly listeners = new Set<(envelope: EventEnvelope) => void>();
  private readonly sleeping = new Map<NodeJS.Timeout, () => void>();
  private idleWaiters: Array<() => void> = [];
  private inFlight = 0;
  private started = false;
  private closed = false;

  constructor(
    private readonly state: BusState,
    private readonly pending: Map<string, PendingEvent>,
    private readonly deadLetterList: DeadLetter[],
    private readonly options: EventBusOptions,
  ) {
    this.name = options.name ?? 'taskbound';
    this.region = options.region ?? 'us-east-1';
    this.arn = `arn:aws:events:${this.region}:${LOCAL_ACCOUNT_ID}:event-bus/${this.name}`;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.random = options.random ?? Math.random;
  }

  /** Events accepted and not yet delivered to every rule that wants them: the engine's backlog (the soak samples it). */
  get pendingEvents(): number {
    return this.pending.size;
  }

  /** The events accepted and not yet delivered to every rule that wants them, as their rules will get them. */
  backlog(): readonly EventEnvelope[] {
    return [...this.pending.values()].map((event) => event.envelope);
  }

  /** Registers a rule; its target gets every matching event accepted from now on, and any left over. */
  addRule(name: string, pattern: EventPattern, target: RuleTarget): void {
    if (this.rules.has(name)) throw new Error(`rule ${name} already exists`);
    this.rules.set(name, { name, pattern, target });
  }

  /** Calls `listener` with every event accepted from now on; returns the unsubscribe function. */
  subscribe(listener: (envelope: EventEnvelope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts delivering: first the events a previous run accepted and did not finish delivering. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const event of [...this.pending.values()]) this.dispatch(event);
  }

  /** Accepts events: resolves with their envelopes once they are stored; delivery follows. */
  async put(events: readonly BusEvent[]): Promise<EventEnvelope[]> {
    if (this.closed) throw new Error('event bus is closed');
    const envelopes = events.map((event) => this.envelope(event));
    // Once started, the rules are known: an event none of them matches is owed to no one and is not stored.
    const wanted = (envelope: EventEnvelope) =>
      !this.started || [...this.rules.values()].some((rule) => matchesPattern(rule.pattern, envelope));
    const accepted: PendingEvent[] = envelopes.map((envelope) => ({ envelope, done: new Set<string>(), stored: wanted(envelope) }));
    for (const event of accepted) this.pending.set(event.envelope.id, event);
    this.inFlight += 1;
    try {
      await Promise.all(accepted.filter((event) => event.stored).map((event) => this.state.accepted(event.envelope)));
    } catch (error) {
      for (const envelope of envelopes) this.pending.delete(envelope.id);
      throw error;
    } finally {
      this.settle();
    }
    for (const envelope of envelopes) this.notify(envelope);
    if (this.started) for (const event of accepted) this.dispatch(event);
    return envelopes;
  }

  /** Resolves when no event is being stored or delivered and no retry is waiting. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Dead letters recorded so far, this run and before. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.deadLetterList];
  }

  /** Stops retrying: unfinished deliveries resume at the next start (call `idle()` first to let them finish). */
  close(): Promise<void> {
    this.closed = true;
    for (const [timer, wake] of this.sleeping) {
      clearTimeout(timer);
      wake();
    }
    this.sleeping.clear();
    return Promise.resolve();
  }

  private envelope(event: BusEvent): EventEnvelope {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': event.detailType,
      source: event.source,
      account: LOCAL_ACCOUNT_ID,
      time: eventTime(event.time ?? new Date()),
      region: this.region,
      resources: [...(event.resources ?? [])],
      detail: event.detail,
    };
  }

  private notify(envelope: EventEnvelope): void {
    for (const listener of this.listeners) {
      try {
        listener(envelope);
      } catch {
        // A watcher's failure must not fail the publisher.
      }
    }
  }

  private dispatch(event: PendingEvent): void {
    const rules = [...this.rules.values()].filter((rule) => !event.done.has(rule.name) && matchesPattern(rule.pattern, event.envelope));
    if (rules.length === 0) {
      this.inFlight += 1;
      void this.complete(event).finally(() => this.settle());
      return;
    }
    for (const rule of rules) void this.deliver(event, rule);
  }

  private async deliver(event: PendingEvent, rule: Rule): Promise<void> {
    this.inFlight += 1;
    try {
      const { maxAttempts, baseDelayMs, maxDelayMs } = this.retry;
      const delivery = await retry(
        { attempts: maxAttempts, baseDelayMs, maxDelayMs, jitter: 'full' },
        async () => {
          if (this.closed) return settled('closed');
          try {
            await rule.target(event.envelope);
          } catch (error) {
            return notYet(error);
          }
          event.done.add(rule.name);
          return settled('delivered');
        },
        { sleep: (ms) => this.sleep(ms), random: this.random },
      );
      // Only worth storing while another rule is still owed the event: the last one deletes it instead.
      if (delivery.settled && delivery.value === 'delivered' && !this.isFinished(event))
        await this.state.done(event.envelope.id, rule.name);
      if (!delivery.settled) await this.deadLetter(event, rule, delivery.attempts, delivery.last);
      if (!this.closed && this.isFinished(event)) await this.complete(event);
    } catch {
      // The store failed under us (or closed): the event stays pending and is delivered again next start.
    } finally {
      this.settle();
    }
  }

  private async deadLetter(event: PendingEvent, rule: Rule, attempts: number, error: unknown): Promise<void> {
    const deadLetter: DeadLetter = { rule: rule.name, envelope: event.envelope, attempts, error: describeFailure(error) };
    event.done.add(rule.name);
    this.deadLetterList.push(deadLetter);
    await this.state.deadLettered(deadLetter);
    this.options.onDeadLetter?.(deadLetter);
  }

  private isFinished(event: PendingEvent): boolean {
    return [...this.rules.values()].every((rule) => event.done.has(rule.name) || !matchesPattern(rule.pattern, event.envelope));
  }

  private async complete(event: PendingEvent): Promise<void> {
    if (!this.pending.delete(event.envelope.id) || !event.stored) return;
    try {
      await this.state.completed(event.envelope.id);
    } catch {
      // The store failed while completing: at worst the event is delivered again (at least once).
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping.delete(timer);
        resolve();
      }, ms);
      this.sleeping.set(timer, resolve);
    });
  }

  private settle(): void {
    this.inFlight -= 1;
    if (this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
