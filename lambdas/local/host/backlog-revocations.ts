// Local engine start: which live grants an event the bus accepted before a crash will revoke once it
// is delivered again (a `Task Ended`, a leak report, AWS Health's exposure of a key). The restart's
// recovery leaves those grants to their event, so the audit chain records the real trigger and who
// sent it (use-cases/recover-interrupted-issuance.ts) instead of "interrupted by a restart".
import { credentialLeakedSchema, healthExposureSchema } from '../../domain/events';
import { grantIdFor } from '../../domain/ids';
import type { Grant } from '../../domain/grant';
import { ROUTES, type HandlerName } from '../../routes';
import { namedByLeak } from '../../domain/leak-target';
import { namedTask } from '../../use-cases/reject-event';
import { matchesPattern, type EventEnvelope } from '../emulated-aws/event-bus';

/** The grants the backlog's revoking events name: a task's grant by its ids, a leak's by its access key id or delivery. */
export function revokedByBacklog(backlog: readonly EventEnvelope[]): (grant: Grant) => boolean {
  const namedGrants = new Set<string>();
  const leakedKeys = new Set<string>();
  const leaked = (credentialId: string) => {
    const named = namedByLeak(credentialId);
    if ('accessKeyId' in named) leakedKeys.add(named.accessKeyId);
    else for (const grantId of named.grantIds) namedGrants.add(grantId);
  };
  for (const envelope of backlog) {
    // Only what a route delivers, as its handler takes it: a leak its schema refuses revokes nothing; a
    // Task Ended that names its task ends it even when invalid (use-cases/end-invalid-task.ts).
    if (routedTo('task-ended', envelope)) {
      const ended = namedTask(envelope);
      if (ended) namedGrants.add(grantIdFor(ended.agentId, ended.taskId));
    } else if (routedTo('credential-leaked', envelope)) {
      const leak = credentialLeakedSchema.safeParse(envelope.detail);
      if (leak.success) leaked(leak.data.credentialId);
      const exposure = healthExposureSchema.safeParse(envelope.detail);
      if (exposure.success) for (const entity of exposure.data.affectedEntities) leaked(entity.entityValue.trim());
    }
  }
  return (grant) => namedGrants.has(grant.grantId) || (grant.credential !== undefined && leakedKeys.has(grant.credential.accessKeyId));
}

function routedTo(handler: HandlerName, envelope: EventEnvelope): boolean {
  return ROUTES.some((route) => route.handler === handler && matchesPattern(route.pattern, envelope));
}
