// Adapter (local engine): the engine's events, sharing PutEvents calls between the functions that
// publish at once. One process runs every function here, so while one call is on the wire, what
// others publish waits for it and then goes in one call (Nagle's algorithm): an idle engine sends
// each publish at once, a busy one sends up to 10 events a call. Each publisher still learns the
// fate of its own events only. On AWS each function is its own process: nothing to share.
import type { OutboundEvent } from '../../domain/events';
import type { EventPublisher } from '../../ports';
import { EventPublishError, MAX_ENTRIES_PER_CALL, SecretInEventError } from '../aws/eventbridge-publisher';

interface Waiting {
  readonly events: readonly OutboundEvent[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class CoalescingEventPublisher implements EventPublisher {
  private readonly waiting: Waiting[] = [];
  private waitingEvents = 0;
  private inFlight = 0;

  constructor(private readonly publisher: EventPublisher) {}

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    if (events.length === 0) return;
    // More than a call holds: sent on its own, split as the publisher splits it.
    if (events.length > MAX_ENTRIES_PER_CALL) return this.publisher.publish(events);
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      this.waitingEvents += events.length;
      this.sendWhatIsReady();
    });
  }

  /** A full call goes at once; a partial one only when nothing is on the wire (else it waits for more company). */
  private sendWhatIsReady(): void {
    while (this.waiting.length > 0 && (this.inFlight === 0 || this.waitingEvents >= MAX_ENTRIES_PER_CALL)) {
      void this.send(this.takeOneCall());
    }
  }

  /** Whole publishes, oldest first, up to one call's worth: a publish's events are never split between calls. */
  private takeOneCall(): Waiting[] {
    const taken: Waiting[] = [];
    let count = 0;
    while (this.waiting.length > 0 && count + (this.waiting[0] as Waiting).events.length <= MAX_ENTRIES_PER_CALL) {
      const next = this.waiting.shift() as Waiting;
      taken.push(next);
      count += next.events.length;
    }
    this.waitingEvents -= count;
    return taken;
  }

  private async send(publishes: readonly Waiting[]): Promise<void> {
    this.inFlight++;
    try {
      await this.publisher.publish(publishes.flatMap((waiting) => waiting.events));
      for (const waiting of publishes) waiting.resolve();
    } catch (error) {
      // Refused before anything was sent (an event holds what looks like a secret: a bug): each publish
      // is sent alone, so only the one at fault fails, not those that happened to share its call.
      if (error instanceof SecretInEventError && publishes.length > 1)
        await Promise.all(publishes.map((waiting) => this.sendAlone(waiting)));
      else for (const waiting of publishes) settleFailed(waiting, error);
    } finally {
      this.inFlight--;
      this.sendWhatIsReady();
    }
  }

  private async sendAlone(waiting: Waiting): Promise<void> {
    try {
      await this.publisher.publish(waiting.events);
      waiting.resolve();
    } catch (error) {
      waiting.reject(error);
    }
  }
}

/** Each publisher is told of its own events' failures only; a call that failed as a whole fails them all. */
function settleFailed(waiting: Waiting, error: unknown): void {
  if (!(error instanceof EventPublishError)) return waiting.reject(error);
  const own = error.failed.filter((failed) =>
    waiting.events.some((event) => event.detailType === failed.detailType && event.detail.grantId === failed.grantId),
  );
  if (own.length === 0) waiting.resolve();
  else waiting.reject(new EventPublishError(own, waiting.events.length, { cause: error }));
}
