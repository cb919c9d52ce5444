// Tests (adapter, local engine): in-process expiry timers, the local stand-in for EventBridge Scheduler.
import { queryObjects } from 'node:v8';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerExpiryScheduler } from '../../../../lambdas/adapters/local/timer-expiry';
import type { Clock } from '../../../../lambdas/ports';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

describe('TimerExpiryScheduler', () => {
  // The faked Date drives the engine clock, so "now" moves exactly with the faked timers.
  const clock: Clock = { now: () => new Date() };
  let fired: string[];
  let errors: Array<{ grantId: string; error: unknown }>;
  let scheduler: TimerExpiryScheduler;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    fired = [];
    errors = [];
    scheduler = new TimerExpiryScheduler(clock, (grantId, error) => errors.push({ grantId, error }));
    scheduler.connect(async (grantId) => {
      fired.push(grantId);
    });
  });

  afterEach(() => {
    scheduler.stop();
    vi.useRealTimers();
  });

  it('fires the target with the grant id at the expiry time, not before', async () => {
    await scheduler.scheduleExpiry('g-1', at(60_000));

    await vi.advanceTimersByTimeAsync(59_999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['g-1']);
    expect(scheduler.armed).toBe(0);
  });

  it('measures the delay on the injected clock, not on the wall clock', async () => {
    const engineClock: Clock = { now: () => new Date(T0 - 3_600_000) };
    const behind = new TimerExpiryScheduler(engineClock, (grantId, error) => errors.push({ grantId, error }));
    behind.connect(async (grantId) => {
      fired.push(grantId);
    });

    await behind.scheduleExpiry('g-1', at(-3_600_000 + 1_000));
    await vi.advanceTimersByTimeAsync(999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['g-1']);
  });

  it('fires at once for an expiry already in the past (a restart after the grant expired)', async () => {
    await scheduler.scheduleExpiry('g-late', at(-5_000));

    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual(['g-late']);
  });

  it('does not fire a cancelled expiry', async () => {
    await scheduler.scheduleExpiry('g-1', at(1_000));
    await scheduler.scheduleExpiry('g-2', at(1_000));

    await scheduler.cancelExpiry('g-1');
    await vi.advanceTimersByTimeAsync(2_000);

    expect(fired).toEqual(['g-2']);
  });

  it('accepts cancelling an expiry that was never scheduled', async () => {
    await expect(scheduler.cancelExpiry('unknown')).resolves.toBeUndefined();
    expect(scheduler.armed).toBe(0);
  });

  it('replaces the earlier time when a grant is scheduled again', async () => {
    await scheduler.scheduleExpiry('g-1', at(1_000));
    await scheduler.scheduleExpiry('g-1', at(5_000));
    expect(scheduler.armed).toBe(1);

    await vi.advanceTimersByTimeAsync(4_999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['g-1']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fired).toEqual(['g-1']);
  });

  it('reports a failing target to onError with the grant id', async () => {
    const failure = new Error('store unavailable');
    scheduler.connect(() => Promise.reject(failure));
    await scheduler.scheduleExpiry('g-1', at(1_000));

    await vi.advanceTimersByTimeAsync(1_000);

    expect(errors).toEqual([{ grantId: 'g-1', error: failure }]);
  });

  it('reports an expiry that fires before the engine is connected to onError', async () => {
    const unconnected = new TimerExpiryScheduler(clock, (grantId, error) => errors.push({ grantId, error }));
    await unconnected.scheduleExpiry('g-1', at(1_000));

    await vi.advanceTimersByTimeAsync(1_000);

    expect(errors).toEqual([
      { grantId: 'g-1', error: expect.objectContaining({ message: expect.stringMatching(/before the engine was connected/) }) },
    ]);
  });

  it('clears every timer on stop', async () => {
    await scheduler.scheduleExpiry('g-1', at(1_000));
    await scheduler.scheduleExpiry('g-2', at(2_000));
    expect(scheduler.armed).toBe(2);

    scheduler.stop();
    await vi.advanceTimersByTimeAsync(10_000);

    expect(scheduler.armed).toBe(0);
    expect(fired).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe('TimerExpiryScheduler, on real timers', () => {
  /** Node's list of the timers of one duration (internal), reached through a timer alone in its list. */
  const TimersList = (() => {
    const alone = setTimeout(() => undefined, 987_654_321);
    const list = (alone as unknown as { _idlePrev: object })._idlePrev.constructor as new () => object;
    clearTimeout(alone);
    return list;
  })();
  const liveLists = () => queryObjects(TimersList, { format: 'count' }) as number;

  it('leaves no list of timers behind for expiries cancelled early, each of its own delay', async () => {
    const scheduler = new TimerExpiryScheduler({ now: () => new Date() }, () => undefined);
    const before = liveLists();
    for (let grant = 0; grant < 200; grant++) await scheduler.scheduleExpiry(`g-${grant}`, new Date(Date.now() + 3_600_000 + grant * 7));
    expect(liveLists()).toBeGreaterThanOrEqual(before + 100);

    for (let grant = 0; grant < 200; grant++) await scheduler.cancelExpiry(`g-${grant}`);

    expect(liveLists()).toBeLessThan(before + 5);
    expect(scheduler.armed).toBe(0);
  });
});
