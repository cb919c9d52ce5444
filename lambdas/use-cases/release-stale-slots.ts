// Use case (part of the sweep): frees concurrency slots whose holder is no longer live. A
// grant gives its slot back when it leaves the live states; this catches the release that
// never happened (a process that died between the two writes, a throttled release).
import { LIVE_STATES } from '../domain/grant';
import type { EngineDeps } from './engine-deps';
import { inBatches } from './in-batches';

/** A slot this young may belong to a start whose grant is being written right now. */
export const SLOT_GRACE_MS = 5 * 60_000;

/** Agents reconciled at once: their Queries are independent, so the sweep need not wait on each in turn. */
const PARALLEL_AGENTS = 8;

/**
 * Per agent of the policy: one consistent Query of its slots; for each slot older than the
 * grace period, one GetItem of its holder. Returns how many slots it freed.
 */
export async function releaseStaleSlots(deps: EngineDeps): Promise<number> {
  const cutoff = deps.clock.now().getTime() - SLOT_GRACE_MS;
  const released = await inBatches(Object.keys(deps.policy.agents), PARALLEL_AGENTS, (agentId) =>
    releaseStaleSlotsOf(deps, agentId, cutoff),
  );
  return released.reduce((sum, count) => sum + count, 0);
}

async function releaseStaleSlotsOf(deps: EngineDeps, agentId: string, cutoff: number): Promise<number> {
  let released = 0;
  for (const holder of await deps.store.slotHolders(agentId)) {
    if (Date.parse(holder.reservedAt) > cutoff) continue;
    const grant = await deps.store.get(holder.grantId);
    if (grant && LIVE_STATES.includes(grant.state)) continue;
    await deps.store.releaseSlot(agentId, holder.grantId, holder.slot);
    released += 1;
  }
  return released;
}
