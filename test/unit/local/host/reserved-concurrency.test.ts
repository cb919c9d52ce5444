// Tests (local engine, host): per-function reserved concurrency, the local stand-in for Lambda's
// reservation and async queue. Invocations are held on promises the test settles: no timing.
import { describe, expect, it } from 'vitest';
import { ReservedConcurrency } from '../../../../lambdas/local/host/reserved-concurrency';

/** An invocation the test finishes when it chooses, recording when it started. */
function held(started: string[], label: string) {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    invocation: () => {
      started.push(label);
      return done;
    },
    finish: () => finish(),
    fail: (error: Error) => fail(error),
  };
}

/** Lets every settled promise's continuations run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ReservedConcurrency', () => {
  it('runs a function at most its reservation at once and starts the rest in arrival order as slots free', async () => {
    const concurrency = new ReservedConcurrency({ 'task-started': 2 });
    const started: string[] = [];
    const calls = ['a', 'b', 'c', 'd'].map((label) => held(started, label));
    const runs = calls.map((call) => concurrency.run('task-started', call.invocation));
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(concurrency.load()['task-started']).toMatchObject({ limit: 2, inFlight: 2, queued: 2 });

    calls[1]!.finish();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);

    calls[0]!.finish();
    calls[2]!.finish();
    calls[3]!.finish();
    await Promise.all(runs);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(concurrency.load()['task-started']).toEqual({
      limit: 2,
      inFlight: 0,
      queued: 0,
      peakInFlight: 2,
      peakQueued: 2,
      invocations: 4,
    });
  });

  it('gives a failed invocation its error and its slot to the next in line', async () => {
    const concurrency = new ReservedConcurrency({ sweep: 1 });
    const started: string[] = [];
    const first = held(started, 'first');
    const second = held(started, 'second');
    const failing = concurrency.run('sweep', first.invocation);
    const next = concurrency.run('sweep', second.invocation);

    first.fail(new Error('store unavailable'));
    await expect(failing).rejects.toThrow('store unavailable');
    await settle();
    expect(started).toEqual(['first', 'second']);
    second.finish();
    await next;
  });

  it("never queues one function behind another's busy slots", async () => {
    const concurrency = new ReservedConcurrency({ 'task-started': 1, 'task-ended': 1 });
    const started: string[] = [];
    const issuing = [held(started, 'start-1'), held(started, 'start-2')];
    for (const call of issuing) void concurrency.run('task-started', call.invocation);
    const revoking = held(started, 'end-1');
    const ended = concurrency.run('task-ended', revoking.invocation);
    await settle();

    expect(started).toEqual(['start-1', 'end-1']);
    revoking.finish();
    await ended;
    for (const call of issuing) call.finish();
  });

  it('runs a function without a reservation at once, however many are in flight', async () => {
    const concurrency = new ReservedConcurrency({ 'task-started': 1 });
    const started: string[] = [];
    const calls = Array.from({ length: 50 }, (_, index) => held(started, `alert-${index}`));
    const runs = calls.map((call) => concurrency.run('alerts', call.invocation));
    await settle();

    expect(started).toHaveLength(50);
    expect(concurrency.load().alerts).toBeUndefined();
    for (const call of calls) call.finish();
    await Promise.all(runs);
  });

  it('keeps arrival order through a backlog longer than its compaction threshold', async () => {
    const concurrency = new ReservedConcurrency({ 'task-started': 1 });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 3000 }, (_, index) => concurrency.run('task-started', async () => void order.push(index))));

    expect(order).toEqual(Array.from({ length: 3000 }, (_, index) => index));
    expect(concurrency.load()['task-started']).toMatchObject({ inFlight: 0, queued: 0, peakInFlight: 1, peakQueued: 2999 });
  });

  it('refuses a reservation that is not a positive integer, naming the function', () => {
    expect(() => new ReservedConcurrency({ 'task-ended': 0 })).toThrow(
      'reserved concurrency of task-ended must be a positive integer, not 0',
    );
    expect(() => new ReservedConcurrency({ 'task-ended': 1.5 })).toThrow(/task-ended/);
  });
});
