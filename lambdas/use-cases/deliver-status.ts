// Use case step: writes what a runtime polls (CONTRACT §5) to the task's delivery secret.
import { deliverySecretName } from '../domain/ids';
import type { Grant } from '../domain/grant';
import type { DeliveryPayload } from '../ports';
import type { EngineDeps } from './engine-deps';

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
