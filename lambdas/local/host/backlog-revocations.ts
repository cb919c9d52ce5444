// Local engine start: which live grants an event the bus accepted before a crash will revoke once it
// is delivered again (a `Task Ended`, a leak report, AWS Health's exposure of a key). The restart's
// recovery leaves those grants to their event, so the audit chain records the real trigger and who
// sent it (use-cases/recover-interrupted-issuance.ts) instead of "interrupted by a restart".
import { credentialLeakedSchema, healthExposureSchema, taskEndedSchema } from '../../domain/events';
import { grantIdFor } from '../../domain/ids';
import type { Grant } from '../../domain/grant';
import { ROUTES, type HandlerName } from '../../routes';
import { matchesPattern, type EventEnvelope } from '../emulated-aws/event-bus';

/** The grants the backlog's revoking events name: a task's grant by its ids, a leak's by its access key id. */
export function revokedByBacklog(backlog: readonly EventEnvelope[]): (grant: Grant) => boolean {
  const endedGrants = new Set<string>();
  const leakedKeys = new Set<string>();
  for (const envelope of backlog) {
    // Only what a route delivers, as its handler's schema accepts it: a refused event revokes nothing.
    if (routedTo('task-ended', envelope)) {
      const ended = taskEndedSchema.safeParse(envelope.detail);
      if (ended.success) endedGrants.add(grantIdFor(ended.data.agentId, ended.data.taskId));
    } else if (routedTo('credential-leaked', envelope)) {
      const leak = credentialLeakedSchema.safeParse(envelope.detail);
      if (leak.success) leakedKeys.add(leak.data.credentialId);
      const exposure = healthExposureSchema.safeParse(envelope.detail);
      if (exposure.success) for (const entity of exposure.data.affectedEntities) leakedKeys.add(entity.entityValue);
    }
  }
  // A leak reported by a delivery's name or ARN is not matched here: its grant is revoked at start as interrupted.
  return (grant) => endedGrants.has(grant.grantId) || (grant.credential !== undefined && leakedKeys.has(grant.credential.accessKeyId));
}

function routedTo(handler: HandlerName, envelope: EventEnvelope): boolean {
  return ROUTES.some((route) => route.handler === handler && matchesPattern(route.pattern, envelope));
}
