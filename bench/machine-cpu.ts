// Bench: the shared machine's CPU time, to tell the engine's and the load generator's share of a
// measured window from other processes'.
import { readFile } from 'node:fs/promises';

/** The machine's CPU time so far, all cores (Linux /proc/stat; zeros elsewhere). */
export async function machineCpuMs(): Promise<{ busyMs: number; idleMs: number }> {
  try {
    const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const tick = 10; // USER_HZ is 100 on Linux
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const busy = fields.slice(0, 8).reduce((sum, value) => sum + value, 0) - idle;
    return { busyMs: busy * tick, idleMs: idle * tick };
  } catch {
    return { busyMs: 0, idleMs: 0 };
  }
}
