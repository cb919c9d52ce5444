// Adapter (local engine): the engine's clock on a user's machine, whose wall clock may be stepped.
// It follows the wall clock forward (a laptop waking from sleep: real time did pass, and what is due
// must expire at once), but not back: after a step back it runs on at the monotonic clock's rate,
// so no grant, session or timer outlives its TTL measured in real time.
import type { Clock } from '../../ports';

/** Where the steady clock reads the time; tests give their own. */
export interface TimeSources {
  /** Milliseconds since the epoch, as the system says them (steps both ways). */
  readonly wallMs: () => number;
  /** Milliseconds from an arbitrary origin that never step (performance.now()). */
  readonly monotonicMs: () => number;
}

const SYSTEM_TIME: TimeSources = { wallMs: () => Date.now(), monotonicMs: () => performance.now() };

/** A clock that never goes back, and can be told a time it has already reached (an earlier run's). */
export interface SteadyClock extends Clock {
  /**
   * Moves the clock on to `ms` if it reads earlier (the machine's clock was stepped back while the
   * engine was stopped: its last writes are later than now). Returns how far it moved, 0 if not at all.
   */
  catchUp(ms: number): number;
  /** The machine's own clock as it reads now, steps included: what programs on this machine sign requests with. */
  wall(): Date;
}

/**
 * The clock a request's signature time is judged by. Signers on this machine read its wall clock, and
 * a steady clock runs ahead of it after a step back (for as long as the step, even across restarts):
 * judged by that, every signed request more than 15 minutes off would be refused until the wall clock
 * caught up. Any other clock (a test's) is used as it is.
 */
export function signatureClockOf(clock: Clock): Clock {
  return 'wall' in clock && typeof clock.wall === 'function' ? { now: () => (clock as SteadyClock).wall() } : clock;
}

/**
 * A clock that never goes back: each reading is the later of the wall clock and the previous
 * reading plus the monotonic time elapsed since it.
 */
export function steadyClock(sources: TimeSources = SYSTEM_TIME): SteadyClock {
  let lastMs = sources.wallMs();
  let lastMonotonicMs = sources.monotonicMs();
  const now = () => {
    const monotonicMs = sources.monotonicMs();
    lastMs = Math.max(sources.wallMs(), lastMs + (monotonicMs - lastMonotonicMs));
    lastMonotonicMs = monotonicMs;
    return lastMs;
  };
  return {
    now: () => new Date(now()),
    wall: () => new Date(sources.wallMs()),
    catchUp(ms) {
      const behindMs = ms - now();
      if (behindMs <= 0) return 0;
      lastMs = ms;
      return behindMs;
    },
  };
}
