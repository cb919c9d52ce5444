// Bench entry (`npm run bench:sweep`): only the sweep figure, at any size. Flags: --grants 100000
// (active grants seeded), --due 100 (of them past expiry). Writes bench/results/sweep-<grants>.json.
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { parseArgs } = await import('node:util');
const { writeFile } = await import('node:fs/promises');
const { dirname, join } = await import('node:path');
const { fileURLToPath } = await import('node:url');
const { startLocalEngine } = await import('../lambdas/local/engine');
const { HttpCallCounter } = await import('./http-calls');
const { measureSweep } = await import('./sweep');
const { describeMachine } = await import('./report');

const { values } = parseArgs({
  options: { grants: { type: 'string', default: '100000' }, due: { type: 'string', default: '100' } },
  strict: true,
});
const grants = Number(values.grants);
const due = Number(values.due);
if (!Number.isInteger(grants) || grants < 1 || !Number.isInteger(due) || due < 0 || due > grants)
  throw new Error('--grants and --due must be integers, 0 <= due <= grants');

const benchDir = dirname(fileURLToPath(import.meta.url));
const machine = describeMachine();
const http = new HttpCallCounter().start();
const engine = await startLocalEngine({
  policyFile: join(benchDir, 'bench.policy.yaml'),
  port: 0,
  sweepIntervalMs: 0,
  print: () => undefined,
});
try {
  const run = await measureSweep(engine, http, { activeGrants: grants, dueGrants: due, seedConcurrency: 50 });
  const result = {
    machine,
    activeGrants: run.activeGrants,
    dueGrants: run.report.dueGrants,
    itemsRead: run.report.itemsRead,
    ms: Math.round(run.ms),
    sdkCalls: run.sdkCalls,
    seedMs: Math.round(run.seedMs),
    idle: { itemsRead: run.idle.report.itemsRead, ms: Math.round(run.idle.ms) },
    report: run.report,
  };
  await writeFile(join(benchDir, 'results', `sweep-${grants}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await engine.bus.idle();
  await engine.stop();
}
