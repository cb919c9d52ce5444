// Use case step: writes what a runtime polls (docs/contract.md §5) to the task's delivery secret.
// Issuance does part of it ahead, so that the secret exists before the grant goes `active` (a
// revoker that claims the grant then deletes it after, never before): a vault whose value needs
// its lock first prepares it (created empty, locked) while the credential is made; one whose key
// locks the value stages it (created with the credential) before the grant is recorded `active`.
import { deliverySecretName } from '../domain/ids';
import type { Grant } from '../domain/grant';
import type { OutboundDetail, OutboundEvent } from '../domain/events';
import type { Delivery, DoneAheadOfDelivery, DeliveryAddress, DeliveryPayload } from '../ports';
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

/** The delivery `payload` will be: its address, and the grant's id and scopes with the status. */
function deliveryOf(grant: Grant, readerArn: string, payload: Omit<DeliveryPayload, 'grantId' | 'scopes'>, expiresAt?: string): Delivery {
  return { ...addressOf(grant, readerArn, expiresAt), payload: { ...payload, grantId: grant.grantId, scopes: grant.scopes } };
}

/**
 * Stages the payload (see `DeliveryVault.stage`): `created` when the vault created the secret with
 * it, so `deliverStatus` has only its lock left; `existing` when the secret was there already (a
 * pending request's). Undefined when the vault stages nothing or the staging failed (logged; the
 * write then does it all and surfaces a second failure).
 */
export async function stageDelivery(
  deps: EngineDeps,
  grant: Grant,
  readerArn: string,
  payload: Omit<DeliveryPayload, 'grantId' | 'scopes'>,
  expiresAt?: string,
): Promise<StagedDelivery | undefined> {
  if (!deps.vault.stage) return undefined;
  try {
    return (await deps.vault.stage(deliveryOf(grant, readerArn, payload, expiresAt))) ? 'created' : 'existing';
  } catch (error) {
    (deps.logger ?? silentLogger).warn('could not stage the delivery ahead of the grant; the delivery will write it again', {
      grantId: grant.grantId,
      error: errorCode(error),
    });
    return undefined;
  }
}

export type StagedDelivery = 'created' | 'existing';

/** What issuance did ahead: a preparation under way, or the same payload staged. */
export interface DoneAhead {
  readonly prepared?: PreparedDelivery;
  readonly staged?: StagedDelivery;
}

/**
 * Writes the payload, finishing what was done ahead: only the value into a secret prepared for this
 * very address, only the lock on one staged with it; otherwise the vault creates and locks it
 * first. Says whether the secret was created ahead: one created here may have been created after a
 * revoker deleted it.
 */
export async function deliverStatus(
  deps: EngineDeps,
  grant: Grant,
  readerArn: string,
  payload: Omit<DeliveryPayload, 'grantId' | 'scopes'>,
  expiresAt?: string,
  ahead: DoneAhead = {},
): Promise<{ readonly createdAhead: boolean }> {
  const delivery = deliveryOf(grant, readerArn, payload, expiresAt);
  const ready = ahead.prepared ? await ahead.prepared : undefined;
  // A secret that existed before the grant went active counts as created ahead, as a staged one does.
  const done: DoneAheadOfDelivery | undefined =
    ready !== undefined && sameAddress(ready, delivery) ? 'prepared' : ahead.staged === 'created' ? 'staged' : ahead.staged;
  await deps.vault.deliver(delivery, done);
  return { createdAhead: done !== undefined };
}

/**
 * A denial, told to the runtime (where the grant has a delivery secret, i.e. its agent is
 * registered) and said on the bus with any events still to publish; `extra` adds to what the
 * grant says (what an invalid start said of its requester).
 */
export async function announceDenial(
  deps: EngineDeps,
  grant: Grant,
  reason: string,
  now: string,
  earlier: readonly OutboundEvent[] = [],
  extra: Partial<OutboundDetail> = {},
): Promise<void> {
  const agent = deps.policy.agents[grant.agentId];
  if (agent && grant.deliverySecret) await deliverStatus(deps, grant, agent.runtimePrincipal, { status: 'denied', reason });
  await deps.events.publish([...earlier, outbound('Grant Denied', grant, now, { ...extra, reason })]);
}
