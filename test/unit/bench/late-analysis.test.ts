// Unit: the bench's late-lifecycle analysis (bench/late-analysis.ts) over a hand-made detail file.
import { describe, expect, it } from 'vitest';
import { analyseLate, type Detail, type EngineEvent } from '../../../bench/late-analysis';
import type { LifecycleDetail } from '../../../bench/lifecycles';

const lifecycle = (taskId: string, startAnsweredMs: number, deliveredAtMs: number | undefined): LifecycleDetail => ({
  taskId,
  startAnsweredMs,
  reads: [],
  ...(deliveredAtMs === undefined ? {} : { deliveredAtMs }),
  endAnsweredMs: startAnsweredMs + 1_000,
  refusedMs: startAnsweredMs + 1_020,
  audit: [
    { action: 'requested', atMs: startAnsweredMs - 1 },
    { action: 'issued', atMs: (deliveredAtMs ?? startAnsweredMs) - 10 },
  ],
});

/** Cumulative schedstat samples: the main thread runs all the time, except 100 ms waiting for a CPU from 1,020 to 1,120. */
const sched = (at: number): EngineEvent => {
  const waited = Math.min(100, Math.max(0, at - 1_020));
  return { kind: 'sched', at, mainRun: at - waited, mainWait: waited, otherRun: 0, otherWait: 0 };
};

describe('analyseLate', () => {
  const detail: Detail = {
    lifecycles: [lifecycle('on-time', 0, 30), lifecycle('late', 1_000, 1_150), lifecycle('undelivered', 2_000, undefined)],
    engineEvents: [
      ...[0, 20, 40, 1_000, 1_020, 1_040, 1_120, 1_140, 1_160].map(sched),
      { kind: 'gc', at: 1_010, ms: 5 },
      { kind: 'sent', at: 10, ms: 2, op: 'PutItem' },
      { kind: 'sent', at: 1_130, ms: 2, op: 'Query' },
    ],
  };

  it('counts as late only delivered lifecycles written after the threshold', () => {
    const report = analyseLate(detail, 95);

    expect(report.lifecycles).toBe(2);
    expect(report.late).toBe(1);
    expect(report.lateGroup.lifecycles).toBe(1);
    expect(report.onTimeGroup.lifecycles).toBe(1);
  });

  it("charges the main thread's run-queue wait to the lifecycle whose window it falls in", () => {
    const report = analyseLate(detail, 95);

    expect(report.lateGroup.medians?.mainRunQueueMs).toBe(100);
    expect(report.onTimeGroup.medians?.mainRunQueueMs).toBe(0);
    expect(report.lateGroup.shareOfWindowMainWaitingForCpu).toBe(0.67);
    // 150 ms less the 100 it waited is 50: on time but for the wait.
    expect(report.lateWithoutMainRunQueueWait).toBe(0);
  });

  it('finds the GC pause, the lost slot and the spans inside the late window only', () => {
    const { lateGroup, onTimeGroup } = analyseLate(detail, 95);

    expect(lateGroup.medians).toMatchObject({ gcMs: 5, lostSlotQueries: 1, dispatchMs: -1, issuedToDeliveredMs: 10, issuanceMs: 150 });
    expect(onTimeGroup.medians).toMatchObject({ gcMs: 0, lostSlotQueries: 0 });
  });
});
