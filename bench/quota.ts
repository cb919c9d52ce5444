// Bench entry (`npm run bench:quota`): the quota simulation. Flags: --scale 0.2 (fraction of the
// documented quotas), --overload 10, --seconds 6 (the minute is --seconds 60 --scale 1,
// which needs far more than a 2-core machine), --victims 40, --kill-every-ms 250, --reserved-concurrency 10,20
// (the engine's per-function limits, the stack's default; `off` runs every delivery at once, as before session 4).
// Writes bench/results/quota.json and prints it.
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { parseArgs } = await import('node:util');
const { writeFile } = await import('node:fs/promises');
const { runQuotaSimulation, DEFAULT_QUOTA_SIMULATION } = await import('./quota-simulation');

const { values } = parseArgs({
  options: {
    scale: { type: 'string' },
    overload: { type: 'string' },
    seconds: { type: 'string' },
    victims: { type: 'string' },
    'kill-every-ms': { type: 'string' },
    'reserved-concurrency': { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});
const number = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`--${name} must be a positive number, not ${text}`);
  return value;
};
/** `<issuing>,<revoking>` or `off`; absent: the engine's default (the stack's). */
const reservedConcurrency = (text: string | undefined) => {
  if (text === undefined) return {};
  if (text === 'off') return { reservedConcurrency: false as const };
  const [issuing, revoking] = text.split(',').map((part) => Math.round(number('reserved-concurrency', part, Number.NaN)));
  return { reservedConcurrency: { issuing: issuing!, revoking: revoking! } };
};
const options = {
  scale: number('scale', values.scale, DEFAULT_QUOTA_SIMULATION.scale),
  overload: number('overload', values.overload, DEFAULT_QUOTA_SIMULATION.overload),
  seconds: number('seconds', values.seconds, DEFAULT_QUOTA_SIMULATION.seconds),
  victims: Math.round(number('victims', values.victims, DEFAULT_QUOTA_SIMULATION.victims)),
  killEveryMs: number('kill-every-ms', values['kill-every-ms'], DEFAULT_QUOTA_SIMULATION.killEveryMs),
  ...reservedConcurrency(values['reserved-concurrency']),
};
const started = Date.now();
const result = await runQuotaSimulation(options);
const out = values.out ?? 'bench/results/quota.json';
await writeFile(out, `${JSON.stringify({ ...result, wallSeconds: Math.round((Date.now() - started) / 1000) }, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
const healthy =
  result.lostGrants === 0 &&
  result.deniedOrFailed === 0 &&
  result.leftAlive.grantsNotVerified === 0 &&
  result.leftAlive.deliverySecrets === 0;
process.exitCode = healthy ? 0 : 1;
