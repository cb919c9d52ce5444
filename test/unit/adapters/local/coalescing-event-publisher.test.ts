import { describe, expect, it } from 'vitest';
import { CoalescingEventPublisher } from '../../../../lambdas/adapters/local/coalescing-event-publisher';
import { EventPublishError, refuseSecrets, SecretInEventError } from '../../../../lambdas/adapters/aws/eventbridge-publisher';
import type { OutboundEvent } from '../../../../lambdas/domain/events';
import type { EventPublisher } from '../../../../lambdas/ports';
import { outbound } from '../../../../lambdas/use-cases/outbound';
import { activeGrant } from '../../../helpers/grants';

const AT = '2026-12-01T00:00:00.000Z';
const eventsOf = (taskId: string, count = 2): OutboundEvent[] =>
  Array.from({ length: count }, (_, index) =>
    outbound(index % 2 === 0 ? 'Grant Revoked' : 'Revocation Verified', activeGrant({ taskId }), AT),
  );

/**
 * A publisher whose calls finish only when the test says so, each call kept with what it carried. Like
 * EventBridgePublisher, it refuses a call holding what looks like a secret before sending anything.
 */
class HeldPublisher implements EventPublisher {
  readonly calls: { readonly events: readonly OutboundEvent[]; finish: (error?: unknown) => void }[] = [];
  async publish(events: readonly OutboundEvent[]): Promise<void> {
    refuseSecrets(events);
    return new Promise((resolve, reject) => this.calls.push({ events, finish: (error) => (error ? reject(error) : resolve()) }));
  }
}

const settledOf = (promise: Promise<void>) =>
  promise.then(
    () => 'published',
    (error: unknown) => error,
  );

describe('CoalescingEventPublisher', () => {
  it('sends a publish at once when nothing is on the wire', async () => {
    const inner = new HeldPublisher();
    const publisher = new CoalescingEventPublisher(inner);

    const published = publisher.publish(eventsOf('a'));

    expect(inner.calls.map((call) => call.events.length)).toEqual([2]);
    inner.calls[0]!.finish();
    await expect(published).resolves.toBeUndefined();
  });

  it('holds what is published while a call is on the wire, then sends it together in one call', async () => {
    const inner = new HeldPublisher();
    const publisher = new CoalescingEventPublisher(inner);
    const first = publisher.publish(eventsOf('a'));
    const second = publisher.publish(eventsOf('b'));
    const third = publisher.publish(eventsOf('c'));
    expect(inner.calls).toHaveLength(1);

    inner.calls[0]!.finish();
    await first;
    await Promise.resolve();

    expect(inner.calls.map((call) => call.events.map((event) => event.detail.taskId))).toEqual([
      ['a', 'a'],
      ['b', 'b', 'c', 'c'],
    ]);
    inner.calls[1]!.finish();
    await expect(Promise.all([second, third])).resolves.toBeDefined();
  });

  it('sends a full call at once, and never splits one publish between two calls', async () => {
    const inner = new HeldPublisher();
    const publisher = new CoalescingEventPublisher(inner);
    void publisher.publish(eventsOf('a'));
    for (const task of ['b', 'c', 'd', 'e', 'f']) void publisher.publish(eventsOf(task));

    // b..e fill 8 of 10; f's two make 10: a full call goes without waiting for the one on the wire.
    expect(inner.calls.map((call) => call.events.length)).toEqual([2, 10]);
    void publisher.publish(eventsOf('g', 3));
    void publisher.publish(eventsOf('h', 8));
    expect(inner.calls.map((call) => call.events.length)).toEqual([2, 10, 3]);
  });

  it("tells each publisher only of its own events' failures", async () => {
    const inner = new HeldPublisher();
    const publisher = new CoalescingEventPublisher(inner);
    const first = publisher.publish(eventsOf('a'));
    const ok = settledOf(publisher.publish(eventsOf('b')));
    const failing = settledOf(publisher.publish(eventsOf('c')));
    inner.calls[0]!.finish();
    await first;
    await Promise.resolve();

    inner.calls[1]!.finish(
      new EventPublishError([{ detailType: 'Grant Revoked', grantId: activeGrant({ taskId: 'c' }).grantId, code: 'InternalFailure' }], 4),
    );

    expect(await ok).toBe('published');
    const error = await failing;
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).failed).toHaveLength(1);
    expect((error as EventPublishError).message).toBe('1 of 2 events were not published: Grant Revoked (InternalFailure)');
  });

  it('fails every publisher of a call that failed as a whole', async () => {
    const inner = new HeldPublisher();
    const publisher = new CoalescingEventPublisher(inner);
    const first = settledOf(publisher.publish(eventsOf('a')));

    inner.calls[0]!.finish(new Error('socket hang up'));

    expect(await first).toMatchObject({ message: 'socket hang up' });
  });

  it('fails only the publish holding what looks like a secret, not those that shared its call', async () => {
    const inner = new HeldPublisher();
    const publisher = new CoalescingEventPublisher(inner);
    const leaky = outbound('Grant Revoked', activeGrant({ taskId: 'leaky' }), AT);
    const withSecret = { ...leaky, detail: { ...leaky.detail, secretAccessKey: 'hidden' } } as OutboundEvent;
    const first = publisher.publish(eventsOf('a'));
    const good = settledOf(publisher.publish(eventsOf('b')));
    const bad = settledOf(publisher.publish([withSecret]));
    inner.calls[0]!.finish();
    await first;
    await new Promise((resolve) => setImmediate(resolve));

    expect(inner.calls.map((call) => call.events.map((event) => event.detail.taskId))).toEqual([
      ['a', 'a'],
      ['b', 'b'],
    ]);
    inner.calls[1]!.finish();
    expect(await good).toBe('published');
    expect(await bad).toBeInstanceOf(SecretInEventError);
  });
});
