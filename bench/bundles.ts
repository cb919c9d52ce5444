// Bench: each Lambda handler bundled exactly as deployed (lib/bundling.ts), its size, and how
// long Node takes to load it: the import of the bundle in a fresh process, median of runs.
// This excludes the Lambda runtime's own start and the first invocation's client setup.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { ENGINE_HANDLERS, esbuildOptions, handlerEntry } from '../lib/bundling';
import { median } from './percentiles';

const run = promisify(execFile);

export interface BundleFigure {
  readonly bytes: number;
  /** Median of `initRuns` imports, ms. */
  readonly initMs: number;
  readonly initRunsMs: readonly number[];
}

/** Imports the bundle once in a fresh `node` and prints how long the import took. */
async function timeImport(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return Number(stdout);
}

export async function measureBundles(policyFile: string, initRuns = 5): Promise<Record<string, BundleFigure>> {
  const policyYaml = await readFile(policyFile, 'utf8');
  const outDir = await mkdtemp(join(tmpdir(), 'taskbound-bench-bundles-'));
  try {
    const figures: Record<string, BundleFigure> = {};
    for (const handler of ENGINE_HANDLERS) {
      const entry = handlerEntry(handler);
      if (!existsSync(entry)) continue;
      const outfile = join(outDir, `${handler}.mjs`);
      await build({ ...esbuildOptions(policyYaml), entryPoints: [entry], outfile, write: true, logLevel: 'silent' });
      const initRunsMs: number[] = [];
      for (let index = 0; index < initRuns; index++) initRunsMs.push(await timeImport(outfile));
      figures[handler] = { bytes: (await stat(outfile)).size, initMs: median(initRunsMs), initRunsMs };
    }
    return figures;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
