// Use case: a `Task Ended` that failed validation (an outcome like `done`, a field the schema does
// not know, ...). Recorded like any invalid event; when it names a well-formed agent and task, the
// task is ended anyway. Ending only takes access away, and anyone who may put this event on the bus
// may already send a valid one, so honouring it grants nothing; refusing it would leave a runtime
// that believes its task ended holding a live credential until the deadline.
import type { Grant } from '../domain/grant';
import type { EngineDeps } from './engine-deps';
import { closeTask } from './end-task';
import { namedTask, recordRejection, rejectEvent, type RawEvent } from './reject-event';

/**
 * Records the invalid end and, when it names a task, revokes that task's credential (or leaves the
 * tombstone an early `Task Ended` leaves), with the reason the event was invalid in the audit
 * chain. The outcome stays `rejected`; nothing the invalid event carried (its outcome, its
 * `systemsTouched`) is recorded as fact.
 */
export async function endInvalidTask(
  deps: EngineDeps,
  raw: RawEvent,
  reason: string,
): Promise<{ readonly outcome: 'rejected'; readonly reason: string; readonly grant?: Grant }> {
  const named = namedTask(raw);
  if (!named) return rejectEvent(deps, raw, reason);
  await recordRejection(deps, raw, reason);
  const ended = await closeTask(deps, { ...named, reason: `task ended by an invalid Task Ended event (${reason})` });
  return { outcome: 'rejected', reason, ...(ended.grant ? { grant: ended.grant } : {}) };
}
