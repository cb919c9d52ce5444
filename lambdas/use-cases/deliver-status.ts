// Use case step: writes what a runtime polls (docs/contract.md §5) to the task's delivery secret.
// Issuance prepares the secret (created empty, locked to the runtime) while the credential is
// made, so only the value is left to write once it exists.
import { deliverySecretName } from '../domain/ids';
import type { Grant } from '../domain/grant';
import type { OutboundEvent } from '../domain/events';
import type { DeliveryAddress, DeliveryPayload } from '../ports';
import { errorCode, silentLogger, type EngineDeps } from './engine-deps';
import { outbound } from './outbound';

/**
 * A delivery being prepared: resolves to the address it prepared, or to undefined when the vault
 * has nothing to prepare or the preparation failed (logged; the write then prepares it again and
 * surfaces a second failure). Never rejects, so nobody has to await it for it to be safe.
 */
export type PreparedDelivery = Promise<DeliveryAddress | undefined>;

function addressOf(grant: Grant, readerArn: string, expiresAt?: string): DeliveryAddress {
  return {
    name: deliverySecretName(grant.agentId, grant.taskId),
    grantId: grant.grantId,
    agentId: grant.agentId,
    taskId: grant.taskId,
    readerArn,
    ...(expiresAt ? { expiresAt } : {}),
  };
}

/** STS states a session's expiry to the second, so the expiry asked for and the one granted differ by less. */
const EXPIRY_PRECISION_MS = 1000;

/** Prepared for this address: the same secret, grant and reader, and the expiry tag still true (else it is re-tagged). */
function sameAddress(prepared: DeliveryAddress, wanted: DeliveryAddress): boolean {
  const expiryGap =
    prepared.expiresAt && wanted.expiresAt ? Math.abs(Date.parse(prepared.expiresAt) - Date.parse(wanted.expiresAt)) : undefined;
  const sameExpiry = prepared.expiresAt === wanted.expiresAt || (expiryGap !== undefined && expiryGap < EXPIRY_PRECISION_MS);
  return prepared.name === wanted.name && prepared.grantId === wanted.grantId && prepared.readerArn === wanted.readerArn && sameExpiry;
}

/** Starts preparing the grant's delivery (see `PreparedDelivery`); `expiresAt` is the expiry asked for. */
export function prepareDelivery(deps: EngineDeps, grant: Grant, readerArn: string, expiresAt?: string): PreparedDelivery {
  const { vault } = deps;
  if (!vault.prepare) return Promise.resolve(undefined);
  const address = addressOf(grant, readerArn, expiresAt);
  return vault.prepare(address).then(
    () => address,
    (error: unknown) => {
      (deps.logger ?? silentLogger).warn('could not prepare the delivery ahead of the credential; the delivery will prepare it again', {
        grantId: grant.grantId,
        error: errorCode(error),
      });
      return undefined;
    },
  );
}

/**
 * Writes the payload. With `prepared` (see `prepareDelivery`), only the value is written if the
 * preparation succeeded for this very address; otherwise the vault creates and locks it first.
 * Says which: a delivery that created its secret may have done so after a revoker deleted it.
 */
export async function deliverStatus(
  deps: EngineDeps,
  grant: Grant,
  readerArn: string,
  payload: Omit<DeliveryPayload, 'grantId' | 'scopes'>,
  expiresAt?: string,
  prepared?: PreparedDelivery,
): Promise<{ readonly intoPrepared: boolean }> {
  const address = addressOf(grant, readerArn, expiresAt);
  const ready = prepared ? await prepared : undefined;
  const intoPrepared = ready !== undefined && sameAddress(ready, address);
  await deps.vault.deliver(
    { ...address, payload: { ...payload, grantId: grant.grantId, scopes: grant.scopes } },
    { prepared: intoPrepared },
  );
  return { intoPrepared };
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
