// Bench (latency): preloaded into the engine process (`node --import ./bench/latency-probe.mjs`) by
// `npm run bench:latency`. It watches the engine from outside its code: how late its event loop
// runs (monitorEventLoopDelay), how busy it is (event-loop utilisation), what GC pauses cost, and
// how long each HTTP request it serves (runtimes' and its own) and each one it sends (its own SDK
// calls) takes, by operation. On SIGUSR2 it prints one `latency-probe {json}` line on stdout
// with what it saw since the last one, then starts over. No engine code knows it is there.
import { channel } from 'node:diagnostics_channel';
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
  served.add(
    operationOf(request.headers['x-amz-target'], request.headers.authorization, request.method, request.url),
    performance.now() - started,
  );
});

const clientStarts = new WeakMap();
channel('http.client.request.start').subscribe(({ request }) => clientStarts.set(request, performance.now()));
// Fires once the answer's headers are in: the time the call waited, not the SDK's parsing after it.
channel('http.client.response.finish').subscribe(({ request }) => {
  const started = clientStarts.get(request);
  if (started === undefined) return;
  sent.add(
    operationOf(request.getHeader('x-amz-target'), request.getHeader('authorization'), request.method, request.path),
    performance.now() - started,
  );
});

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(entry.duration);
}).observe({ entryTypes: ['gc'] });

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
    servedMs: served.summary(),
    engineCallsMs: sent.summary(),
  };
  process.stdout.write(`latency-probe ${JSON.stringify(report)}\n`);
  served = new Durations();
  sent = new Durations();
  gcPauses = [];
  loopDelay.reset();
  utilisation = performance.eventLoopUtilization();
  since = now;
});
