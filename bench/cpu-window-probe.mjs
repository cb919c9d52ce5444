// Bench (profiling): preloaded into the engine process (`node --import ./bench/cpu-window-probe.mjs`)
// by `npm run bench:suspension -- --prof DIR`. A CPU profile of one window only (`--cpu-prof` covers
// the whole life, where opening 1,000 grants drowns the suspension): the first SIGUSR2 starts
// V8's profiler on the main thread, the next writes `DIR/window-N.cpuprofile` (DIR from
// TASKBOUND_CPU_PROFILE_DIR) and stops it. No engine code knows it is there.
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const directory = process.env.TASKBOUND_CPU_PROFILE_DIR;
if (!directory) throw new Error('cpu-window-probe: TASKBOUND_CPU_PROFILE_DIR is not set');
const session = new Session();
session.connect();
let running = false;
let written = 0;
process.on('SIGUSR2', () => {
  void (async () => {
    if (!running) {
      running = true;
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
      await session.post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, `window-${++written}.cpuprofile`), JSON.stringify(profile));
    process.stdout.write(`cpu-window-probe wrote ${join(directory, `window-${written}.cpuprofile`)}\n`);
  })();
});
