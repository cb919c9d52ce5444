// Bench (latency): what the late lifecycles of a `bench:latency --detail` run have in common (used by
// late-lifecycles.ts). A lifecycle is late when its delivery was written more than `lateMs` after
// PutEvents(Task Started) answered (the SDK's first read is at 100 ms). Late ones are set against on-time
// ones on each suspect: the bus's dispatch, the engine's spans, GC pauses, event-loop stalls, the
// engine's main thread running or waiting for a CPU (Linux schedstat), its other threads' wait, how
// much engine work started nearby, lost slots (a Query), and how fast the engine's calls finished.
import type { LifecycleDetail } from './lifecycles';
import { median, round2 } from './percentiles';

/** One line of the probe's event file (latency-probe.mjs). */
export interface EngineEvent {
  readonly kind: 'gc' | 'stall' | 'sent' | 'served' | 'sched';
  readonly at: number;
  readonly ms?: number;
  readonly op?: string;
  readonly mainRun?: number;
  readonly mainWait?: number;
  readonly otherRun?: number;
  readonly otherWait?: number;
}

/** What `bench:latency --detail FILE` writes. */
export interface Detail {
  readonly lifecycles: readonly LifecycleDetail[];
  readonly engineEvents: readonly EngineEvent[];
}

type SchedKey = 'mainRun' | 'mainWait' | 'otherRun' | 'otherWait';

/** A cumulative schedstat counter at `at`, interpolated between the probe's 20 ms samples. */
function schedAt(samples: readonly EngineEvent[], at: number, key: SchedKey): number {
  let low = 0;
  let high = samples.length - 1;
  if (high < 0) return 0;
  if (at <= samples[0]!.at) return samples[0]![key] ?? 0;
  if (at >= samples[high]!.at) return samples[high]![key] ?? 0;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (samples[middle]!.at <= at) low = middle;
    else high = middle;
  }
  const before = samples[low]!;
  const after = samples[high]!;
  const share = (at - before.at) / (after.at - before.at);
  return (before[key] ?? 0) + share * ((after[key] ?? 0) - (before[key] ?? 0));
}

const auditAt = (lifecycle: LifecycleDetail, action: string) => lifecycle.audit.find((entry) => entry.action === action)?.atMs;

/** One lifecycle's figures, each over its window: Task Started answered → the delivery's date. */
function figuresOf(
  lifecycle: LifecycleDetail,
  events: readonly EngineEvent[],
  sched: readonly EngineEvent[],
  all: readonly LifecycleDetail[],
) {
  const from = lifecycle.startAnsweredMs;
  const to = lifecycle.deliveredAtMs!;
  const inside = (event: EngineEvent) => event.at >= from && event.at <= to;
  const windowed = events.filter(inside);
  const sum = (kind: EngineEvent['kind']) =>
    windowed.filter((event) => event.kind === kind).reduce((total, event) => total + (event.ms ?? 0), 0);
  const sched_ = (key: SchedKey) => schedAt(sched, to, key) - schedAt(sched, from, key);
  const decided = auditAt(lifecycle, 'requested') ?? from;
  const issued = auditAt(lifecycle, 'issued') ?? to;
  const near = (at: number) => at >= from - 100 && at <= from + 50;
  const calls = windowed.filter((event) => event.kind === 'sent');
  return {
    issuanceMs: to - from,
    dispatchMs: decided - from,
    decidedToIssuedMs: issued - decided,
    issuedToDeliveredMs: to - issued,
    gcMs: sum('gc'),
    stallMs: sum('stall'),
    mainRunMs: sched_('mainRun'),
    mainRunQueueMs: sched_('mainWait'),
    otherThreadsRunQueueMs: sched_('otherWait'),
    callsFinishedPer100Ms: (100 * calls.length) / Math.max(1, to - from),
    lostSlotQueries: calls.filter((event) => event.op === 'Query').length,
    otherStartsNearby: all.filter((other) => other !== lifecycle && near(other.startAnsweredMs)).length,
    endsNearby: all.filter((other) => near(other.endAnsweredMs)).length,
  };
}

type Figures = ReturnType<typeof figuresOf>;

/** Medians of each figure over a group of lifecycles, and the share of the window the main thread waited for a CPU. */
function summarise(group: readonly Figures[]) {
  if (group.length === 0) return { lifecycles: 0 };
  const keys = Object.keys(group[0]!) as (keyof Figures)[];
  const medians = Object.fromEntries(keys.map((key) => [key, round2(median(group.map((figures) => figures[key])))]));
  const windowMs = group.reduce((total, figures) => total + figures.issuanceMs, 0);
  return {
    lifecycles: group.length,
    medians,
    shareOfWindowMainRunning: round2(group.reduce((total, figures) => total + figures.mainRunMs, 0) / windowMs),
    shareOfWindowMainWaitingForCpu: round2(group.reduce((total, figures) => total + figures.mainRunQueueMs, 0) / windowMs),
  };
}

/** Late against on-time lifecycles, for one run's detail. */
export function analyseLate(detail: Detail, lateMs: number) {
  const sched = detail.engineEvents.filter((event) => event.kind === 'sched').sort((a, b) => a.at - b.at);
  const delivered = detail.lifecycles.filter((lifecycle) => lifecycle.deliveredAtMs !== undefined);
  const figures = delivered.map((lifecycle) => figuresOf(lifecycle, detail.engineEvents, sched, detail.lifecycles));
  const late = figures.filter((one) => one.issuanceMs > lateMs);
  return {
    lateMs,
    lifecycles: figures.length,
    late: late.length,
    // Were the main thread never kept off a CPU, how many would still be late (a bound: its other threads' waits remain).
    lateWithoutMainRunQueueWait: figures.filter((one) => one.issuanceMs - one.mainRunQueueMs > lateMs).length,
    lateGroup: summarise(late),
    onTimeGroup: summarise(figures.filter((one) => one.issuanceMs <= lateMs)),
  };
}
