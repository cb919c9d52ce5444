// Bench (soak): preloaded into the engine process (`node --expose-gc --import ./bench/soak-heap-probe.mjs`).
// Every TASKBOUND_SOAK_SAMPLE_MS it runs a full garbage collection and prints the heap that
// survived it and the RSS, one `soak-memory {json}` line on stdout: the live set, not a reading
// that depends on when V8 last chose to collect. No engine code knows it is there.
import { setInterval } from 'node:timers';

const SAMPLE_MS = Number(process.env.TASKBOUND_SOAK_SAMPLE_MS ?? 5_000);
const collect = globalThis.gc;
if (!collect) throw new Error('the soak heap probe needs node --expose-gc');

setInterval(() => {
  collect();
  const memory = process.memoryUsage();
  process.stdout.write(`soak-memory ${JSON.stringify({ heapAfterGcBytes: memory.heapUsed, rssBytes: memory.rss })}\n`);
}, SAMPLE_MS).unref();
