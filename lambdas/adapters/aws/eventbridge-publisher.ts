// Adapter (Amazon EventBridge): publishes the engine's outbound events (docs/contract.md §2) to the
// bus, retrying entries EventBridge failed, and refusing any event that looks like it holds a secret.
import {
  PutEventsCommand,
  type EventBridgeClient,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { TaskboundError } from '../../domain/errors';
import type { OutboundEvent } from '../../domain/events';
import { secretShapeOf } from '../../domain/secret-shapes';
import { TASK_ID_PATTERN } from '../../domain/ids';
import type { EventPublisher } from '../../ports';
import { realSleep } from '../sleep';
import { notYet, retry, settled } from '../retry';
import { ENGINE_SOURCE } from '../../constants';

/** PutEvents takes at most 10 entries per call. */
export const MAX_ENTRIES_PER_CALL = 10;
/** Our code for an entry the response did not answer for: treated as a transient failure. */
const MISSING_RESULT = 'MissingResultEntry';
/** Entry error codes EventBridge documents as worth retrying; others will fail again. */
const RETRYABLE_ENTRY_CODES: ReadonlySet<string> = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', MISSING_RESULT]);
/** Field names that hold secret material, compared lower-cased with separators removed. */
const SECRET_FIELD_MARKERS = [
  'secretaccesskey',
  'sessiontoken',
  'secretstring',
  'secretbinary',
  'signingsecret',
  'webhookurl',
  'password',
  'bottoken',
  'privatekey',
  'apikey',
  'accesstoken',
  'refreshtoken',
  'clientsecret',
  'authorization',
];
/** Every marker in one test: each event's every field name is checked (two events per publish, thousands a minute). */
const SECRET_FIELD_MARKER = new RegExp(SECRET_FIELD_MARKERS.join('|'));
const childPath = (path: string, key: string, inList: boolean): string => (inList ? `${path}[${key}]` : `${path}.${key}`);

export interface EntryRetry {
  /** Attempts per entry, the first included. */
  readonly attempts: number;
  /** Ceiling of the (jittered) wait before the second attempt; doubled before each later one. */
  readonly delayMs: number;
}

export interface EventBridgePublisherOptions {
  readonly eventBusName: string;
  readonly retry?: EntryRetry;
  /** Injected so tests do not wait for real. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface FailedEvent {
  readonly detailType: string;
  readonly grantId: string;
  /** EventBridge's error code (never its message, which may quote the entry). */
  readonly code: string;
}

/** Some events did not reach the bus after the retries. Names them; carries no detail. */
export class EventPublishError extends TaskboundError {
  constructor(
    readonly failed: readonly FailedEvent[],
    total: number,
    options?: ErrorOptions,
  ) {
    super(
      `${failed.length} of ${total} events were not published: ${failed.map((event) => `${event.detailType} (${event.code})`).join(', ')}`,
      options,
    );
  }
}

/** An event's detail has a field named like secret material, or a value shaped like it: a bug, stopped before the bus. */
export class SecretInEventError extends TaskboundError {}

const DEFAULT_RETRY: EntryRetry = { attempts: 3, delayMs: 200 };

/** The path of the first field under `value` whose name marks secret material (paths are built only on the way to one). */
function secretFieldPath(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inList = Array.isArray(value);
  for (const [key, child] of Object.entries(value)) {
    if (SECRET_FIELD_MARKER.test(key.toLowerCase().replace(/[^a-z]/g, ''))) return childPath(path, key, inList);
    if (typeof child === 'object' && child !== null) {
      const nested = secretFieldPath(child, childPath(path, key, inList));
      if (nested) return nested;
    }
  }
  return undefined;
}

/**
 * A task id is an identifier the runtime chose and the schema checked (1-128 of `A-Za-z0-9._:-`), in
 * every event of its grant: a random one may look like a key, and refusing it would silence the grant's
 * whole story (issued, revoked, verified) on the bus and in Slack. It is not judged by its shape.
 */
const isTaskId = (key: string, value: string): boolean => key === 'taskId' && TASK_ID_PATTERN.test(value);

/** The path and kind of the first string under `value` shaped like secret material (a task id aside). */
function secretValuePath(value: unknown, path: string): { readonly path: string; readonly kind: string } | undefined {
  if (typeof value === 'string') {
    const kind = secretShapeOf(value);
    return kind ? { path, kind } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const inList = Array.isArray(value);
  for (const [key, child] of Object.entries(value)) {
    if (typeof child === 'string') {
      if (isTaskId(key, child)) continue;
      const kind = secretShapeOf(child);
      if (kind) return { path: childPath(path, key, inList), kind };
    } else if (typeof child === 'object' && child !== null) {
      const found = secretValuePath(child, childPath(path, key, inList));
      if (found) return found;
    }
  }
  return undefined;
}

/** Throws SecretInEventError, naming the field, if any event's detail holds what looks like secret material. */
export function refuseSecrets(events: readonly OutboundEvent[]): void {
  for (const event of events) {
    const field = secretFieldPath(event.detail, 'detail');
    if (field) throw new SecretInEventError(`refusing to publish ${event.detailType}: ${field} is named like secret material`);
    const shaped = secretValuePath(event.detail, 'detail');
    if (shaped)
      throw new SecretInEventError(`refusing to publish ${event.detailType}: ${shaped.path} holds what looks like ${shaped.kind}`);
  }
}

/** An entry's error code; undefined when EventBridge accepted it. */
function entryErrorCode(result: PutEventsResultEntry | undefined): string | undefined {
  if (result === undefined) return MISSING_RESULT;
  if (result.ErrorCode) return result.ErrorCode;
  return result.EventId ? undefined : MISSING_RESULT;
}

interface PendingEntry {
  readonly event: OutboundEvent;
  readonly entry: PutEventsRequestEntry;
}

export class EventBridgePublisher implements EventPublisher {
  private readonly retry: EntryRetry;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.sleep = options.sleep ?? realSleep;
    if (!Number.isInteger(this.retry.attempts) || this.retry.attempts < 1)
      throw new RangeError('retry attempts must be a positive integer');
  }

  /**
   * SDK calls: one PutEvents per 10 events, plus one per retry of failed entries. Every event
   * is checked before any is sent; every batch is tried even if an earlier one failed; then
   * any event still unpublished is reported by throwing.
   */
  async publish(events: readonly OutboundEvent[]): Promise<void> {
    refuseSecrets(events);
    const failed: FailedEvent[] = [];
    let firstError: unknown;
    for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_CALL) {
      const outcome = await this.putBatch(events.slice(start, start + MAX_ENTRIES_PER_CALL).map((event) => this.pending(event)));
      failed.push(...outcome.failed);
      firstError ??= outcome.error;
    }
    if (failed.length > 0) throw new EventPublishError(failed, events.length, firstError === undefined ? undefined : { cause: firstError });
  }

  private pending(event: OutboundEvent): PendingEntry {
    return {
      event,
      entry: {
        Source: ENGINE_SOURCE,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        EventBusName: this.options.eventBusName,
      },
    };
  }

  /**
   * Sends one batch, resending the entries that failed with a retryable code. A failed call
   * as a whole (already retried by the SDK's own retry strategy) fails the batch's entries.
   */
  private async putBatch(batch: readonly PendingEntry[]): Promise<{ readonly failed: FailedEvent[]; readonly error?: unknown }> {
    const failed: FailedEvent[] = [];
    let pending = batch;
    const sent = await retry(
      { attempts: this.retry.attempts, baseDelayMs: this.retry.delayMs },
      async (attempt) => {
        let results;
        try {
          results = (await this.client.send(new PutEventsCommand({ Entries: pending.map((item) => item.entry) }))).Entries ?? [];
        } catch (error) {
          const code = error instanceof Error ? error.name : 'UnknownError';
          return settled({ failed: [...failed, ...pending.map((item) => this.failure(item, code))], error });
        }
        const refused = pending.flatMap((item, index) => {
          const code = entryErrorCode(results[index]);
          return code === undefined ? [] : [{ item, code }];
        });
        const lastAttempt = attempt >= this.retry.attempts;
        const retryable = lastAttempt ? [] : refused.filter(({ code }) => RETRYABLE_ENTRY_CODES.has(code));
        failed.push(...refused.filter((entry) => !retryable.includes(entry)).map(({ item, code }) => this.failure(item, code)));
        pending = retryable.map(({ item }) => item);
        return pending.length === 0 ? settled({ failed }) : notYet(undefined);
      },
      { sleep: this.sleep },
    );
    return sent.settled ? sent.value : { failed };
  }

  private failure(item: PendingEntry, code: string): FailedEvent {
    return { detailType: item.event.detailType, grantId: item.event.detail.grantId, code };
  }
}
