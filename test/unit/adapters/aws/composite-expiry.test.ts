import { describe, expect, it } from 'vitest';
import { CompositeExpiry, ExpirySchedulingError } from '../../../../lambdas/adapters/aws/composite-expiry';
import type { ExpiryScheduler } from '../../../../lambdas/ports';

class RecordingExpiry implements ExpiryScheduler {
  readonly scheduled = new Map<string, Date>();

  constructor(private readonly failure?: Error) {}

  async scheduleExpiry(grantId: string, at: Date): Promise<void> {
    if (this.failure) throw this.failure;
    this.scheduled.set(grantId, at);
  }

  async cancelExpiry(grantId: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.scheduled.delete(grantId);
  }
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
const AT = new Date('2030-01-01T00:15:00Z');

describe('CompositeExpiry', () => {
  it('schedules and cancels with every scheduler', async () => {
    const schedule = new RecordingExpiry();
    const ttlMarker = new RecordingExpiry();
    const composite = new CompositeExpiry({ schedule, ttlMarker });

    await composite.scheduleExpiry('g-1', AT);
    expect([schedule.scheduled.get('g-1'), ttlMarker.scheduled.get('g-1')]).toEqual([AT, AT]);

    await composite.cancelExpiry('g-1');
    expect([schedule.scheduled.size, ttlMarker.scheduled.size]).toEqual([0, 0]);
  });

  it('still writes the backstop when the schedule fails, then throws naming the one that failed', async () => {
    const failure = throttled();
    const ttlMarker = new RecordingExpiry();
    const composite = new CompositeExpiry({ schedule: new RecordingExpiry(failure), ttlMarker });

    const error = (await composite.scheduleExpiry('g-1', AT).catch((caught: unknown) => caught)) as ExpirySchedulingError;

    expect(ttlMarker.scheduled.get('g-1')).toEqual(AT);
    expect(error).toBeInstanceOf(ExpirySchedulingError);
    expect(error.message).toBe('scheduling the expiry of g-1 failed in schedule (ThrottlingException)');
    expect(error.failures).toEqual({ schedule: failure });
    expect(error.cause).toBeInstanceOf(AggregateError);
  });

  it('names every scheduler that failed to cancel', async () => {
    const composite = new CompositeExpiry({
      schedule: new RecordingExpiry(throttled()),
      ttlMarker: new RecordingExpiry(new TypeError('boom')),
    });
    await expect(composite.cancelExpiry('g-1')).rejects.toThrow(
      'cancelling the expiry of g-1 failed in schedule (ThrottlingException), ttlMarker (TypeError)',
    );
  });

  it('needs at least one scheduler', () => {
    expect(() => new CompositeExpiry({})).toThrow(RangeError);
  });
});
