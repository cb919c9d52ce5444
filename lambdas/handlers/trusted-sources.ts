// Handlers: approvals and resumes loosen control, so they count only from trusted sources
// (lambdas/routes.ts). Anything else is refused, recorded and said on the bus.
import { TRUSTED_DECISION_SOURCES } from '../routes';
import { grantIdFor } from '../domain/ids';
import type { EngineDeps } from '../use-cases/engine-deps';

/** What a refused event names, so the refusal can be said on the bus against its grant. */
export interface NamedGrant {
  readonly grantId?: string;
  readonly agentId?: string;
  readonly taskId?: string;
}

export function isTrustedDecisionSource(source: string): boolean {
  return (TRUSTED_DECISION_SOURCES as readonly string[]).includes(source);
}

export async function refuseUntrustedSource(
  deps: EngineDeps,
  event: { readonly id: string; readonly source: string; readonly 'detail-type': string },
  by: string,
  named: NamedGrant = {},
): Promise<{ readonly outcome: 'refused'; readonly reason: string }> {
  const reason = `${event['detail-type']} from source "${event.source.slice(0, 64)}" is not trusted (only ${TRUSTED_DECISION_SOURCES.join(', ')})`;
  await deps.store.recordRejectedEvent({
    at: deps.clock.now().toISOString(),
    detailType: event['detail-type'],
    source: event.source.slice(0, 256),
    reason,
    eventId: event.id,
    excerpt: JSON.stringify({ by, ...named }).slice(0, 512),
  });
  const grantId = named.grantId ?? (named.agentId && named.taskId ? grantIdFor(named.agentId, named.taskId) : undefined);
  if (grantId) {
    await deps.events.publish([
      {
        detailType: 'Grant Decision Refused',
        detail: { grantId, agentId: named.agentId ?? 'unknown', taskId: named.taskId ?? 'unknown', at: deps.clock.now().toISOString(), reason, approver: by, untrustedSource: event.source.slice(0, 256) },
      },
    ]);
  }
  return { outcome: 'refused', reason };
}
