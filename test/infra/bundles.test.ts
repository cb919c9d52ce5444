// Tests: each handler bundle, built with lib/bundling.ts exactly as CDK builds it, stays
// within its size budget and compiles the policy file in.
import { existsSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ENGINE_HANDLERS, ESM_REQUIRE_BANNER, esbuildOptions, handlerEntry, PROJECT_ROOT } from '../../lib/bundling';

/** Bytes of minified ESM per handler: the starting budget of 1 MB (MiB). */
const BUNDLE_BUDGET_BYTES = 1024 * 1024;
const policyYaml = readFileSync(`${PROJECT_ROOT}/examples/taskbound.policy.yaml`, 'utf8');

describe('handler bundles', () => {
  it('has an entry file for every handler the stack deploys', () => {
    expect(ENGINE_HANDLERS.filter((handler) => !existsSync(handlerEntry(handler)))).toEqual([]);
  });

  it.each(ENGINE_HANDLERS.filter((handler) => existsSync(handlerEntry(handler))))('%s stays under 1 MiB with the policy compiled in', async (handler) => {
    const result = await build({ ...esbuildOptions(policyYaml), entryPoints: [handlerEntry(handler)], write: false, logLevel: 'silent' });
    const [bundle] = result.outputFiles;
    expect(bundle?.contents.byteLength).toBeLessThan(BUNDLE_BUDGET_BYTES);
    expect(bundle?.text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(bundle?.text).not.toContain('process.env.TASKBOUND_POLICY');
  });
});
