import { describe, expect, it } from 'vitest';
import { steadyClock } from '../../../../lambdas/adapters/local/steady-clock';

function sources() {
  const time = { wallMs: 1_000_000, monotonicMs: 50 };
  return { time, clock: steadyClock({ wallMs: () => time.wallMs, monotonicMs: () => time.monotonicMs }) };
}

describe('steadyClock', () => {
  it('reads the wall clock while nothing steps', () => {
    const { time, clock } = sources();
    time.wallMs += 1_500;
    time.monotonicMs += 1_500;

    expect(clock.now().getTime()).toBe(1_001_500);
  });

  it('follows the wall clock forward at once (a machine waking from sleep)', () => {
    const { time, clock } = sources();
    time.wallMs += 3_600_000;
    time.monotonicMs += 10;

    expect(clock.now().getTime()).toBe(4_600_000);
  });

  it('does not go back with the wall clock, and runs on at real time after a step back', () => {
    const { time, clock } = sources();
    time.wallMs += 1_000;
    time.monotonicMs += 1_000;
    expect(clock.now().getTime()).toBe(1_001_000);

    time.wallMs -= 3_600_000;
    time.monotonicMs += 200;
    expect(clock.now().getTime()).toBe(1_001_200);

    time.wallMs += 500;
    time.monotonicMs += 500;
    expect(clock.now().getTime()).toBe(1_001_700);
  });

  it('catches up with a later time it is told (an earlier run wrote it before the clock stepped back), and never back', () => {
    const { time, clock } = sources();

    expect(clock.catchUp(1_600_000)).toBe(600_000);
    time.monotonicMs += 100;
    expect(clock.now().getTime()).toBe(1_600_100);
    expect(clock.catchUp(1_000_000)).toBe(0);
    expect(clock.now().getTime()).toBe(1_600_100);
  });
});
