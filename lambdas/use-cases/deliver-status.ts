// Use case step: writes what a runtime polls (docs/contract.md §5) to the task's delivery secret.
import { deliverySecretName } from '../domain/ids';
import type { Grant } from '../domain/grant';
import type { OutboundEvent } from '../domain/events';
import type { DeliveryPayload } from '../ports';
import type { EngineDeps } from './engine-deps';
import { outbound } from './outbound';

export async function deliverStatus(
  deps: EngineDeps,
  grant: Grant,
  readerArn: string,
  payload: Omit<DeliveryPayload, 'grantId' | 'scopes'>,
  expiresAt?: string,
): Promise<void> {
  await deps.vault.deliver({
    name: deliverySecretName(grant.agentId, grant.taskId),
    grantId: grant.grantId,
    agentId: grant.agentId,
    taskId: grant.taskId,
    readerArn,
    ...(expiresAt ? { expiresAt } : {}),
    payload: { ...payload, grantId: grant.grantId, scopes: grant.scopes },
  });
}

/**
 * A denial, told to the runtime (where the grant has a delivery secret, i.e. its agent is
 * registered) and said on the bus with any events still to publish.
 */
export async function announceDenial(
  deps: EngineDeps,
  grant: Grant,
  reason: string,
  now: string,
  earlier: readonly OutboundEvent[] = [],
): Promise<void> {
  const agent = deps.policy.agents[grant.agentId];
  if (agent && grant.deliverySecret) await deliverStatus(deps, grant, agent.runtimePrincipal, { status: 'denied', reason });
  await deps.events.publish([...earlier, outbound('Grant Denied', grant, now, { reason })]);
}
