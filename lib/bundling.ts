// CDK build: how every handler is bundled. The CDK functions and the bench build from these
// same options, so the bundle measured is the bundle deployed.
import path from 'node:path';
import type { BuildOptions } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { parsePolicy } from '../lambdas/domain/policy-file';
import { ENTRY_POINTS } from '../lambdas/routes';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** Every Lambda entry point under lambdas/handlers/, one bundle each. */
export const ENGINE_HANDLERS = ENTRY_POINTS;
export type EngineHandler = (typeof ENGINE_HANDLERS)[number];

/** The repository root (this file lives in lib/). */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** The entry file of a handler. */
export function handlerEntry(handler: EngineHandler, root: string = PROJECT_ROOT): string {
  return path.join(root, 'lambdas', 'handlers', `${handler}.ts`);
}

/** Matches the Lambda runtime (NODEJS_24_X), so esbuild keeps native syntax. */
export const NODE_TARGET = 'node24';

/** ESM bundles still meet CommonJS dependencies (some of the SDK's) that call `require`. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __tbCreateRequire } from 'node:module'; const require = __tbCreateRequire(import.meta.url);";

/**
 * The policy is compiled into each bundle as its parsed document, version and file name, so a
 * Lambda reads no file at run time and carries no YAML parser (it validates the document again
 * with the same schema at cold start).
 */
const POLICY_DEFINE_KEY = 'process.env.TASKBOUND_POLICY';

/** What the bundle holds in place of the policy file. */
export function compiledPolicy(policyYaml: string, file = 'taskbound.policy.yaml'): string {
  const policy = parsePolicy(policyYaml, file);
  return JSON.stringify({ file: path.basename(file), policyVersion: policy.policyVersion, document: parseYaml(policyYaml) });
}

const MAIN_FIELDS = ['module', 'main'];

/** esbuild's own options (the bench calls esbuild with these plus an entry point). */
export function esbuildOptions(policyYaml: string): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'esm',
    mainFields: MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // Raw UTF-8 instead of \uXXXX escapes: zod's bundled locale messages shrink by a third.
    charset: 'utf8',
    // Nothing external: the SDK v3 clients are bundled and tree-shaken rather than taken from the runtime.
    external: [],
    define: { [POLICY_DEFINE_KEY]: JSON.stringify(compiledPolicy(policyYaml)) },
  };
}

/** The same build expressed as NodejsFunction bundling options (local esbuild, never Docker). */
export function cdkBundlingOptions(policyYaml: string): BundlingOptions {
  const options = esbuildOptions(policyYaml);
  return {
    format: OutputFormat.ESM,
    target: NODE_TARGET,
    mainFields: MAIN_FIELDS,
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    sourceMap: false,
    externalModules: [],
    define: options.define ?? {},
    // The `charset` bundling option is not passed on by aws-cdk-lib 2.276's local bundler; the flag is.
    esbuildArgs: { '--legal-comments': 'none', '--charset': 'utf8' },
    forceDockerBundling: false,
  };
}
