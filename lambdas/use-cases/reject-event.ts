// Use case: an inbound event that failed validation. It issues nothing; it is recorded
// with the reason, and answered with `Grant Denied` when it names an agent and a task.
import { AGENT_ID_PATTERN, TASK_ID_PATTERN, grantIdFor } from '../domain/ids';
import type { RefusalDeps } from './engine-deps';

export interface RawEvent {
  readonly id?: unknown;
  readonly source?: unknown;
  readonly 'detail-type'?: unknown;
  readonly detail?: unknown;
}

const MAX_EXCERPT = 2048;

const text = (value: unknown, fallback: string) => (typeof value === 'string' && value.length <= 256 ? value : fallback);

/** The detail as received, cut short; a detail nested too deeply to serialise is named, not kept. */
export function excerptOf(detail: unknown, maxChars = MAX_EXCERPT): string {
  try {
    return JSON.stringify(detail ?? null).slice(0, maxChars);
  } catch {
    return '(not serialisable: nested too deeply)';
  }
}

export async function rejectEvent(
  deps: RefusalDeps,
  raw: RawEvent,
  reason: string,
): Promise<{ readonly outcome: 'rejected'; readonly reason: string }> {
  const now = deps.clock.now().toISOString();
  const detail = (raw.detail && typeof raw.detail === 'object' ? raw.detail : {}) as Record<string, unknown>;
  const detailType = text(raw['detail-type'], '(missing detail-type)');
  await deps.store.recordRejectedEvent({
    at: now,
    detailType,
    source: text(raw.source, '(missing source)'),
    reason,
    ...(typeof raw.id === 'string' ? { eventId: raw.id.slice(0, 128) } : {}),
    excerpt: excerptOf(raw.detail),
  });
  const { agentId, taskId } = detail;
  if (typeof agentId === 'string' && typeof taskId === 'string' && AGENT_ID_PATTERN.test(agentId) && TASK_ID_PATTERN.test(taskId)) {
    await deps.events.publish([
      {
        detailType: 'Grant Denied',
        detail: {
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
