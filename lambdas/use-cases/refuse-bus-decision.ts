// Use case: a `Grant Decision` or `Agent Resumed` that arrived on the bus. Both loosen control,
// and anyone allowed to put events could send one naming anyone, so neither ever counts (from
// any source): it is refused, recorded, and answered on the bus so a forgery is seen, not lost.
import { AGENT_ID_PATTERN, GRANT_ID_PATTERN, TASK_ID_PATTERN, grantIdFor } from '../domain/ids';
import type { OutboundEvent } from '../domain/events';
import type { RefusalDeps } from './engine-deps';
import { agentEvent, outbound } from './outbound';
import { excerptOf } from './reject-event';

/** Where decisions are made instead: said in every refusal, so the sender learns the way. */
export const AUTHENTICATED_PATHS =
  'decisions and resumes count only through the operator endpoint (taskbound approve|deny|resume) or a signed Slack click';

export interface BusDecision {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  /** As received: unvalidated, so a malformed forgery is refused the same way as a well-formed one. */
  readonly detail: unknown;
}

const MAX_EXCERPT = 1024;
const stringAt = (detail: unknown, name: string): string | undefined => {
  const value = detail && typeof detail === 'object' ? (detail as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : undefined;
};
/** A field that names something (an id): kept only if well-formed. */
const field = (detail: unknown, name: string, pattern: RegExp): string | undefined => {
  const value = stringAt(detail, name);
  return value !== undefined && pattern.test(value) ? value : undefined;
};
/** A field that only claims something (who, what): kept as said, cut short. */
const claimed = (detail: unknown, name: string): string | undefined => stringAt(detail, name)?.slice(0, 256);

export async function refuseBusDecision(
  deps: RefusalDeps,
  event: BusDecision,
): Promise<{ readonly outcome: 'refused'; readonly reason: string }> {
  const at = deps.clock.now().toISOString();
  const source = event.source.slice(0, 256);
  const reason = `${event['detail-type']} on the bus (source "${source.slice(0, 64)}") carries no authority: ${AUTHENTICATED_PATHS}`;
  await deps.store.recordRejectedEvent({
    at,
    detailType: event['detail-type'],
    source,
    reason,
    eventId: event.id.slice(0, 128),
    excerpt: excerptOf(event.detail, MAX_EXCERPT),
  });
  const answer = await answerFor(deps, event, at, reason, source);
  if (answer) await deps.events.publish([answer]);
  return { outcome: 'refused', reason };
}

async function answerFor(
  deps: RefusalDeps,
  event: BusDecision,
  at: string,
  reason: string,
  source: string,
): Promise<OutboundEvent | undefined> {
  const agentId = field(event.detail, 'agentId', AGENT_ID_PATTERN);
  const refusedSource = { refusedSource: source };
  if (event['detail-type'] !== 'Grant Decision') {
    if (!agentId) return undefined;
    return agentEvent('Agent Resume Refused', agentId, at, { reason, claimedBy: claimed(event.detail, 'by'), ...refusedSource });
  }
  const taskId = field(event.detail, 'taskId', TASK_ID_PATTERN);
  const grantId = field(event.detail, 'grantId', GRANT_ID_PATTERN) ?? (agentId && taskId ? grantIdFor(agentId, taskId) : undefined);
  if (!grantId) return undefined;
  const extra = { reason, approver: claimed(event.detail, 'approver'), decision: claimed(event.detail, 'decision'), ...refusedSource };
  // Said against the real grant when there is one, so its watchers see the attempt.
  const grant = await deps.store.get(grantId);
  if (grant) return outbound('Grant Decision Refused', grant, at, extra);
  return {
    detailType: 'Grant Decision Refused',
    detail: { grantId, agentId: agentId ?? 'unknown', taskId: taskId ?? 'unknown', at, ...extra },
  };
}
