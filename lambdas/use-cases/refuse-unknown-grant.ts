// Use case step: an event that names a grant the engine never recorded (a decision or a
// manual revocation for a typo'd id, or a forged one). Nothing changes; the refusal is
// recorded with its reason, and a refused decision is said on the bus.
import type { EngineDeps } from './engine-deps';

export async function refuseUnknownGrant(
  deps: EngineDeps,
  refusal: {
    readonly detailType: string;
    readonly source: string;
    readonly eventId?: string;
    readonly grantId: string;
    readonly agentId?: string;
    readonly taskId?: string;
    readonly by: string;
  },
): Promise<{ readonly outcome: 'not-found'; readonly reason: string }> {
  const at = deps.clock.now().toISOString();
  const reason = `${refusal.detailType} by ${refusal.by} names grant ${refusal.grantId}, which does not exist`;
  await deps.store.recordRejectedEvent({
    at,
    detailType: refusal.detailType,
    source: refusal.source,
    reason,
    ...(refusal.eventId ? { eventId: refusal.eventId } : {}),
    excerpt: JSON.stringify({ grantId: refusal.grantId, by: refusal.by }),
  });
  // A decision is answered on the bus (its approver is waiting for it); a revocation of
  // nothing has nothing to say beyond the record.
  if (refusal.detailType === 'Grant Decision') {
    await deps.events.publish([
      {
        detailType: 'Grant Decision Refused',
        detail: {
          grantId: refusal.grantId,
          agentId: refusal.agentId ?? 'unknown',
          taskId: refusal.taskId ?? 'unknown',
          at,
          reason,
          refusedEvent: refusal.detailType,
        },
      },
    ]);
  }
  return { outcome: 'not-found', reason };
}
