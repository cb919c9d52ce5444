// Use case: an inbound event that failed validation. It issues nothing; it is recorded
// with the reason, and answered with `Grant Denied` when it names an agent and a task.
import { AGENT_ID_PATTERN, TASK_ID_PATTERN, grantIdFor } from '../domain/ids';
import { redactSecretShapes } from '../domain/secret-shapes';
import type { OutboundDetail } from '../domain/events';
import type { RefusalDeps } from './engine-deps';

export interface RawEvent {
  readonly id?: unknown;
  readonly source?: unknown;
  readonly 'detail-type'?: unknown;
  readonly detail?: unknown;
}

const MAX_EXCERPT = 2048;

const text = (value: unknown, fallback: string) => (typeof value === 'string' && value.length <= 256 ? value : fallback);

/**
 * Fields whose value is kept out of a refused event's record, at any depth: a leak report's
 * `evidence` is often the leaked secret itself, and a runtime that pastes its delivery into an
 * event sends `secretAccessKey` and `sessionToken`. Only their size is recorded.
 */
const UNRECORDED_FIELD = /secret|token|password|evidence/i;

const withoutSecrets = (key: string, value: unknown): unknown =>
  key !== '' && UNRECORDED_FIELD.test(key) && value !== undefined
    ? `(not recorded: ${typeof value === 'string' ? `${value.length} characters` : typeof value})`
    : value;

/**
 * The detail as received, cut short, without secret-bearing fields and with secret shapes redacted
 * wherever they are (a token pasted into a `context`), before the cut so none is kept in part; JSON
 * escapes its control characters. A detail nested too deeply to serialise is named, not kept.
 */
export function excerptOf(detail: unknown, maxChars = MAX_EXCERPT): string {
  try {
    return redactSecretShapes(JSON.stringify(detail ?? null, withoutSecrets)).slice(0, maxChars);
  } catch {
    return '(not serialisable: nested too deeply)';
  }
}

/** The agent and task an invalid event names, when both are well formed (else it names none). */
export function namedTask(raw: RawEvent): { readonly agentId: string; readonly taskId: string } | undefined {
  const detail = (raw.detail && typeof raw.detail === 'object' ? raw.detail : {}) as Record<string, unknown>;
  const { agentId, taskId } = detail;
  const named = typeof agentId === 'string' && typeof taskId === 'string' && AGENT_ID_PATTERN.test(agentId) && TASK_ID_PATTERN.test(taskId);
  return named ? { agentId, taskId } : undefined;
}

/** Records an invalid event with its reason (a `REJECTED#<day>` item); returns when it was. */
export async function recordRejection(deps: RefusalDeps, raw: RawEvent, reason: string): Promise<string> {
  const now = deps.clock.now().toISOString();
  await deps.store.recordRejectedEvent({
    at: now,
    detailType: text(raw['detail-type'], '(missing detail-type)'),
    source: text(raw.source, '(missing source)'),
    reason,
    ...(typeof raw.id === 'string' ? { eventId: raw.id.slice(0, 128) } : {}),
    excerpt: excerptOf(raw.detail),
  });
  return now;
}

/** Records the invalid event; one that names an agent and a task is answered with `Grant Denied`, saying `extra` too. */
export async function rejectEvent(
  deps: RefusalDeps,
  raw: RawEvent,
  reason: string,
  extra: Partial<OutboundDetail> = {},
): Promise<{ readonly outcome: 'rejected'; readonly reason: string }> {
  const detailType = text(raw['detail-type'], '(missing detail-type)');
  const now = await recordRejection(deps, raw, reason);
  const named = namedTask(raw);
  if (named) {
    const { agentId, taskId } = named;
    await deps.events.publish([
      {
        detailType: 'Grant Denied',
        detail: {
          ...extra,
          grantId: grantIdFor(agentId, taskId),
          agentId,
          taskId,
          at: now,
          state: 'denied',
          reason: `invalid ${detailType} event: ${reason}`,
        },
      },
    ]);
  }
  return { outcome: 'rejected', reason };
}
