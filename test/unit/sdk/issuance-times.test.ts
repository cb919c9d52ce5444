// Unit: what the SDK learns of issuance times, and how a wait uses it to time its first read.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IssuanceTimes, issuanceMsOf } from '../../../sdk/issuance-times';
import { waitForDelivery } from '../../../sdk/wait';
import { WaitTimeoutError } from '../../../sdk/errors';
import type { TimedReading } from '../../../sdk/delivery-readers';

const TASK = { agentId: 'release-bot', taskId: 't-1' };
const ISSUED = {
  status: 'issued',
  grantId: 'g-1',
  kind: 'aws-sts-session',
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'secret',
  sessionToken: 'token',
  scopes: ['repo-read'],
} as const;

/** A delivery that appears `issueAfterMs` after `startedMs`, with every read's send time logged. */
function engineIssuingAfter(issueAfterMs: number, startedMs: number) {
  const reads: number[] = [];
  const read = async (): Promise<TimedReading> => {
    reads.push(Date.now() - startedMs);
    return Date.now() - startedMs >= issueAfterMs
      ? { reading: ISSUED, deliveredAtMs: startedMs + issueAfterMs }
      : { reading: { status: 'absent' } };
  };
  return { reads, read };
}

/** Every random draw of the suite's tests at 0.5: the waits' jitter at its middle. */
function jitterAtItsMiddle(): void {
  beforeEach(() => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
}

describe('issuanceMsOf', () => {
  it('takes the delivery date when it lies between the last miss and the find', () => {
    expect(issuanceMsOf({ startedMs: 1000, lastMissSentMs: 1050, foundMs: 1200, deliveredAtMs: 1080 })).toBe(80);
  });

  it('clamps a delivery date a skewed clock puts after the find, or before the last miss, to what the runtime saw', () => {
    expect(issuanceMsOf({ startedMs: 1000, foundMs: 1100, deliveredAtMs: 1900 })).toBe(100);
    expect(issuanceMsOf({ startedMs: 1000, lastMissSentMs: 1050, foundMs: 1100, deliveredAtMs: 400 })).toBe(50);
  });

  it('uses the find when the service gives no date', () => {
    expect(issuanceMsOf({ startedMs: 1000, lastMissSentMs: 1030, foundMs: 1070 })).toBe(70);
  });
});

describe('IssuanceTimes', () => {
  it('knows nothing until it has seen three issuances, then says their median', () => {
    const times = new IssuanceTimes();
    times.record({ startedMs: 0, foundMs: 50 });
    times.record({ startedMs: 0, foundMs: 300 });
    expect(times.typicalMs()).toBeUndefined();
    times.record({ startedMs: 0, foundMs: 80 });
    expect(times.typicalMs()).toBe(80);
  });

  it('forgets the oldest issuances, so the estimate follows the load', () => {
    const times = new IssuanceTimes();
    for (let i = 0; i < 16; i++) times.record({ startedMs: 0, foundMs: 1000 });
    for (let i = 0; i < 9; i++) times.record({ startedMs: 0, foundMs: 40 });
    expect(times.typicalMs()).toBe(40);
  });
});

describe('waitForDelivery with learnt issuance times', () => {
  // The first read's jitter (and the waiter's) at its middle: the learnt first read is the median itself.
  jitterAtItsMiddle();

  it('reads first when recent tasks were issued, and finds the credential in one read', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 30, deliveredAtMs: 30 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(20, startedMs);

    const credential = await waitForDelivery(
      engine.read,
      {},
      TASK,
      { strategy: { learnFirstRead: true, minDelayMs: 2_000 } },
      { startedMs, issuance },
    );

    expect(credential.accessKeyId).toBe('ASIAEXAMPLE');
    expect(engine.reads).toHaveLength(1);
    // The fixed first step would read at 2 s; the learnt one at 30 ms (a loaded machine may be late).
    expect(engine.reads[0]).toBeGreaterThanOrEqual(28);
    expect(engine.reads[0]).toBeLessThan(1_000);
  });

  it('steps a third of the time since Task Started after a learnt first read that misses', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 80, deliveredAtMs: 80 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(95, startedMs);

    await waitForDelivery(engine.read, {}, TASK, { strategy: { learnFirstRead: true, minDelayMs: 2_000 } }, { startedMs, issuance });

    expect(engine.reads).toHaveLength(2);
    // At least 80 ms waited: the next read at least 24 ms later (the fixed strategy would step 2 s).
    expect(engine.reads[1]! - engine.reads[0]!).toBeGreaterThanOrEqual(23);
    expect(engine.reads[1]! - engine.reads[0]!).toBeLessThan(1_000);
  });

  it('learns from each wait it sees through from Task Started to issued', async () => {
    const issuance = new IssuanceTimes();
    for (let task = 0; task < 3; task++) {
      const startedMs = Date.now();
      await waitForDelivery(
        engineIssuingAfter(30, startedMs).read,
        {},
        TASK,
        { strategy: { learnFirstRead: true, minDelayMs: 20 } },
        { startedMs, issuance },
      );
    }
    expect(issuance.typicalMs()).toBe(30);
  });

  it('keeps the fixed first step by default', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 10, deliveredAtMs: 10 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(0, startedMs);

    await waitForDelivery(engine.read, {}, TASK, { strategy: { minDelayMs: 120 } }, { startedMs, issuance });

    expect(engine.reads).toHaveLength(1);
    expect(engine.reads[0]).toBeGreaterThanOrEqual(115);
  });

  it.each([
    [0, 'early', 250],
    [0.999, 'late', 750],
  ])('spreads the first read within half the median either side (random %s: %s)', async (random, _side, expectedMs) => {
    vi.spyOn(Math, 'random').mockReturnValue(random);
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 500, deliveredAtMs: 500 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(0, startedMs);

    await waitForDelivery(engine.read, {}, TASK, { strategy: { learnFirstRead: true } }, { startedMs, issuance });

    expect(engine.reads[0]).toBeGreaterThanOrEqual(expectedMs - 3);
    expect(engine.reads[0]).toBeLessThan(expectedMs + 150);
  });

  it('spreads first reads around the longest step when the median is past it, instead of piling them at it', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 16_000, deliveredAtMs: 16_000 });
    const firstReads: number[] = [];
    for (const random of [0.001, 0.999]) {
      vi.spyOn(Math, 'random').mockReturnValue(random);
      const startedMs = Date.now();
      const engine = engineIssuingAfter(0, startedMs);
      await waitForDelivery(engine.read, {}, TASK, { strategy: { learnFirstRead: true, maxDelayMs: 200 } }, { startedMs, issuance });
      firstReads.push(engine.reads[0]!);
    }

    // Half the longest step early, half of it late: capped after the jitter, both would come at 200 ms.
    expect(firstReads[0]).toBeGreaterThanOrEqual(97);
    expect(firstReads[0]).toBeLessThan(180);
    expect(firstReads[1]).toBeGreaterThanOrEqual(297);
    expect(firstReads[1]).toBeLessThan(1_000);
  });

  it('reads first at the longest step (its jitter at the middle), however slow the issuances it learnt from', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 16_000, deliveredAtMs: 16_000 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(0, startedMs);

    await waitForDelivery(engine.read, {}, TASK, { strategy: { learnFirstRead: true, maxDelayMs: 200 } }, { startedMs, issuance });

    expect(engine.reads).toHaveLength(1);
    expect(engine.reads[0]).toBeGreaterThanOrEqual(197);
    expect(engine.reads[0]).toBeLessThan(1_000);
  });

  it('gives up when no delivery appears within the delivery timeout', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 20 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(Number.POSITIVE_INFINITY, startedMs);

    const waiting = waitForDelivery(
      engine.read,
      {},
      TASK,
      { strategy: { learnFirstRead: true, deliveryTimeoutMs: 400 } },
      { startedMs, issuance },
    );

    await expect(waiting).rejects.toBeInstanceOf(WaitTimeoutError);
    // Reads at 20 ms, then a third of the time waited later each: about ten in 400 ms, never one per 10 ms.
    expect(engine.reads.length).toBeGreaterThanOrEqual(2);
    expect(engine.reads.length).toBeLessThan(15);
  });

  it('gives up a learnt first read when the task is cancelled', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 5_000 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(0, startedMs);

    const waiting = waitForDelivery(
      engine.read,
      {},
      TASK,
      { signal: AbortSignal.timeout(30), strategy: { learnFirstRead: true } },
      { startedMs, issuance },
    );

    await expect(waiting).rejects.toThrow(/cancel/i);
    expect(engine.reads).toHaveLength(0);
  });
});

describe('learnFirstReadFromMs: the learnt schedule only once issuances are slow', () => {
  jitterAtItsMiddle();

  /**
   * Three issuances of `ms` learnt, a delivery there after `issueAfterMs`: the reads of one wait with the default
   * strategy (and `strategy`), alongside other waits of its client unless `alone`.
   */
  async function readsAfterLearning(ms: number, issueAfterMs: number, strategy = {}, alone = false) {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: ms, deliveredAtMs: ms });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(issueAfterMs, startedMs);
    await waitForDelivery(engine.read, {}, TASK, { strategy }, { startedMs, issuance, alone });
    return engine.reads;
  }

  it('reads on the learnt schedule once recent issuances took as long: one read where the backoff makes four', async () => {
    const reads = await readsAfterLearning(700, 650, { learnFirstReadFromMs: 500 });

    expect(reads).toHaveLength(1);
    expect(reads[0]).toBeGreaterThanOrEqual(697);
    expect(reads[0]).toBeLessThan(1_500);
  });

  it('keeps the backoff while issuances are quicker: the first read after 100 ms, not at the learnt median', async () => {
    const reads = await readsAfterLearning(40, 20, { learnFirstReadFromMs: 500 });

    expect(reads).toHaveLength(1);
    expect(reads[0]).toBeGreaterThanOrEqual(97);
  });

  it("reads on the learnt schedule by default when the wait is its client's only one and issuances take 500 ms: one read where the backoff makes four", async () => {
    const reads = await readsAfterLearning(700, 650, {}, true);

    expect(reads).toHaveLength(1);
    expect(reads[0]).toBeGreaterThanOrEqual(697);
    expect(reads[0]).toBeLessThan(1_500);
  });

  it("keeps the backoff for a client's only wait while issuances are quicker than 500 ms, and when told to", async () => {
    expect((await readsAfterLearning(300, 250, {}, true))[0]).toBeLessThan(150);
    expect((await readsAfterLearning(700, 650, { learnAloneFromMs: Number.POSITIVE_INFINITY }, true)).length).toBeGreaterThanOrEqual(3);
  });

  it('keeps the backoff at any issuance time by default for a wait alongside others of its client', async () => {
    const reads = await readsAfterLearning(700, 650);

    // The backoff from 100 ms: reads at about 100, 200 and 400 ms miss before one finds it.
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads[0]).toBeLessThan(400);
  });
});

describe("waitForDelivery's deadline", () => {
  // The backoff's jitter at its middle: reads at about 100, 250, 500, 950 and 1,800 ms, and the next step (1,650 ms) would pass 3 s.
  jitterAtItsMiddle();

  it('reads once more at the deadline instead of giving up when its next step would pass it', async () => {
    const startedMs = Date.now();
    const engine = engineIssuingAfter(2_400, startedMs);

    const credential = await waitForDelivery(engine.read, {}, TASK, { strategy: { deliveryTimeoutMs: 3_000 } });

    expect(credential.accessKeyId).toBe('ASIAEXAMPLE');
    // Before, the wait ended at its read of about 1.8 s with a WaitTimeoutError, 1.2 s early.
    expect(engine.reads.at(-2)).toBeLessThan(2_400);
    expect(engine.reads.at(-1)).toBeGreaterThanOrEqual(2_900);
  });

  it('still gives up at the deadline when nothing came, having waited all of it', async () => {
    const startedMs = Date.now();
    const engine = engineIssuingAfter(60_000, startedMs);

    await expect(waitForDelivery(engine.read, {}, TASK, { strategy: { deliveryTimeoutMs: 1_500 } })).rejects.toThrow(WaitTimeoutError);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(1_450);
    expect(engine.reads.at(-1)).toBeGreaterThanOrEqual(1_450);
  });

  it('on the learnt schedule too, its last read comes at the deadline', async () => {
    const issuance = new IssuanceTimes();
    for (let i = 0; i < 3; i++) issuance.record({ startedMs: 0, foundMs: 400, deliveredAtMs: 400 });
    const startedMs = Date.now();
    const engine = engineIssuingAfter(60_000, startedMs);

    await expect(
      waitForDelivery(engine.read, {}, TASK, { strategy: { learnFirstRead: true, deliveryTimeoutMs: 1_000 } }, { startedMs, issuance }),
    ).rejects.toThrow(WaitTimeoutError);
    expect(engine.reads.at(-1)).toBeGreaterThanOrEqual(990);
  });
});
