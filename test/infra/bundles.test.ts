// Tests: each handler bundle, built with lib/bundling.ts exactly as CDK builds it, stays
// within its size budget and compiles the policy file in.
import { existsSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ENGINE_HANDLERS, ESM_REQUIRE_BANNER, esbuildOptions, handlerEntry, PROJECT_ROOT } from '../../lib/bundling';

/**
 * Bytes of minified ESM per handler: the team's standard of at most 0.9 MB (the issue started at
 * 1 MiB; they measure 0.54–0.76 MB since zod is imported as a namespace: bench/README.md).
 */
const BUNDLE_BUDGET_BYTES = 900_000;
const policyYaml = readFileSync(`${PROJECT_ROOT}/examples/taskbound.policy.yaml`, 'utf8');

describe('handler bundles', () => {
  it('has an entry file for every handler the stack deploys', () => {
    expect(ENGINE_HANDLERS.filter((handler) => !existsSync(handlerEntry(handler)))).toEqual([]);
  });

  it.each(ENGINE_HANDLERS.filter((handler) => existsSync(handlerEntry(handler))))(
    "%s stays under 0.9 MB with the policy compiled in, and carries only zod's English locale",
    async (handler) => {
      const result = await build({
        ...esbuildOptions(policyYaml),
        entryPoints: [handlerEntry(handler)],
        write: false,
        logLevel: 'silent',
        metafile: true,
      });
      const [bundle] = result.outputFiles;
      expect(bundle?.contents.byteLength).toBeLessThan(BUNDLE_BUDGET_BYTES);
      expect(bundle?.text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(bundle?.text).not.toContain('process.env.TASKBOUND_POLICY');
      // The scope lint and the Service Authorization Reference belong to synth, the CLI and the local engine.
      expect(Object.keys(result.metafile.inputs).filter((input) => /policy-lint|@cloud-copilot/.test(input))).toEqual([]);
      expect(bundle?.text).not.toContain('Service Authorization Reference');
      // An `import { z } from 'zod'` anywhere (ours or a dependency's) bundles every locale, ~190 KB.
      const bundled = Object.entries(Object.values(result.metafile.outputs)[0]?.inputs ?? {}).filter(
        ([, input]) => input.bytesInOutput > 0,
      );
      expect(bundled.map(([input]) => input).filter((input) => /zod\/v4\/locales\/(?!en\.js$)/.test(input))).toEqual([]);
      expect(bundled.map(([input]) => input).filter((input) => /zod\/v4\/locales\/en\.js$/.test(input))).toHaveLength(1);
    },
  );
});

describe('a bundled handler', () => {
  it('loads as ESM in a fresh node and fails fast, naming the configuration it lacks', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { execFile } = await import('node:child_process');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'taskbound-bundle-'));
    try {
      const result = await build({
        ...esbuildOptions(policyYaml),
        entryPoints: [handlerEntry('task-started')],
        write: false,
        logLevel: 'silent',
      });
      await writeFile(join(dir, 'index.mjs'), result.outputFiles[0]!.contents);
      const invoke = `const { handler } = await import('./index.mjs');
        try { await handler({ version: '0', id: '1', 'detail-type': 'Task Started', source: 's', account: '1', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: {} }, { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 }); console.log('no error'); }
        catch (error) { console.log(error.message); }`;
      const output = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--input-type=module', '-e', invoke],
          { cwd: dir, env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' } },
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        ),
      );
      expect(output).toMatch(/^invalid configuration: TABLE_NAME: .*EVENT_BUS_NAME/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
