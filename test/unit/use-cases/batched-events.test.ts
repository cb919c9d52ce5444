import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../../lambdas/domain/events';
import type { EventPublisher } from '../../../lambdas/ports';
import { batchedEvents } from '../../../lambdas/use-cases/batched-events';

/** An event whose grant id says which revocation it belongs to; nothing else is read here. */
const event = (grantId: string, detailType: 'Grant Revoked' | 'Revocation Verified') =>
  ({ detailType, detail: { grantId } }) as unknown as OutboundEvent;
const revocation = (grantId: string) => [event(grantId, 'Grant Revoked'), event(grantId, 'Revocation Verified')];

/** Records each PutEvents call's grant ids; fails the calls it is told to. */
function recordingPublisher(failCall?: number): EventPublisher & { readonly calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async publish(events) {
      calls.push(events.map((sent) => `${String(sent.detail.grantId)}:${sent.detailType}`));
      if (calls.length === failCall) throw new Error('ThrottlingException');
    },
  };
}

describe('batchedEvents', () => {
  it('sends full calls of ten while revocations publish, and the rest at flush', async () => {
    const publisher = recordingPublisher();
    const batched = batchedEvents(publisher);

    for (const grantId of ['g1', 'g2', 'g3', 'g4', 'g5', 'g6']) await batched.publish(revocation(grantId));
    expect(publisher.calls.map((call) => call.length)).toEqual([10]);
    await batched.flush();

    expect(publisher.calls.map((call) => call.length)).toEqual([10, 2]);
    expect(publisher.calls[1]).toEqual(['g6:Grant Revoked', 'g6:Revocation Verified']);
  });

  it('never splits one revocation’s events across two calls', async () => {
    const publisher = recordingPublisher();
    const batched = batchedEvents(publisher);

    await batched.publish([event('g0', 'Revocation Verified')]);
    for (const grantId of ['g1', 'g2', 'g3', 'g4', 'g5']) await batched.publish(revocation(grantId));
    await batched.flush();

    expect(publisher.calls).toEqual([
      [
        'g0:Revocation Verified',
        'g1:Grant Revoked',
        'g1:Revocation Verified',
        'g2:Grant Revoked',
        'g2:Revocation Verified',
        'g3:Grant Revoked',
        'g3:Revocation Verified',
        'g4:Grant Revoked',
        'g4:Revocation Verified',
      ],
      ['g5:Grant Revoked', 'g5:Revocation Verified'],
    ]);
  });

  it('tries every call when one fails, and throws that failure at flush', async () => {
    const publisher = recordingPublisher(1);
    const batched = batchedEvents(publisher);

    for (const grantId of ['g1', 'g2', 'g3', 'g4', 'g5', 'g6']) await batched.publish(revocation(grantId));

    await expect(batched.flush()).rejects.toThrow('ThrottlingException');
    expect(publisher.calls.map((call) => call.length)).toEqual([10, 2]);
  });
});
