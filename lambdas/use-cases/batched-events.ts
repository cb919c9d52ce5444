// Use case helper: the events of many revocations (the kill switch) sent in full PutEvents
// batches rather than one call per grant. Each revocation's own events stay together, in order.
import type { OutboundEvent } from '../domain/events';
import type { EventPublisher } from '../ports';

/** PutEvents takes at most 10 entries per call. */
const EVENTS_PER_CALL = 10;

export interface BatchedEvents extends EventPublisher {
  /** Sends what is still held and waits for every send; throws the first failure, once all have been tried. */
  flush(): Promise<void>;
}

/**
 * Holds published events until a full call's worth is waiting, then sends them without waiting.
 * A failed send does not stop the others; it is thrown by `flush`, so the run fails and is
 * delivered again (a redelivered trigger says its revocations' events again, revoke-grant.ts).
 */
export function batchedEvents(publisher: EventPublisher): BatchedEvents {
  const held: OutboundEvent[] = [];
  const sends: Promise<unknown>[] = [];
  const failures: unknown[] = [];
  const send = (events: readonly OutboundEvent[]) =>
    void sends.push(publisher.publish(events).catch((error: unknown) => failures.push(error)));
  return {
    async publish(events) {
      // A revocation's events never straddle two calls (which could land in either order): what is held goes first.
      if (held.length + events.length > EVENTS_PER_CALL) send(held.splice(0));
      held.push(...events);
      while (held.length >= EVENTS_PER_CALL) send(held.splice(0, EVENTS_PER_CALL));
    },
    async flush() {
      if (held.length > 0) send(held.splice(0));
      await Promise.all(sends);
      if (failures.length > 0) throw failures[0];
    },
  };
}
