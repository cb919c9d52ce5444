// Bench (latency): preloaded into the engine process (`node --import ./bench/latency-probe.mjs`) by
// `npm run bench:latency`. It watches the engine from outside its code: how late its event loop
// runs (monitorEventLoopDelay), how busy it is (event-loop utilisation), what GC pauses cost, and
// how long each HTTP request it serves (runtimes' and its own) and each one it sends (its own SDK
// calls) takes, by operation. On SIGUSR2 it prints one `latency-probe {json}` line on stdout
// with what it saw since the last one, then starts over. No engine code knows it is there.
import { channel } from 'node:diagnostics_channel';
import { setInterval } from 'node:timers';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

/** Durations by key, ms; summarised at print time. */
class Durations {
  samples = new Map();
  add(key, ms) {
    const list = this.samples.get(key) ?? [];
    list.push(ms);
    this.samples.set(key, list);
  }
  summary() {
    const out = {};
    for (const [key, list] of this.samples) {
      const sorted = [...list].sort((a, b) => a - b);
      const rank = (p) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
      out[key] = { count: sorted.length, p50: round(rank(50)), p90: round(rank(90)), p99: round(rank(99)), max: round(sorted.at(-1)) };
    }
    return out;
  }
}

const round = (value) => Math.round(value * 100) / 100;
/** The signing service of a SigV4 Authorization header (`.../region/service/aws4_request`). */
const SERVICE = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//;

function operationOf(target, authorization, method, url) {
  if (target)
    return String(target)
      .replace(/^[A-Za-z0-9_]+\./, '')
      .replace(/^AWS[A-Za-z]+_\d+\./, '');
  const service = SERVICE.exec(String(authorization ?? ''))?.[1];
  return service ? `${service}:query` : `${method} ${String(url).split('?')[0]}`;
}

/**
 * With LATENCY_PROBE_EVENTS=FILE, every GC pause, event-loop stall (a 5 ms timer firing > 10 ms
 * late) and request (served and sent), each with its epoch start, is also appended to FILE as JSON
 * lines, so a late lifecycle can be matched with what the engine was doing at the time.
 */
const eventsFile = process.env.LATENCY_PROBE_EVENTS;
let events = [];
const epoch = (at) => Math.round((performance.timeOrigin + at) * 100) / 100;
const record = (event) => {
  if (!eventsFile) return;
  events.push(JSON.stringify(event));
  if (events.length >= 500) flushEvents();
};
const flushEvents = () => {
  if (!eventsFile || events.length === 0) return;
  appendFileSync(eventsFile, `${events.join('\n')}\n`);
  events = [];
};
/**
 * The main thread's time on a CPU and waiting for one (Linux's schedstat, ns): a stall the thread
 * spent waiting in the run queue is the machine's (other processes' CPU), one it spent running is its own.
 */
const schedstat = (file = '/proc/self/schedstat') => {
  try {
    const [run, wait] = readFileSync(file, 'utf8').split(' ').map(Number);
    return { run, wait };
  } catch {
    return { run: 0, wait: 0 };
  }
};
/** Every other thread of the process (the store's worker, V8's and libuv's), summed. */
const otherThreads = () => {
  let run = 0;
  let wait = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    if (tid === String(process.pid)) continue;
    const sched = schedstat(`/proc/self/task/${tid}/schedstat`);
    run += sched.run;
    wait += sched.wait;
  }
  return { run, wait };
};
if (eventsFile) {
  let expected = performance.now() + 5;
  let last = schedstat();
  setInterval(() => {
    const now = performance.now();
    const sched = schedstat();
    if (now - expected > 10)
      record({
        kind: 'stall',
        at: epoch(expected),
        ms: round(now - expected),
        runMs: round((sched.run - last.run) / 1e6),
        runQueueMs: round((sched.wait - last.wait) / 1e6),
      });
    expected = now + 5;
    last = sched;
  }, 5).unref();
  // Cumulative samples every 20 ms, so any window's run and run-queue time can be read off them.
  setInterval(() => {
    const main = schedstat();
    const others = otherThreads();
    record({
      kind: 'sched',
      at: epoch(performance.now()),
      mainRun: main.run / 1e6,
      mainWait: main.wait / 1e6,
      otherRun: others.run / 1e6,
      otherWait: others.wait / 1e6,
    });
  }, 20).unref();
}

/** Each thread's schedstat (ms on a CPU, ms waiting for one), by thread id; the main thread's id is the pid. */
const threadTimes = () => {
  const times = new Map();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const sched = schedstat(`/proc/self/task/${tid}/schedstat`);
      times.set(tid, { run: sched.run / 1e6, wait: sched.wait / 1e6 });
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return times;
};
let threadsSince = threadTimes();

let served = new Durations();
let sent = new Durations();
let gcPauses = [];
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let utilisation = performance.eventLoopUtilization();
let since = performance.now();

const serverStarts = new WeakMap();
channel('http.server.request.start').subscribe(({ request }) => serverStarts.set(request, performance.now()));
channel('http.server.response.finish').subscribe(({ request }) => {
  const started = serverStarts.get(request);
  if (started === undefined) return;
  const operation = operationOf(request.headers['x-amz-target'], request.headers.authorization, request.method, request.url);
  served.add(operation, performance.now() - started);
  record({ kind: 'served', op: operation, at: epoch(started), ms: round(performance.now() - started) });
});

const clientStarts = new WeakMap();
channel('http.client.request.start').subscribe(({ request }) => clientStarts.set(request, performance.now()));
// Fires once the answer's headers are in: the time the call waited, not the SDK's parsing after it.
channel('http.client.response.finish').subscribe(({ request }) => {
  const started = clientStarts.get(request);
  if (started === undefined) return;
  const operation = operationOf(request.getHeader('x-amz-target'), request.getHeader('authorization'), request.method, request.path);
  sent.add(operation, performance.now() - started);
  record({ kind: 'sent', op: operation, at: epoch(started), ms: round(performance.now() - started) });
});

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcPauses.push(entry.duration);
    record({ kind: 'gc', gc: entry.detail?.kind, at: epoch(entry.startTime), ms: round(entry.duration) });
  }
}).observe({ entryTypes: ['gc'] });

/**
 * CPU and run-queue time of each thread since the last report, busiest first: `main`, then the
 * others by id (V8's platform workers: concurrent GC and compilation; libuv's pool; the store's worker).
 */
function threadsDelta() {
  const now = threadTimes();
  const out = [];
  for (const [tid, times] of now) {
    const before = threadsSince.get(tid) ?? { run: 0, wait: 0 };
    out.push({
      thread: tid === String(process.pid) ? 'main' : tid,
      runMs: round(times.run - before.run),
      runQueueMs: round(times.wait - before.wait),
    });
  }
  threadsSince = now;
  return out.filter((thread) => thread.runMs > 0).sort((a, b) => b.runMs - a.runMs);
}

process.on('SIGUSR2', () => {
  const now = performance.now();
  const busy = performance.eventLoopUtilization(utilisation);
  const ms = (ns) => round(ns / 1e6);
  const report = {
    windowMs: round(now - since),
    eventLoopUtilisation: round(busy.utilization),
    eventLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
    gc: {
      pauses: gcPauses.length,
      totalMs: round(gcPauses.reduce((sum, pause) => sum + pause, 0)),
      maxMs: round(Math.max(0, ...gcPauses)),
    },
    threadsMs: threadsDelta(),
    servedMs: served.summary(),
    engineCallsMs: sent.summary(),
  };
  flushEvents();
  process.stdout.write(`latency-probe ${JSON.stringify(report)}\n`);
  served = new Durations();
  sent = new Durations();
  gcPauses = [];
  loopDelay.reset();
  utilisation = performance.eventLoopUtilization();
  since = now;
});
