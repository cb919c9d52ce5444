// Bench entry (`npm run bench:expiry -- --grants 20`): expiry lateness alone, as `npm run bench`
// measures it (the engine as its own process), plus the engine's own revocation times.
// `--in-process --probe-lead`: the engine in this process and probes every 10 ms from 100 ms
// before each expiry, as the bench measured it before (for before/after runs). `--no-probes`: no
// probe at all, the lateness read from the engine's own record only (with `--per-second 0`, a burst
// of expiries the probes cannot load). Writes bench/results/expiry.json (or --out).
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { parseArgs } = await import('node:util');
const { loadavg } = await import('node:os');
const { mkdir, writeFile } = await import('node:fs/promises');
const { dirname, join } = await import('node:path');
const { startEngineProcess } = await import('./engine-process');
const { startLocalEngine } = await import('../lambdas/local/engine');
const { BenchDriver } = await import('./driver');
const { EXPIRING_STARTS_PER_SECOND, issueExpiringGrants, measureExpiryLateness, revocationLatenessOf } = await import('./expiry');
const { describeMachine } = await import('./report');
const { realSleep: sleep } = await import('../lambdas/adapters/sleep');
const { ascending, nearestRank, round2 } = await import('./percentiles');

const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '20' },
    'in-process': { type: 'boolean', default: false },
    'probe-lead': { type: 'boolean', default: false },
    'no-probes': { type: 'boolean', default: false },
    // Expiring grants started a second (0: as fast as they issue, the burst that made the probes swamp the engine).
    'per-second': { type: 'string' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'expiry.json') },
  },
  strict: true,
});
const grants = Number(values.grants);
if (!Number.isInteger(grants) || grants < 2) throw new Error(`--grants must be an integer ≥ 2, not ${values.grants}`);
const perSecond = values['per-second'] === undefined ? EXPIRING_STARTS_PER_SECOND : Number(values['per-second']);
if (!Number.isInteger(perSecond) || perSecond < 0) throw new Error(`--per-second must be an integer ≥ 0, not ${values['per-second']}`);
/** Without probes, the run waits this long past the last expiry for the engine's revocations. */
const UNPROBED_MARGIN_MS = 5_000;
const policyFile = join(import.meta.dirname, 'bench.policy.yaml');
const machine = describeMachine();

const local = values['in-process']
  ? await startLocalEngine({ policyFile, port: 0, sweepIntervalMs: 0, print: () => undefined })
  : undefined;
const process_ = local ? undefined : await startEngineProcess(policyFile);
const url = local?.url ?? process_!.url;
const driver = new BenchDriver(url);
try {
  const expiring = await issueExpiringGrants(driver, grants, { perSecond });
  const probed = values['no-probes']
    ? await sleep(Math.max(...expiring.map((credential) => credential.delivery.expiresAtMs)) + UNPROBED_MARGIN_MS - Date.now()).then(
        () => undefined,
      )
    : await measureExpiryLateness(driver, expiring, values['probe-lead'] === true);
  if (process_) await process_.settled();
  else await local!.bus.idle();
  const figures = (samples: readonly number[]) => {
    const sorted = ascending(samples);
    return {
      count: sorted.length,
      p50: round2(nearestRank(sorted, 50)),
      p99: round2(nearestRank(sorted, 99)),
      max: round2(sorted.at(-1) ?? Number.NaN),
    };
  };
  const byKind = (samples: Readonly<Record<string, readonly number[]>>) =>
    Object.fromEntries(Object.entries(samples).map(([kind, list]) => [kind, figures(list)]));
  const result = {
    engine: local ? 'in this process' : 'its own process',
    probeLead: values['probe-lead'] === true,
    probed: probed !== undefined,
    startedPerSecond: perSecond,
    grants: expiring.length,
    ...(probed
      ? {
          aliveBeforeExpiry: probed.aliveBeforeExpiry,
          latenessMs: figures(probed.latenessMs),
          byKind: byKind(probed.byKind),
          rejectionCodes: probed.rejectionCodes,
        }
      : {}),
    engineRevokedByKind: byKind(await revocationLatenessOf(url)),
    machine,
    loadAverage1mAtEnd: round2(loadavg()[0] ?? 0),
  };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  driver.close();
  if (local) {
    await local.bus.idle();
    await local.stop();
  }
  await process_?.stop();
}
